import Foundation

extension DeployFlow {
    /// A fact in a DeployFlow stream. Each case wraps an explicit payload struct whose `typeName` and
    /// fields are the storage schema (see `EventCodec.swift`). Batch numbers are 1-based.
    public enum Event: Sendable, Equatable {
        case flowCreated(FlowCreated)
        case flowInitializing(FlowInitializing)
        case workloadObserved(WorkloadObserved)
        case podObserved(PodObserved)
        case podAssigned(PodAssigned)
        case batchStarted(BatchStarted)
        case batchPhaseChanged(BatchPhaseChanged)
        case pullOutStarted(PullOutStarted)
        case deletionRequested(DeletionRequested)
        case batchFinished(BatchFinished)
        case timerScheduled(TimerScheduled)
        case timerFired(TimerFired)
        case timerCanceled(TimerCanceled)
        case mutationApplied(MutationApplied)
        case paused(Paused)
        case resumed(Resumed)
        case nextRequested(NextRequested)
        case continueRequested(ContinueRequested)
        case canceled(Canceled)
        case flowSucceeded(FlowSucceeded)
        case flowFailed(FlowFailed)
        case flowAborted(FlowAborted)
        case emergencyDeclared(EmergencyDeclared)
        case emergencyReviewed(EmergencyReviewed)
    }

    /// The flow was created (phase Pending) with its validated spec and its batch plan.
    public struct FlowCreated: DeployFlowEventPayload {
        public static let typeName = "FlowCreated"
        public var flowID: FlowID
        public var instance: InstanceRef
        public var action: Action
        public var appSpec: AppSpec
        public var strategy: Strategy
        public var currentReplicas: Int
        public var targetReplicas: Int
        public var existingPods: [String]
        /// scaleIn / restart: the pods the flow will remove, in batch order.
        public var podsToRemove: [String]
        public var rollbackTo: FlowID?
        public var plan: BatchPlan
        public var at: Date

        public init(
            flowID: FlowID, instance: InstanceRef, action: Action, appSpec: AppSpec, strategy: Strategy,
            currentReplicas: Int, targetReplicas: Int, existingPods: [String], podsToRemove: [String],
            rollbackTo: FlowID?, plan: BatchPlan, at: Date
        ) {
            self.flowID = flowID
            self.instance = instance
            self.action = action
            self.appSpec = appSpec
            self.strategy = strategy
            self.currentReplicas = currentReplicas
            self.targetReplicas = targetReplicas
            self.existingPods = existingPods
            self.podsToRemove = podsToRemove
            self.rollbackTo = rollbackTo
            self.plan = plan
            self.at = at
        }
        public var event: Event { .flowCreated(self) }
    }

    /// The workload was first observed: the executor now prepares it (phase Initializing).
    public struct FlowInitializing: DeployFlowEventPayload {
        public static let typeName = "FlowInitializing"
        public var at: Date
        public init(at: Date) { self.at = at }
        public var event: Event { .flowInitializing(self) }
    }

    /// The CloneSet changed in a way that matters to the flow.
    public struct WorkloadObserved: DeployFlowEventPayload {
        public static let typeName = "WorkloadObserved"
        public var workload: WorkloadObservation
        public var at: Date
        public init(workload: WorkloadObservation, at: Date) {
            self.workload = workload
            self.at = at
        }
        public var event: Event { .workloadObserved(self) }
    }

    /// A pod of the instance changed in a way that matters to the flow.
    public struct PodObserved: DeployFlowEventPayload {
        public static let typeName = "PodObserved"
        public var pod: PodObservation
        public var at: Date
        public init(pod: PodObservation, at: Date) {
            self.pod = pod
            self.at = at
        }
        public var event: Event { .podObserved(self) }
    }

    /// A new pod of the target revision was counted into a batch.
    public struct PodAssigned: DeployFlowEventPayload {
        public static let typeName = "PodAssigned"
        public var pod: String
        public var batch: Int
        public var at: Date
        public init(pod: String, batch: Int, at: Date) {
            self.pod = pod
            self.batch = batch
            self.at = at
        }
        public var event: Event { .podAssigned(self) }
    }

