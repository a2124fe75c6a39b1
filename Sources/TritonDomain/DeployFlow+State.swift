import Foundation

extension DeployFlow {
    /// What the executor, the projections and the UI need to know about a flow, folded from its events.
    public struct State: Sendable, Equatable, Codable {
        /// The validated creation data; `nil` before `FlowCreated`.
        public var spec: Spec?
        public var phase: FlowPhase = .pending
        public var paused = false
        public var plan: BatchPlan = .empty
        /// One entry per planned batch, in order.
        public var batches: [BatchState] = []
        /// The 1-based number of the batch started last; `0` before the first batch.
        public var currentBatch = 0
        /// `continueTo(batch:)`: run on without stopping until this batch is Baked.
        public var continueTarget: Int?
        /// The latest workload observation.
        public var workload: WorkloadObservation?
        /// The latest observation of each existing pod of the instance, in order of first observation.
        public var pods: [PodObservation] = []
        /// The executor has prepared the workload (a `prepareWorkload` mutation was applied).
        public var workloadPrepared = false
        /// Scheduled timers that have neither fired nor been canceled, in scheduling order.
        public var pendingTimers: [PendingTimer] = []
        /// Timers scheduled so far (used to make unique timer ids).
        public var timerSequence = 0
        /// Keys of the mutations the executor applied.
        public var appliedMutations: Set<String> = []
        public var createdAt: Date?
        /// When the first batch started.
        public var startedAt: Date?
        public var finishedAt: Date?
        /// When the last event happened.
        public var updatedAt: Date?
        /// Why the flow failed or was aborted.
        public var failureReason: String?
        /// Set when an admin overrode a rule for the flow (an emergency change).
        public var emergency: Emergency?

        public init() {}

        /// The flow exists.
        public var isCreated: Bool { self.spec != nil }
        /// Success, Failed, Aborted or Canceled.
        public var isFinished: Bool { self.isCreated && self.phase.isTerminal }
        /// The batch started last, if any.
        public var current: BatchState? {
            self.currentBatch >= 1 && self.currentBatch <= self.batches.count ? self.batches[self.currentBatch - 1] : nil
        }
        /// Batches that are finished.
        public var finishedBatches: Int { self.batches.filter(\.isFinished).count }
        /// Pods processed by finished batches.
        public var finishedReplicas: Int { self.batches.filter(\.isFinished).reduce(0) { $0 + $1.size } }
        /// Pods of the flow's batches that failed.
        public var failedReplicas: Int {
            self.batches.reduce(0) { sum, batch in
                sum + batch.pods.filter { $0.role == .added && $0.failureReason != nil }.count
            }
        }
        /// From the latest workload observation.
        public var updatedReplicas: Int { self.workload?.updatedReplicas ?? 0 }
        /// From the latest workload observation.
        public var updatedReadyReplicas: Int { self.workload?.updatedReadyReplicas ?? 0 }
        /// From the latest workload observation.
        public var readyReplicas: Int { self.workload?.readyReplicas ?? 0 }
        /// Pods the flow added so far (Baked batches, including any still removing pods).
        public var addedReplicas: Int {
            self.batches.filter { $0.phase == .baked }.reduce(0) { $0 + $1.surge }
        }
        /// Pods the flow removed so far.
        public var removedReplicas: Int {
            self.batches.reduce(0) { sum, batch in sum + batch.pods.filter { $0.role == .removed && $0.gone }.count }
        }

        /// The latest observation of a pod, if it exists.
        public func pod(named name: String) -> PodObservation? { self.pods.first { $0.name == name } }
        /// The pending timer with this id.
        public func pendingTimer(_ id: String) -> PendingTimer? { self.pendingTimers.first { $0.id == id } }
    }

    /// The validated creation data of a flow.
    public struct Spec: Sendable, Hashable, Codable {
        public var flowID: FlowID
        public var instance: InstanceRef
        public var action: Action
        public var appSpec: AppSpec
        public var strategy: Strategy
        public var currentReplicas: Int
        public var targetReplicas: Int
        /// The instance's pods when the flow was created; they are never counted as new pods.
        public var existingPods: [String]
        /// scaleIn / restart: the pods to remove, in batch order.
        public var podsToRemove: [String]
        public var rollbackTo: FlowID?
    }

