import Foundation

/// One application instance (CloneSet), as a decider over the `instance-<namespace>/<name>` stream.
/// It serialises releases (at most one active flow) and remembers the successful releases' app specs so
/// a rollback can name an earlier successful flow.
public enum Instance: Decider {
    public typealias Rejection = DomainRejection

    /// A command and who/when/why it was issued.
    public struct Command: Sendable, Equatable {
        /// What is asked for.
        public enum Kind: Sendable, Equatable {
            /// A flow wants to start on the instance. `appSpec` is what it rolls out (for rollback the
            /// runner takes it from `State.rollbackTarget`); `rollbackTo` names the flow rolled back to.
            case beginFlow(flowID: FlowID, instance: InstanceRef, action: Action, appSpec: AppSpec?, rollbackTo: FlowID?)
            /// The active flow finished with `outcome` (a terminal phase).
            case endFlow(flowID: FlowID, outcome: FlowPhase)
            /// Delete the instance's CloneSet, the object with `workloadUID` (its pods go with it). Refused
            /// while a flow is active; asking again while a deletion is pending changes nothing.
            case requestDeletion(instance: InstanceRef, workloadUID: String)
            /// The executor deleted the CloneSet (or found it gone). Recording it twice is harmless.
            case recordDeletion
        }

        public var kind: Kind
        public var metadata: EventMetadata

        public init(_ kind: Kind, metadata: EventMetadata) {
            self.kind = kind
            self.metadata = metadata
        }
    }

    /// A fact in an instance stream.
    public enum Event: Sendable, Equatable {
        case flowBegan(FlowBegan)
        case flowEnded(FlowEnded)
        case deletionRequested(DeletionRequested)
        case deleted(Deleted)
    }

    /// Someone asked to delete the instance's CloneSet (who and why are in the event's metadata). The
    /// executor deletes it, then records ``Deleted``.
    public struct DeletionRequested: InstanceEventPayload {
        public static let typeName = "InstanceDeletionRequested"
        public var instance: InstanceRef
        /// The CloneSet's `metadata.uid` when deletion was asked for: the executor deletes only that object,
        /// never a CloneSet created under the same name afterwards.
        public var workloadUID: String
        public var at: Date
        public init(instance: InstanceRef, workloadUID: String, at: Date) {
            self.instance = instance
            self.workloadUID = workloadUID
            self.at = at
        }
        public var event: Event { .deletionRequested(self) }
    }

    /// The CloneSet is deleted (the garbage collector removes its pods).
    public struct Deleted: InstanceEventPayload {
        public static let typeName = "InstanceDeleted"
        public var at: Date
        public init(at: Date) { self.at = at }
        public var event: Event { .deleted(self) }
    }

    /// The deletion of the instance's CloneSet.
    public struct Deletion: Sendable, Hashable, Codable {
        public var workloadUID: String
        public var requestedAt: Date
        /// `nil` until the executor deleted it.
        public var deletedAt: Date?
    }

    /// A flow became the instance's active flow.
    public struct FlowBegan: InstanceEventPayload {
        public static let typeName = "FlowBegan"
        public var flowID: FlowID
        public var instance: InstanceRef
        public var action: Action
        public var appSpec: AppSpec?
        public var rollbackTo: FlowID?
        public var at: Date
        public init(flowID: FlowID, instance: InstanceRef, action: Action, appSpec: AppSpec?, rollbackTo: FlowID?, at: Date) {
            self.flowID = flowID
            self.instance = instance
            self.action = action
            self.appSpec = appSpec
            self.rollbackTo = rollbackTo
            self.at = at
        }
        public var event: Event { .flowBegan(self) }
    }

    /// The active flow ended.
    public struct FlowEnded: InstanceEventPayload {
        public static let typeName = "FlowEnded"
        public var flowID: FlowID
        public var outcome: FlowPhase
        public var at: Date
        public init(flowID: FlowID, outcome: FlowPhase, at: Date) {
            self.flowID = flowID
            self.outcome = outcome
            self.at = at
        }
        public var event: Event { .flowEnded(self) }
    }

    /// A flow that ran (or runs) on the instance.
    public struct Release: Sendable, Hashable, Codable {
        public var flowID: FlowID
        public var action: Action
        public var appSpec: AppSpec?
        public var rollbackTo: FlowID?
        public var beganAt: Date
        /// `nil` while active.
        public var outcome: FlowPhase?
        public var endedAt: Date?
    }

    /// The instance's flows: the active one and the history.
    public struct State: Sendable, Equatable, Codable {
        /// The instance, once a flow began.
        public var instance: InstanceRef?
        /// Every flow, oldest first; the last one may be active.
        public var releases: [Release] = []
        /// The latest deletion, until a flow begins on the instance again.
        public var deletion: Deletion?
        public init() {}

        /// A deletion asked for and not yet carried out.
        public var pendingDeletion: Deletion? { self.deletion.flatMap { $0.deletedAt == nil ? $0 : nil } }

        /// The flow running now, if any.
        public var activeFlow: Release? { self.releases.last.flatMap { $0.outcome == nil ? $0 : nil } }
        /// The app spec of the latest successful create / update / rollback: what the instance runs.
        public var currentAppSpec: AppSpec? {
            self.releases.last { $0.outcome == .success && $0.action.changesRevision && $0.appSpec != nil }?.appSpec
        }
        /// The release with this id.
        public func release(_ id: FlowID) -> Release? { self.releases.first { $0.flowID == id } }

