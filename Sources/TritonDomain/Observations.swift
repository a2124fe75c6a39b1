/// The Kubernetes pod phase.
public enum PodPhase: String, Sendable, Hashable, Codable, CaseIterable {
    case pending = "Pending"
    case running = "Running"
    case succeeded = "Succeeded"
    case failed = "Failed"
    case unknown = "Unknown"
}

/// The status of the traffic gate condition `apps.triton.io/ready` on a pod.
public enum GateStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Pulled in: the pod may take traffic once its containers are ready.
    case `true` = "True"
    /// Pulled out (or not yet pulled in): the pod takes no traffic.
    case `false` = "False"
    /// The condition is not on the pod (treated like False by Kubernetes).
    case absent = "Absent"
}

/// What the observer saw of one pod of the instance: only the fields that matter to a flow, so two
/// equal observations mean nothing changed.
public struct PodObservation: Sendable, Hashable, Codable {
    /// Container waiting reasons that fail a batch.
    public static let failureReasons: Set<String> = [
        "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CrashLoopBackOff",
        "CreateContainerConfigError", "CreateContainerError", "RunContainerError",
    ]

    public var name: String
    /// The pod's revision hash (`controller-revision-hash`), if known.
    public var revision: String?
    /// Whether the pod is of the workload's update revision (the flow's target revision).
    public var isUpdated: Bool
    public var phase: PodPhase
    /// PodScheduled is True.
    public var scheduled: Bool
    /// ContainersReady is True.
    public var containersReady: Bool
    /// Ready is True (containers ready and every readiness gate True).
    public var ready: Bool
    /// The `apps.triton.io/ready` condition.
    public var gate: GateStatus
    /// A container waiting reason such as `ImagePullBackOff` or `CrashLoopBackOff`.
    public var waitingReason: String?
    public var restartCount: Int
    /// The pod has a deletion timestamp.
    public var terminating: Bool
    /// The pod no longer exists.
    public var gone: Bool

    public init(
        name: String, revision: String? = nil, isUpdated: Bool = true, phase: PodPhase = .pending,
        scheduled: Bool = false, containersReady: Bool = false, ready: Bool = false, gate: GateStatus = .absent,
        waitingReason: String? = nil, restartCount: Int = 0, terminating: Bool = false, gone: Bool = false
    ) {
        self.name = name
        self.revision = revision
        self.isUpdated = isUpdated
        self.phase = phase
        self.scheduled = scheduled
        self.containersReady = containersReady
        self.ready = ready
        self.gate = gate
        self.waitingReason = waitingReason
        self.restartCount = restartCount
        self.terminating = terminating
        self.gone = gone
    }

    /// Why this pod counts as failed (a failing waiting reason or phase Failed), or `nil`.
    public var failureReason: String? {
        if let reason = self.waitingReason, Self.failureReasons.contains(reason) { return reason }
        if self.phase == .failed { return "pod phase Failed" }
        return nil
    }
}

/// What the observer saw of the CloneSet.
public struct WorkloadObservation: Sendable, Hashable, Codable {
    public var exists: Bool
    public var replicas: Int
    public var readyReplicas: Int
    public var updatedReplicas: Int
    public var updatedReadyReplicas: Int
    public var updateRevision: String?
    public var currentRevision: String?
    public var observedGeneration: Int

    public init(
        exists: Bool, replicas: Int = 0, readyReplicas: Int = 0, updatedReplicas: Int = 0,
        updatedReadyReplicas: Int = 0, updateRevision: String? = nil, currentRevision: String? = nil,
        observedGeneration: Int = 0
    ) {
        self.exists = exists
        self.replicas = replicas
        self.readyReplicas = readyReplicas
        self.updatedReplicas = updatedReplicas
        self.updatedReadyReplicas = updatedReadyReplicas
        self.updateRevision = updateRevision
        self.currentRevision = currentRevision
        self.observedGeneration = observedGeneration
    }

    /// The workload does not exist.
    public static let missing = WorkloadObservation(exists: false)
}

/// The kind of a Kubernetes mutation the executor applied. Open-ended; the flow reacts only to
/// `prepareWorkload`.
public struct MutationKind: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Created the CloneSet, or set its template / update strategy for the flow. Lets the first batch start.
    public static let prepareWorkload = MutationKind(rawValue: "prepareWorkload")
    /// Set replicas / partition / paused on the CloneSet.
    public static let scaleWorkload = MutationKind(rawValue: "scaleWorkload")
    /// Set the `apps.triton.io/ready` condition on a pod.
    public static let setGate = MutationKind(rawValue: "setGate")
    /// Set `scaleStrategy.podsToDelete` (and replicas).
    public static let deletePods = MutationKind(rawValue: "deletePods")

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.rawValue)
    }

    public var description: String { self.rawValue }
}

/// Timers a flow schedules.
public enum TimerKind: String, Sendable, Hashable, Codable, CaseIterable {
    case batchInterval, startupTimeout, pullOutWait
}