    /// One batch of the plan and how far it got.
    public struct BatchState: Sendable, Equatable, Codable {
        /// 1-based.
        public var number: Int
        /// Pods the batch processes.
        public var size: Int
        public var canary: Bool
        /// New pods the batch brings up (`size`, or `0` for scaleIn).
        public var surge: Int
        public var phase: BatchPhase = .pending
        /// The batch's pods: the new pods assigned to it and the pods it removes.
        public var pods: [BatchPod] = []
        public var removal: RemovalStage
        public var startedAt: Date?
        /// When the batch moved to Baking (the gate of its new pods is to be set True).
        public var pulledInAt: Date?
        public var bakedAt: Date?
        /// When the removal of its pods started (their gate is to be set False).
        public var pulledOutAt: Date?
        public var finishedAt: Date?
        /// Why the batch failed.
        public var failureReason: String?
        /// The startup timeout fired before the batch was Smoked.
        public var startupTimedOut = false
        /// The pull-out wait has elapsed: the removed pods may be deleted.
        public var pullOutWaitElapsed = false
        /// Auto mode: the batch interval after this batch has elapsed.
        public var intervalElapsed = false

        /// The batch has started.
        public var isStarted: Bool { self.startedAt != nil }
        /// Baked and its removed pods are gone.
        public var isFinished: Bool { self.finishedAt != nil }
        /// The new pods assigned to the batch that still exist.
        public var liveAddedPods: [BatchPod] { self.pods.filter { $0.role == .added && !$0.gone } }
        /// The pods the batch removes.
        public var removedPods: [BatchPod] { self.pods.filter { $0.role == .removed } }
    }

    /// How far the removal of a batch's pods got (scaleIn / restart).
    public enum RemovalStage: String, Sendable, Hashable, Codable, CaseIterable {
        /// The batch removes no pods.
        case none
        /// Not yet started.
        case notStarted
        /// Their gate is to be set False.
        case pullingOut
        /// All pulled out; the pull-out wait timer runs.
        case waiting
        /// They are to be deleted (`scaleStrategy.podsToDelete` and replicas).
        case deleting
        /// They are gone.
        case done
    }

    /// A pod's part in a batch.
    public enum PodRole: String, Sendable, Hashable, Codable, CaseIterable {
        /// A new pod the batch brings up.
        case added
        /// An existing pod the batch removes.
        case removed
    }

    /// A pod in a batch, with its latest observed status and what the flow wants of its gate.
    public struct BatchPod: Sendable, Hashable, Codable {
        public var name: String
        public var role: PodRole
        /// `nil` until the pod is observed.
        public var phase: PodPhase?
        public var containersReady = false
        public var ready = false
        public var gate: GateStatus = .absent
        public var failureReason: String?
        public var gone = false
        /// The flow wants the gate True (added pods of a Baking or Baked batch).
        public var pulledIn = false
        /// The flow wants the gate False (removed pods once their pull-out started).
        public var pulledOut = false

        public init(name: String, role: PodRole) {
            self.name = name
            self.role = role
        }

        mutating func apply(_ observation: PodObservation) {
            self.phase = observation.phase
            self.containersReady = observation.containersReady
            self.ready = observation.ready
            self.gate = observation.gate
            self.failureReason = observation.failureReason
            self.gone = self.gone || observation.gone
        }
    }

    /// A timer that is scheduled and has neither fired nor been canceled.
    public struct PendingTimer: Sendable, Hashable, Codable {
        public var id: String
        public var kind: TimerKind
        public var batch: Int
        public var dueAt: Date
    }

    /// An emergency change: the rules an admin overrode, why, and its retroactive review.
    public struct Emergency: Sendable, Hashable, Codable {
        public var rules: [String]
        public var justification: String
        public var declaredBy: String
        public var declaredAt: Date
        public var reviewedBy: String?
        public var reviewNote: String?
        public var reviewedAt: Date?

        public init(rules: [String], justification: String, declaredBy: String, declaredAt: Date) {
            self.rules = rules
            self.justification = justification
            self.declaredBy = declaredBy
            self.declaredAt = declaredAt
        }

        public var isReviewed: Bool { self.reviewedAt != nil }
    }
}
