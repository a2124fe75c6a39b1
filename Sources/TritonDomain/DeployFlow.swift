import Foundation

/// One release action on one application instance, as a decider over the `deployflow-<id>` stream.
///
/// Commands come from people (create, pause, resume, cancel, next, continue), the observer (pod and
/// workload observations), the timer worker (`timerFired`) and the executor (`mutationApplied`). Every
/// command carries its `EventMetadata`; its `time` is the only clock the flow sees.
public enum DeployFlow: Decider {
    public typealias Rejection = DomainRejection

    /// A command and who/when/why it was issued.
    public struct Command: Sendable, Equatable {
        /// What is asked for or reported.
        public enum Kind: Sendable, Equatable {
            /// Create the flow (validated; see `CreateFlow`).
            case create(CreateFlow)
            /// Stop making progress until `resume`.
            case pause
            /// Continue after `pause`.
            case resume
            /// Stop the flow for good (Canceled).
            case cancel
            /// Manual mode: pull a stopped Smoked batch in, or start the batch after a stopped Baked one.
            case next
            /// Run on without stopping until batch `batch` (1-based) is Baked.
            case continueTo(batch: Int)
            /// The observer saw a pod of the instance.
            case observePod(PodObservation)
            /// The observer saw the CloneSet.
            case observeWorkload(WorkloadObservation)
            /// The timer worker reports a due timer.
            case timerFired(id: String)
            /// The executor applied a Kubernetes mutation.
            case mutationApplied(key: String, kind: MutationKind, resourceVersion: String?)
            /// An admin overrides `rule` for the flow: it becomes an emergency change (see `Emergency`).
            case declareEmergency(rule: String, justification: String, by: String)
            /// An approver reviews the flow's emergency change (allowed on a finished flow too).
            case reviewEmergency(by: String, note: String)
        }

        public var kind: Kind
        public var metadata: EventMetadata

        public init(_ kind: Kind, metadata: EventMetadata) {
            self.kind = kind
            self.metadata = metadata
        }
    }

    /// The data of a `create` command.
    public struct CreateFlow: Sendable, Hashable, Codable {
        public var flowID: FlowID
        public var instance: InstanceRef
        public var action: Action
        /// The application and, for rollback, the template being rolled back to.
        public var appSpec: AppSpec
        /// Replicas of the instance now (0 for create).
        public var currentReplicas: Int
        /// Replicas when the flow is done (equal to `currentReplicas` for update, rollback and restart).
        public var targetReplicas: Int
        /// Names of the instance's pods now.
        public var existingPods: [String]
        public var strategy: Strategy
        /// Rollback: the earlier successful flow whose template is rolled back to.
        public var rollbackTo: FlowID?

        public init(
            flowID: FlowID, instance: InstanceRef, action: Action, appSpec: AppSpec, currentReplicas: Int,
            targetReplicas: Int, existingPods: [String] = [], strategy: Strategy = Strategy(), rollbackTo: FlowID? = nil
        ) {
            self.flowID = flowID
            self.instance = instance
            self.action = action
            self.appSpec = appSpec
            self.currentReplicas = currentReplicas
            self.targetReplicas = targetReplicas
            self.existingPods = existingPods
            self.strategy = strategy
            self.rollbackTo = rollbackTo
        }
    }

    public static let initialState = State()
}
