import EventStore
import Foundation
import TritonDomain
import TritonEngine

/// A DeployFlow in the status shape of the open-source Triton (its `Deploy` message and the
/// DeployFlow status): what `Get` / `Gets` return and what the UI shows.
///
/// Built purely from a folded ``DeployFlow/State`` with ``init(state:)``; the projections store the
/// same fields so `FlowQueries` can rebuild an equal value from the query tables. JSON keys are the
/// camelCase names below; dates are ISO-8601 UTC with milliseconds (use ``makeEncoder()`` /
/// ``makeDecoder()``); absent dates are omitted.
public struct FlowStatus: Codable, Sendable, Equatable {
    /// The instance's namespace.
    public var namespace: String
    /// The flow id.
    public var name: String
    public var appID: Int
    public var groupID: Int
    public var appName: String
    /// The CloneSet's name.
    public var instanceName: String
    /// Pods of the CloneSet, from its latest observation (0 before any).
    public var replicas: Int
    /// `create`, `update`, `rollback`, `scaleOut`, `scaleIn` or `restart`.
    public var action: String
    /// Ready pods of the CloneSet, from its latest observation.
    public var availableReplicas: Int
    /// Pods of the update revision, from the latest observation.
    public var updatedReplicas: Int
    /// Ready pods of the update revision, from the latest observation.
    public var updatedReadyReplicas: Int
    /// The CloneSet's update revision, from the latest observation (`""` before any).
    public var updateRevision: String
    /// One per started batch, in order (Triton adds a condition when a batch starts).
    public var conditions: [Batch]
    public var paused: Bool
    /// `Pending`, `Initializing`, `BatchStarted`, `BatchFinished`, `Success`, `Failed`, `Aborted`, `Canceled`.
    public var phase: String
    /// Success, Failed, Aborted or Canceled.
    public var finished: Bool
    /// Planned batches, the canary included.
    public var batches: Int
    /// Pods per regular batch: the size of the first non-canary batch (of the canary when there is
    /// no other batch; 0 before the flow exists).
    public var batchSize: Int
    public var finishedBatches: Int
    /// Pods processed by finished batches.
    public var finishedReplicas: Int
    /// New pods of the flow's batches that failed.
    public var failedReplicas: Int
    /// When the first batch started.
    public var startedAt: Date?
    public var finishedAt: Date?
    /// When the last event of the flow happened.
    public var updatedAt: Date?
    /// `auto` or `manual`.
    public var mode: String
    public var batchIntervalSeconds: Int
    /// The startup timeout (`Deploy.timeoutSeconds`).
    public var timeoutSeconds: Int
    /// The pull-out wait before deleting pods (`Deploy.gracefulPeriodSeconds`).
    public var gracefulPeriodSeconds: Int
    /// Size of the canary batch (0 = none).
    public var canary: Int
    /// Who created the flow (the authenticated principal). Present on replies that read the log.
    public var createdBy: String?
    /// The last intent on the flow: who, what, why, when.
    public var lastIntent: Attribution?
    /// What the caller may do to the flow now (computed by the server from state, role and four-eyes).
    public var allowedActions: [String]?
    /// Set when an admin overrode four-eyes: the justification and its review.
    public var emergency: DeployFlow.Emergency?
    /// Every planned batch, started or not (replies that read the log).
    public var plan: [PlannedBatch]?
    /// The flow's pods now: pending, running, ready, failed (replies that read the log).
    public var podCounts: ReplicaCounts?
    /// The stop the flow waits at for a person (`next`), when it waits (replies that read the log).
    public var waiting: Waiting?
    /// Why the flow failed, when it did (replies that read the log).
    public var failureReason: String?
    /// In a reply `?asOf=`: the event the flow was folded up to (it shows the flow as it was then).
    public var asOf: StoppedAt?
    /// The global log position of the flow's last event in this state (a reply read from the log): a
    /// client shows a state only when its position is not behind one it has shown.
    public var position: Int64?

    /// One batch of the plan.
    public struct PlannedBatch: Codable, Sendable, Equatable {
        public var size: Int
        public var canary: Bool
    }

    /// A stop for `next`: `pullIn` (pull the smoke-tested batch into traffic) or `startBatch`.
    public struct Waiting: Codable, Sendable, Equatable {
        public var step: String
        public var batch: Int