    /// A batch started (flow phase BatchStarted, batch phase Pending).
    public struct BatchStarted: DeployFlowEventPayload {
        public static let typeName = "BatchStarted"
        public var batch: Int
        public var at: Date
        public init(batch: Int, at: Date) {
            self.batch = batch
            self.at = at
        }
        public var event: Event { .batchStarted(self) }
    }

    /// A batch moved to another phase. Moving to Baking is the decision to pull its pods into traffic.
    public struct BatchPhaseChanged: DeployFlowEventPayload {
        public static let typeName = "BatchPhaseChanged"
        public var batch: Int
        public var from: BatchPhase
        public var to: BatchPhase
        /// Why, for SmokeFailed / BakeFailed.
        public var reason: String?
        public var at: Date
        public init(batch: Int, from: BatchPhase, to: BatchPhase, reason: String? = nil, at: Date) {
            self.batch = batch
            self.from = from
            self.to = to
            self.reason = reason
            self.at = at
        }
        public var event: Event { .batchPhaseChanged(self) }
    }

    /// scaleIn / restart: the batch's pods to remove are to be pulled out of traffic (gate False).
    public struct PullOutStarted: DeployFlowEventPayload {
        public static let typeName = "PullOutStarted"
        public var batch: Int
        public var pods: [String]
        public var at: Date
        public init(batch: Int, pods: [String], at: Date) {
            self.batch = batch
            self.pods = pods
            self.at = at
        }
        public var event: Event { .pullOutStarted(self) }
    }

    /// scaleIn / restart: the pulled-out pods may now be deleted.
    public struct DeletionRequested: DeployFlowEventPayload {
        public static let typeName = "DeletionRequested"
        public var batch: Int
        public var pods: [String]
        public var at: Date
        public init(batch: Int, pods: [String], at: Date) {
            self.batch = batch
            self.pods = pods
            self.at = at
        }
        public var event: Event { .deletionRequested(self) }
    }

    /// A batch is complete: Baked, and its removed pods (if any) are gone (flow phase BatchFinished).
    public struct BatchFinished: DeployFlowEventPayload {
        public static let typeName = "BatchFinished"
        public var batch: Int
        public var at: Date
        public init(batch: Int, at: Date) {
            self.batch = batch
            self.at = at
        }
        public var event: Event { .batchFinished(self) }
    }

    /// A timer is due at `dueAt`; the timer worker reports it with `timerFired(id)`.
    public struct TimerScheduled: DeployFlowEventPayload {
        public static let typeName = "TimerScheduled"
        public var id: String
        public var kind: TimerKind
        public var batch: Int
        public var dueAt: Date
        public var at: Date
        public init(id: String, kind: TimerKind, batch: Int, dueAt: Date, at: Date) {
            self.id = id
            self.kind = kind
            self.batch = batch
            self.dueAt = dueAt
            self.at = at
        }
        public var event: Event { .timerScheduled(self) }
    }

    /// A pending timer fired.
    public struct TimerFired: DeployFlowEventPayload {
        public static let typeName = "TimerFired"
        public var id: String
        public var at: Date
        public init(id: String, at: Date) {
            self.id = id
            self.at = at
        }
        public var event: Event { .timerFired(self) }
    }

    /// A pending timer no longer matters (batch Smoked, flow paused or finished); the worker drops it.
    public struct TimerCanceled: DeployFlowEventPayload {
        public static let typeName = "TimerCanceled"
        public var id: String
        public var at: Date
        public init(id: String, at: Date) {
            self.id = id
            self.at = at
        }
        public var event: Event { .timerCanceled(self) }
    }

    /// The executor applied a Kubernetes mutation (recorded once per key).
    public struct MutationApplied: DeployFlowEventPayload {
        public static let typeName = "MutationApplied"
        public var key: String
        public var kind: MutationKind
        public var resourceVersion: String?
        public var at: Date
        public init(key: String, kind: MutationKind, resourceVersion: String?, at: Date) {
            self.key = key
            self.kind = kind
            self.resourceVersion = resourceVersion
            self.at = at
        }
        public var event: Event { .mutationApplied(self) }
    }

    /// The flow was paused.
    public struct Paused: DeployFlowEventPayload {
        public static let typeName = "Paused"
        public var at: Date
        public init(at: Date) { self.at = at }
        public var event: Event { .paused(self) }
    }

