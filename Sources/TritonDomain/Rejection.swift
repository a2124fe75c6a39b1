/// Why a command was refused: a machine `code`, the offending `field` (if any) and a `reason` a person
/// understands. Shared by every decider in this module.
public struct DomainRejection: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// Machine-readable rejection codes.
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        /// A command field is invalid (see `field`).
        case invalidField
        /// The flow (or flow id) already exists.
        case alreadyExists
        /// The flow has not been created.
        case notCreated
        /// The flow is finished (Success, Failed, Aborted or Canceled).
        case flowFinished
        /// The flow is paused.
        case paused
        /// `resume` on a flow that is not paused.
        case notPaused
        /// `next` while nothing waits for it.
        case nothingToAdvance
        /// A batch number outside the plan, or one already finished.
        case invalidBatch
        /// The action has nothing to do (no pods to process).
        case nothingToDo
        /// The instance already has an active flow.
        case activeFlowExists
        /// The named flow is not known to the instance.
        case unknownFlow
        /// The named flow did not succeed (or carries no template) and cannot be rolled back to.
        case flowNotRollbackable
        /// The flow ended is not the instance's active flow.
        case notActiveFlow
        /// The instance's CloneSet is being deleted.
        case instanceDeleting
        /// `review` on a flow that is not an emergency change.
        case notEmergency
        /// `review` on an emergency change that was reviewed already.
        case alreadyReviewed
    }

    public var code: Code
    public var field: String?
    public var reason: String

    public init(_ code: Code, field: String? = nil, _ reason: String) {
        self.code = code
        self.field = field
        self.reason = reason
    }

    /// Shorthand for an `invalidField` rejection.
    public static func invalid(_ field: String, _ reason: String) -> DomainRejection {
        DomainRejection(.invalidField, field: field, reason)
    }

    public var description: String {
        if let field = self.field { return "\(field): \(self.reason)" }
        return self.reason
    }
}