        /// The app spec a rollback to `id` rolls out, or why it cannot.
        public func rollbackTarget(_ id: FlowID) throws(DomainRejection) -> AppSpec {
            let name = self.instance.map { "\($0)" } ?? "the instance"
            guard let release = self.release(id) else {
                throw DomainRejection(.unknownFlow, field: "rollbackTo", "\(name) has no flow \(id)")
            }
            guard release.outcome == .success else {
                let outcome = release.outcome?.rawValue ?? "still active"
                throw DomainRejection(
                    .flowNotRollbackable, field: "rollbackTo", "flow \(id) did not succeed (\(outcome)); pick a successful flow"
                )
            }
            guard release.action.changesRevision, let spec = release.appSpec else {
                throw DomainRejection(
                    .flowNotRollbackable, field: "rollbackTo",
                    "flow \(id) was a \(release.action.rawValue); it has no template to roll back to"
                )
            }
            return spec
        }
    }

    public static let initialState = State()

    public static func decide(_ command: Command, _ state: State) throws(DomainRejection) -> [Event] {
        let at = command.metadata.time
        switch command.kind {
        case .beginFlow(let flowID, let instance, let action, let appSpec, let rollbackTo):
            if let active = state.activeFlow {
                throw DomainRejection(
                    .activeFlowExists,
                    "instance \(instance) already has an active flow \(active.flowID) (\(active.action.rawValue))"
                )
            }
            if state.pendingDeletion != nil {
                throw DomainRejection(.instanceDeleting, field: "instance", "instance \(instance) is being deleted")
            }
            if state.release(flowID) != nil {
                throw DomainRejection(.alreadyExists, field: "flowID", "flow \(flowID) already ran on \(instance)")
            }
            if let known = state.instance, known != instance {
                throw .invalid("instance", "this stream belongs to \(known), not \(instance)")
            }
            if action.changesRevision, appSpec == nil {
                throw .invalid("appSpec", "\(action.rawValue) needs the app spec it rolls out")
            }
            switch (action, rollbackTo) {
            case (.rollback, nil):
                throw .invalid("rollbackTo", "rollback needs the earlier successful flow to roll back to")
            case (.rollback, let target?):
                _ = try state.rollbackTarget(target)
            case (_, .some):
                throw .invalid("rollbackTo", "rollbackTo applies to rollback only")
            case (_, nil):
                break
            }
            return [
                .flowBegan(
                    FlowBegan(
                        flowID: flowID, instance: instance, action: action, appSpec: appSpec, rollbackTo: rollbackTo,
                        at: at))
            ]
        case .endFlow(let flowID, let outcome):
            guard let active = state.activeFlow, active.flowID == flowID else {
                throw DomainRejection(.notActiveFlow, field: "flowID", "flow \(flowID) is not the active flow")
            }
            guard outcome.isTerminal else {
                throw .invalid("outcome", "\(outcome.rawValue) is not a final phase")
            }
            return [.flowEnded(FlowEnded(flowID: flowID, outcome: outcome, at: at))]
        case .requestDeletion(let instance, let workloadUID):
            if let known = state.instance, known != instance {
                throw .invalid("instance", "this stream belongs to \(known), not \(instance)")
            }
            if let active = state.activeFlow {
                throw DomainRejection(
                    .activeFlowExists, field: "instance",
                    "instance \(instance) has an active flow \(active.flowID) (\(active.action.rawValue)); cancel it or wait for it first"
                )
            }
            guard !workloadUID.isEmpty else { throw .invalid("workloadUID", "name the CloneSet (its uid) to delete") }
            if state.pendingDeletion != nil { return [] }
            return [.deletionRequested(DeletionRequested(instance: instance, workloadUID: workloadUID, at: at))]
        case .recordDeletion:
            guard state.pendingDeletion != nil else { return [] }
            return [.deleted(Deleted(at: at))]
        }
    }

    public static func evolve(_ state: State, _ event: Event) -> State {
        var state = state
        switch event {
        case .flowBegan(let e):
            state.instance = e.instance
            state.deletion = nil
            state.releases.append(
                Release(flowID: e.flowID, action: e.action, appSpec: e.appSpec, rollbackTo: e.rollbackTo, beganAt: e.at)
            )
        case .flowEnded(let e):
            if let index = state.releases.lastIndex(where: { $0.flowID == e.flowID }) {
                state.releases[index].outcome = e.outcome
                state.releases[index].endedAt = e.at
            }
        case .deletionRequested(let e):
            state.instance = e.instance
            state.deletion = Deletion(workloadUID: e.workloadUID, requestedAt: e.at)
        case .deleted(let e):
            state.deletion?.deletedAt = e.at
        }
        return state
    }
}

/// An Instance event payload that knows its `Event` case.
public protocol InstanceEventPayload: EventPayload {
    var event: Instance.Event { get }
}

extension Instance.Event: Codable, TaggedEvent {
    public static let payloadTypes: [any EventPayload.Type] = [
        Instance.FlowBegan.self, Instance.FlowEnded.self, Instance.DeletionRequested.self, Instance.Deleted.self,
    ]

    public var payload: any InstanceEventPayload {
        switch self {
        case .flowBegan(let p): p
        case .flowEnded(let p): p
        case .deletionRequested(let p): p
        case .deleted(let p): p
        }
    }

    public var erasedPayload: any EventPayload { self.payload }

    public static func wrap(_ payload: any EventPayload) -> Instance.Event? {
        (payload as? any InstanceEventPayload)?.event
    }

    public init(from decoder: any Decoder) throws { self = try Self.decodeTagged(from: decoder) }

    public func encode(to encoder: any Encoder) throws { try self.encodeTagged(to: encoder) }
}