    /// The flow was resumed.
    public struct Resumed: DeployFlowEventPayload {
        public static let typeName = "Resumed"
        public var at: Date
        public init(at: Date) { self.at = at }
        public var event: Event { .resumed(self) }
    }

    /// What a `next` did.
    public enum NextStep: String, Sendable, Hashable, Codable, CaseIterable {
        /// Pulled a stopped Smoked batch in (→ Baking).
        case pullIn
        /// Started the batch after a stopped, finished one.
        case startBatch
    }

    /// Someone approved the next step (the audit record of who promoted a canary).
    public struct NextRequested: DeployFlowEventPayload {
        public static let typeName = "NextRequested"
        /// The batch the step applies to (the one pulled in, or the one started).
        public var batch: Int
        public var step: NextStep
        public var at: Date
        public init(batch: Int, step: NextStep, at: Date) {
            self.batch = batch
            self.step = step
            self.at = at
        }
        public var event: Event { .nextRequested(self) }
    }

    /// Someone asked the flow to run on, without stopping, until batch `batch` is Baked.
    public struct ContinueRequested: DeployFlowEventPayload {
        public static let typeName = "ContinueRequested"
        public var batch: Int
        public var at: Date
        public init(batch: Int, at: Date) {
            self.batch = batch
            self.at = at
        }
        public var event: Event { .continueRequested(self) }
    }

    /// The flow was canceled (terminal).
    public struct Canceled: DeployFlowEventPayload {
        public static let typeName = "Canceled"
        public var at: Date
        public init(at: Date) { self.at = at }
        public var event: Event { .canceled(self) }
    }

    /// Every batch finished and the workload reached its target (terminal).
    public struct FlowSucceeded: DeployFlowEventPayload {
        public static let typeName = "FlowSucceeded"
        public var at: Date
        public init(at: Date) { self.at = at }
        public var event: Event { .flowSucceeded(self) }
    }

    /// A batch failed (terminal); later batches never start.
    public struct FlowFailed: DeployFlowEventPayload {
        public static let typeName = "FlowFailed"
        public var batch: Int?
        public var reason: String
        public var at: Date
        public init(batch: Int?, reason: String, at: Date) {
            self.batch = batch
            self.reason = reason
            self.at = at
        }
        public var event: Event { .flowFailed(self) }
    }

    /// The flow cannot go on because the workload is missing (terminal).
    public struct FlowAborted: DeployFlowEventPayload {
        public static let typeName = "FlowAborted"
        public var reason: String
        public var at: Date
        public init(reason: String, at: Date) {
            self.reason = reason
            self.at = at
        }
        public var event: Event { .flowAborted(self) }
    }
}

extension DeployFlow {
    /// An admin overrode a rule (four-eyes) for this flow: the flow is an emergency change from now on,
    /// with a mandatory justification, until another approver reviews it.
    public struct EmergencyDeclared: DeployFlowEventPayload {
        public static let typeName = "EmergencyDeclared"
        /// The rule overridden, e.g. `four-eyes`.
        public var rule: String
        public var justification: String
        /// Who overrode it (the authenticated principal).
        public var by: String
        public var at: Date
        public init(rule: String, justification: String, by: String, at: Date) {
            self.rule = rule
            self.justification = justification
            self.by = by
            self.at = at
        }
        public var event: Event { .emergencyDeclared(self) }
    }

    /// An approver other than the one who declared it reviewed the emergency change (also after the flow
    /// finished).
    public struct EmergencyReviewed: DeployFlowEventPayload {
        public static let typeName = "EmergencyReviewed"
        public var by: String
        public var note: String
        public var at: Date
        public init(by: String, note: String, at: Date) {
            self.by = by
            self.note = note
            self.at = at
        }
        public var event: Event { .emergencyReviewed(self) }
    }
}

/// An event payload with a stable type name.
public protocol EventPayload: Sendable, Equatable, Codable {
    /// The stored event type, e.g. `"BatchStarted"`.
    static var typeName: String { get }
}

/// A DeployFlow event payload that knows its `Event` case.
public protocol DeployFlowEventPayload: EventPayload {
    /// The payload wrapped in its `DeployFlow.Event` case.
    var event: DeployFlow.Event { get }
}