        public init(_ step: DeployFlow.WaitingStep) {
            switch step {
            case .pullIn(let batch): self.step = "pullIn"; self.batch = batch
            case .startBatch(let batch): self.step = "startBatch"; self.batch = batch
            }
        }
    }

    /// One batch as Triton shows it (a `Batch` condition).
    public struct Batch: Codable, Sendable, Equatable {
        /// 1-based.
        public var batch: Int
        public var batchSize: Int
        public var canary: Bool
        /// `Pending`, `Smoking`, `Smoked`, `Baking`, `Baked`, `SmokeFailed` or `BakeFailed`.
        public var phase: String
        /// New pods of the batch that failed.
        public var failedReplicas: Int
        /// The new pods the batch brought up, then the pods it removes.
        public var pods: [PodInfo]
        public var startedAt: Date?
        /// When the batch moved to Baking (its pods were to be pulled into traffic).
        public var pulledInAt: Date?
        public var finishedAt: Date?
        /// The last intent on the batch (`next` on it, or `continue`/`pause`/`resume`/`cancel` while it
        /// was the current one).
        public var lastIntent: Attribution?
        /// The batch's new pods (gone ones left out) as Pending/Running/Ready/Failed, counted as the
        /// flow's `podCounts` are (replies that read the log).
        public var podCounts: ReplicaCounts?

        /// Creates a condition from its fields.
        public init(
            batch: Int, batchSize: Int, canary: Bool, phase: String, failedReplicas: Int, pods: [PodInfo],
            startedAt: Date?, pulledInAt: Date?, finishedAt: Date?
        ) {
            self.batch = batch
            self.batchSize = batchSize
            self.canary = canary
            self.phase = phase
            self.failedReplicas = failedReplicas
            self.pods = pods
            self.startedAt = startedAt
            self.pulledInAt = pulledInAt
            self.finishedAt = finishedAt
        }

        /// The condition of a folded batch.
        public init(batch state: DeployFlow.BatchState) {
            self.init(
                batch: state.number, batchSize: state.size, canary: state.canary, phase: state.phase.rawValue,
                failedReplicas: state.pods.filter { $0.role == .added && $0.failureReason != nil }.count,
                pods: state.pods.map(PodInfo.init(pod:)), startedAt: state.startedAt, pulledInAt: state.pulledInAt,
                finishedAt: state.finishedAt
            )
        }

        /// The batch's new pods (gone ones left out) as Pending/Running/Ready/Failed.
        public static func podCounts(_ state: DeployFlow.BatchState) -> ReplicaCounts {
            var counts = ReplicaCounts(pending: 0, running: 0, ready: 0, failed: 0)
            for pod in state.pods where pod.role == .added && !pod.gone {
                counts.add(failed: pod.failureReason != nil, ready: pod.ready, pending: pod.phase == nil || pod.phase == .pending)
            }
            return counts
        }
    }

    /// One pod of a batch as Triton shows it.
    public struct PodInfo: Codable, Sendable, Equatable {
        public var name: String
        /// Not observed by the flow yet: always `""`.
        public var ip: String
        /// Not observed by the flow yet: always `0`.
        public var port: Int
        /// `Ready`, `ContainersReady`, `Failed`, `Deleted`, the Kubernetes phase (`Pending`, `Running`,
        /// …), or `Unknown` before the pod was observed.
        public var phase: String
        /// `""` (not pulled in), `PullingIn`, `PullInSucceeded`, `PullingOut` or `PullOutSucceeded`.
        public var pullInStatus: String

        /// Creates a pod entry from its fields.
        public init(name: String, ip: String, port: Int, phase: String, pullInStatus: String) {
            self.name = name
            self.ip = ip
            self.port = port
            self.phase = phase
            self.pullInStatus = pullInStatus
        }

        /// The entry of a batch's pod: the phase as Triton derives it (Ready over ContainersReady over
        /// Failed over the pod phase) and where its traffic gate stands.
        public init(pod: DeployFlow.BatchPod) {
            self.init(name: pod.name, ip: "", port: 0, phase: Self.phase(of: pod), pullInStatus: Self.pullInStatus(of: pod))
        }

        /// `Deleted`, `Ready`, `ContainersReady`, `Failed`, the pod phase, or `Unknown` when unobserved.
        public static func phase(of pod: DeployFlow.BatchPod) -> String {
            if pod.gone { return "Deleted" }
            if pod.ready { return "Ready" }
            if pod.containersReady { return "ContainersReady" }
            if pod.failureReason != nil { return "Failed" }
            return pod.phase?.rawValue ?? "Unknown"
        }

