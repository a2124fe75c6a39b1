import TritonDomain

/// A small in-memory stand-in for a CloneSet and its pods, used by `triton demo` and by tests to
/// feed the decider realistic observations without a cluster: pods appear, schedule, start, become
/// ContainersReady, and are Ready only when their traffic gate is True. (The engine drives the
/// simulated Kubernetes API server instead.)
public struct InMemoryCluster: Sendable {
    public struct Pod: Sendable {
        public var name: String
        public var revision: String
        var age = 0
        var gate: GateStatus = .absent
        var gone = false
        var goneReported = false

        public var phase: PodPhase { self.age >= 2 ? .running : .pending }
        public var scheduled: Bool { self.age >= 1 }
        public var containersReady: Bool { self.age >= 3 }
        public var ready: Bool { self.containersReady && self.gate == .true }
    }

    public var exists = false
    var replicas = 0
    var partition: Int?
    var paused = false
    var updateRevision = ""
    var currentRevision = ""
    var generation = 0
    var resourceVersion = 0
    public var pods: [Pod] = []
    private var random = 0x2545_F491_4F6C_DD1D as UInt64

    public init() {}

    public var live: [Pod] { self.pods.filter { !$0.gone } }

    /// Creates the CloneSet or sets a new template revision (the executor's `prepareWorkload`).
    public mutating func prepare(image: String) -> String {
        if !self.exists { self.currentRevision = Self.revision(of: image) }
        self.exists = true
        self.updateRevision = Self.revision(of: image)
        return self.bump()
    }

    /// Converges spec fields to the flow's intent (the executor's `scaleWorkload` / `deletePods`).
    public mutating func apply(_ intent: DeployFlow.WorkloadIntent) -> String {
        self.replicas = intent.replicas
        self.partition = intent.partition
        self.paused = intent.paused
        for index in self.pods.indices where intent.podsToDelete.contains(self.pods[index].name) {
            self.pods[index].gone = true
        }
        self.generation += 1
        return self.bump()
    }

    /// Sets a pod's traffic gate (the executor's `setGate`).
    public mutating func setGate(_ pod: String, _ status: GateStatus) -> String {
        if let index = self.pods.firstIndex(where: { $0.name == pod && !$0.gone }) { self.pods[index].gate = status }
        return self.bump()
    }

    /// One second of cluster time: pods progress, and the controller reconciles.
    public mutating func tick() {
        for index in self.pods.indices where !self.pods[index].gone { self.pods[index].age += 1 }
        guard self.exists, !self.paused else { return }
        var live = self.live
        // Scale in: old revision first, then not-ready, then newest.
        while live.count > self.replicas {
            let victim = live.enumerated().min { a, b in
                let ka = (a.element.revision == self.updateRevision ? 1 : 0, a.element.ready ? 1 : 0, -a.offset)
                let kb = (b.element.revision == self.updateRevision ? 1 : 0, b.element.ready ? 1 : 0, -b.offset)
                return ka < kb
            }!.element
            if let index = self.pods.firstIndex(where: { $0.name == victim.name }) { self.pods[index].gone = true }
            live = self.live
        }
        let expectedUpdated = max(0, self.replicas - (self.partition ?? 0))
        while live.count < self.replicas {
            let updated = live.filter { $0.revision == self.updateRevision }.count
            let revision = updated < expectedUpdated ? self.updateRevision : self.currentRevision
            self.pods.append(Pod(name: self.newPodName(), revision: revision))
            live = self.live
        }
        if live.allSatisfy({ $0.revision == self.updateRevision }) { self.currentRevision = self.updateRevision }
    }

    /// What the observer would report now; pods that went away are reported once as gone.
    public mutating func observe() -> (WorkloadObservation, [PodObservation]) {
        let live = self.live
        let updated = live.filter { $0.revision == self.updateRevision }
        let workload = WorkloadObservation(
            exists: self.exists, replicas: live.count, readyReplicas: live.filter(\.ready).count,
            updatedReplicas: updated.count, updatedReadyReplicas: updated.filter(\.ready).count,
            updateRevision: self.exists ? self.updateRevision : nil, currentRevision: self.exists ? self.currentRevision : nil,
            observedGeneration: self.generation
        )
        var pods: [PodObservation] = []
        for index in self.pods.indices where !self.pods[index].goneReported {
            let pod = self.pods[index]
            pods.append(
                PodObservation(
                    name: pod.name, revision: pod.revision, isUpdated: pod.revision == self.updateRevision, phase: pod.phase,
                    scheduled: pod.scheduled, containersReady: pod.containersReady, ready: pod.ready, gate: pod.gate,
                    gone: pod.gone
                )
            )
            if pod.gone { self.pods[index].goneReported = true }
        }
        return (workload, pods)
    }

    /// Pending / Running / Ready / Failed, as the UI shows them.
    public var counts: String {
        let live = self.live
        let pending = live.filter { $0.phase == .pending }.count
        let ready = live.filter(\.ready).count
        return "\(pending)/\(live.count - pending - ready)/\(ready)/0"
    }

    private mutating func bump() -> String {
        self.resourceVersion += 1
        return String(self.resourceVersion)
    }

    private mutating func newPodName() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        var suffix = ""
        for _ in 0..<5 {
            self.random = self.random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            suffix.append(alphabet[Int((self.random >> 33) % UInt64(alphabet.count))])
        }
        return "checkout-\(suffix)"
    }

    private static func revision(of image: String) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in image.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return "checkout-" + String(hash, radix: 16)
    }
}
