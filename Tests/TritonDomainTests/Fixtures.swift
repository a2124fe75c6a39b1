import Foundation
import Testing

@testable import TritonDomain

let t0 = Date(timeIntervalSince1970: 1_750_000_000)

/// `t0 + seconds`.
func at(_ seconds: Int) -> Date { t0.addingTimeInterval(TimeInterval(seconds)) }

func meta(_ seconds: Int, actor: String = "alice", source: EventMetadata.Source = .api) -> EventMetadata {
    EventMetadata(actor: actor, reason: "test", requestID: "req-\(seconds)", source: source, time: at(seconds))
}

let demo = InstanceRef(namespace: "prod", name: "demo")
let appV2 = AppSpec(appID: 12122, groupID: 10010, appName: "demo", image: "reg/demo:v2", template: #"{"spec":{}}"#)

func oldPods(_ count: Int) -> [String] { (1...max(count, 1)).prefix(count).map { "demo-old\($0)" } }

func createFlow(
    _ action: Action = .update, current: Int = 10, target: Int? = nil, pods: [String]? = nil,
    strategy: Strategy = Strategy(), rollbackTo: FlowID? = nil, id: FlowID = "demo-flow1"
) -> DeployFlow.CreateFlow {
    DeployFlow.CreateFlow(
        flowID: id, instance: demo, action: action, appSpec: appV2, currentReplicas: current,
        targetReplicas: target ?? current, existingPods: pods ?? oldPods(current), strategy: strategy,
        rollbackTo: rollbackTo ?? (action == .rollback ? "demo-flow0" : nil)
    )
}

/// How far a pod got, for building observations.
enum Stage {
    case scheduled, running, smoked, ready, pulledOut, gone
    case waiting(String)
    case terminating
}

func pod(_ name: String, _ stage: Stage, updated: Bool = true) -> PodObservation {
    var o = PodObservation(name: name, revision: updated ? "demo-new" : "demo-old", isUpdated: updated)
    switch stage {
    case .scheduled:
        o.scheduled = true
    case .running:
        o.scheduled = true
        o.phase = .running
    case .smoked:
        o.scheduled = true
        o.phase = .running
        o.containersReady = true
        o.gate = .absent
    case .ready:
        o.scheduled = true
        o.phase = .running
        o.containersReady = true
        o.gate = .true
        o.ready = true
    case .pulledOut:
        o.scheduled = true
        o.phase = .running
        o.containersReady = true
        o.gate = .false
    case .gone:
        o.gone = true
    case .waiting(let reason):
        o.scheduled = true
        o.waitingReason = reason
    case .terminating:
        o.scheduled = true
        o.phase = .running
        o.terminating = true
    }
    return o
}

func workload(replicas: Int, updated: Int, ready: Int? = nil, generation: Int = 1) -> WorkloadObservation {
    WorkloadObservation(
        exists: true, replicas: replicas, readyReplicas: ready ?? replicas, updatedReplicas: updated,
        updatedReadyReplicas: updated, updateRevision: "demo-new", currentRevision: "demo-old",
        observedGeneration: generation
    )
}

/// A flow under test: runs commands through `decide`, keeps the events and the folded state.
struct FlowHarness {
    var events: [DeployFlow.Event] = []
    var state = DeployFlow.initialState
    /// Seconds since `t0` of the last command.
    var clock = 0

    init() {}

    /// Given the events.
    init(given: [DeployFlow.Event], clock: Int = 0) {
        self.events = given
        self.state = DeployFlow.fold(given)
        self.clock = clock
    }

    /// Runs a command `after` seconds after the previous one and returns its events.
    @discardableResult
    mutating func run(
        _ kind: DeployFlow.Command.Kind, after seconds: Int = 1, source: EventMetadata.Source = .api
    ) throws(DomainRejection) -> [DeployFlow.Event] {
        self.clock += seconds
        let new = try DeployFlow.decide(DeployFlow.Command(kind, metadata: meta(self.clock, source: source)), self.state)
        self.events += new
        self.state = DeployFlow.fold(new, from: self.state)
        return new
    }

    /// The rejection of a command (nil when accepted; then its events are kept).
    mutating func rejection(_ kind: DeployFlow.Command.Kind) -> DomainRejection? {
        do {
            try self.run(kind, after: 0)
            return nil
        } catch {
            return error
        }
    }

    mutating func observe(_ pods: PodObservation...) throws(DomainRejection) {
        for p in pods { try self.run(.observePod(p), source: .observer) }
    }

    mutating func observe(_ names: [String], _ stage: Stage, updated: Bool = true) throws(DomainRejection) {
        for name in names { try self.run(.observePod(pod(name, stage, updated: updated)), source: .observer) }
    }

    mutating func prepare(key: String = "prepare") throws(DomainRejection) {
        try self.run(.mutationApplied(key: key, kind: .prepareWorkload, resourceVersion: "rv-\(self.clock)"), source: .executor)
    }

    /// Creates the flow, observes the workload and applies the prepare mutation: batch 1 starts.
    mutating func start(_ create: DeployFlow.CreateFlow) throws(DomainRejection) {
        try self.run(.create(create))
        let current = create.currentReplicas
        try self.run(
            .observeWorkload(create.action == .create ? .missing : workload(replicas: current, updated: 0)),
            source: .observer)
        if create.action == .create {
            try self.run(.observeWorkload(workload(replicas: 0, updated: 0)), source: .observer)
        }
        try self.prepare()
    }

    /// Fires every pending timer of `kind` (the timer worker).
    mutating func fire(_ kind: TimerKind) throws(DomainRejection) {
        for timer in self.state.pendingTimers where timer.kind == kind {
            try self.run(.timerFired(id: timer.id), source: .timer)
        }
    }

    var phase: FlowPhase { self.state.phase }
    func batchPhase(_ n: Int) -> BatchPhase { self.state.batches[n - 1].phase }
    var typeNames: [String] { self.events.map(\.typeName) }
}

func typeNames(_ events: [DeployFlow.Event]) -> [String] { events.map(\.typeName) }

/// SplitMix64: a tiny seeded generator so property tests are deterministic.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