        /// Where the pod's traffic gate stands relative to what the flow wants of it.
        public static func pullInStatus(of pod: DeployFlow.BatchPod) -> String {
            if pod.pulledOut { return pod.gone || pod.gate != .true ? "PullOutSucceeded" : "PullingOut" }
            if pod.pulledIn { return pod.gate == .true ? "PullInSucceeded" : "PullingIn" }
            return ""
        }
    }

    /// The status of a folded flow. A flow not created yet (`state.spec == nil`) gives an empty
    /// status with phase `Pending`.
    public init(state: DeployFlow.State) {
        let spec = state.spec
        let strategy = spec?.strategy ?? Strategy()
        let workload = state.workload
        self.namespace = spec?.instance.namespace ?? ""
        self.name = spec?.flowID.rawValue ?? ""
        self.appID = spec?.appSpec.appID ?? 0
        self.groupID = spec?.appSpec.groupID ?? 0
        self.appName = spec?.appSpec.appName ?? ""
        self.instanceName = spec?.instance.name ?? ""
        self.replicas = workload?.replicas ?? 0
        self.action = spec?.action.rawValue ?? ""
        self.availableReplicas = workload?.readyReplicas ?? 0
        self.updatedReplicas = state.updatedReplicas
        self.updatedReadyReplicas = state.updatedReadyReplicas
        self.updateRevision = workload?.updateRevision ?? ""
        self.conditions = state.batches.filter(\.isStarted).map(Batch.init(batch:))
        self.paused = state.paused
        self.phase = state.phase.rawValue
        self.finished = state.isFinished
        self.batches = state.plan.count
        self.batchSize = Self.regularBatchSize(state.plan)
        self.finishedBatches = state.finishedBatches
        self.finishedReplicas = state.finishedReplicas
        self.failedReplicas = state.failedReplicas
        self.startedAt = state.startedAt
        self.finishedAt = state.finishedAt
        self.updatedAt = state.updatedAt
        self.mode = strategy.mode.rawValue
        self.batchIntervalSeconds = strategy.batchIntervalSeconds
        self.timeoutSeconds = strategy.startupTimeoutSeconds
        self.gracefulPeriodSeconds = strategy.pullOutWaitSeconds
        self.canary = strategy.canary
    }

    /// The size of the first non-canary batch, or of the first batch, or 0.
    /// The flow of a record read from the log, with who did what, and (given a caller) what that caller
    /// may do now.
    public init(record: FlowRecord, allowedActions: [FlowAction]? = nil) {
        self.init(state: record.state)
        self.createdBy = record.createdBy
        self.lastIntent = record.lastIntent
        self.allowedActions = allowedActions?.map(\.rawValue)
        self.emergency = record.state.emergency
        self.plan = record.state.plan.batches.map { PlannedBatch(size: $0.size, canary: $0.canary) }
        self.podCounts = ReplicaCounts(record.state.pods)
        self.waiting = record.state.paused || record.state.isFinished ? nil : DeployFlow.waitingStep(record.state).map(Waiting.init)
        self.failureReason = record.state.failureReason
        self.position = record.logPosition.position
        let batches = Dictionary(record.state.batches.map { ($0.number, $0) }, uniquingKeysWith: { first, _ in first })
        for index in self.conditions.indices {
            self.conditions[index].lastIntent = record.batchIntents[self.conditions[index].batch]
            self.conditions[index].podCounts = batches[self.conditions[index].batch].map(Batch.podCounts)
        }
    }

    /// A flow not created yet (a release's dry run): its status with the plan of batches.
    public static func preview(_ state: DeployFlow.State) -> FlowStatus {
        var status = FlowStatus(state: state)
        status.plan = state.plan.batches.map { PlannedBatch(size: $0.size, canary: $0.canary) }
        return status
    }

    public static func regularBatchSize(_ plan: BatchPlan) -> Int {
        (plan.batches.first { !$0.canary } ?? plan.batches.first)?.size ?? 0
    }

    /// Sorted keys, dates as ISO-8601 UTC with milliseconds (the event log's conventions).
    public static func makeEncoder() -> JSONEncoder { EventJSON.makeEncoder() }

    /// Reads what ``makeEncoder()`` writes.
    public static func makeDecoder() -> JSONDecoder { EventJSON.makeDecoder() }
}
