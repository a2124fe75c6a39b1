import EventStore
import Foundation
import TritonDomain

/// The time the engine stamps on the commands it issues (observations, timer firings, mutations).
public typealias EngineClock = @Sendable () -> Date

/// Drives one flow one step at a time against a cluster: observer → timers → executor, each through the
/// ``CommandHandler`` so every observation, firing and mutation lands in the flow's stream.
///
/// A step is idempotent. Every mutation is declarative ("set replicas to 11", "set the gate of pod P to
/// True") and keyed; a step that applied a mutation but crashed before recording it recomputes the same
/// mutation from the log, applies it again (harmless) and records it.
public struct FlowWorker: Sendable {
    public let handler: CommandHandler
    public let cluster: any ClusterPort
    public let clock: EngineClock
    /// Called with the events of every command the worker had appended (for live views and tests).
    public var onEvents: (@Sendable (FlowID, [DeployFlow.Event]) -> Void)?

    public init(
        handler: CommandHandler, cluster: any ClusterPort, clock: @escaping EngineClock,
        onEvents: (@Sendable (FlowID, [DeployFlow.Event]) -> Void)? = nil
    ) {
        self.handler = handler
        self.cluster = cluster
        self.clock = clock
        self.onEvents = onEvents
    }

    /// The key prefix of workload convergence mutations: `workload#<sequence> <intent>`.
    public static let workloadKeyPrefix = "workload#"

    /// Observes, fires due timers and executes once; records `endFlow` on the instance stream when the
    /// flow is finished. Returns the flow's state after the step.
    ///
    /// What the observer saw and the timers that fell due are one append; so are the traffic gates the
    /// executor set: a step commits a handful of times, not once per pod.
    @discardableResult
    public func step(_ flow: FlowID) async throws -> DeployFlow.State {
        var (state, _) = try await self.handler.load(DeployFlow.self, stream: Streams.flow(flow))
        guard let spec = state.spec else { return state }
        if !state.isFinished {
            state = try await self.observeAndFireTimers(flow, spec.instance, state)
            state = try await self.execute(flow, spec, state)
        }
        // Frees the instance; already recorded (by an intent, or another worker) is fine.
        if state.isFinished { try await self.handler.endFlow(state, metadata: self.metadata("executor", .executor)) }
        return state
    }

    // MARK: - Observer and timers

    private func observeAndFireTimers(
        _ flow: FlowID, _ instance: InstanceRef, _ state: DeployFlow.State
    ) async throws -> DeployFlow.State {
        let workload = try await self.cluster.workload(instance)
        let pods = workload == nil ? [] : try await self.cluster.pods(instance)
        let observation = workload?.observation ?? .missing
        let updateRevision = workload?.status.updateRevision
        let observed = pods.map { $0.observation(updateRevision: updateRevision) }
        let observer = self.metadata("observer", .observer)
        let timer = self.metadata("timer", .timer)
        let now = timer.time
        let outcome = try await self.handler.report(to: flow) { state in
            var facts: [(kind: DeployFlow.Command.Kind, metadata: EventMetadata)] = []
            if state.workload != observation { facts.append((.observeWorkload(observation), observer)) }
            for pod in observed where state.pod(named: pod.name) != pod { facts.append((.observePod(pod), observer)) }
            // Pods the flow knows that no longer exist.
            let seen = Set(observed.map(\.name))
            var vanished: [PodObservation] = state.pods.filter { !seen.contains($0.name) }
            let known = Set(vanished.map(\.name))
            for batch in state.batches {
                for pod in batch.pods where !pod.gone && !seen.contains(pod.name) && !known.contains(pod.name) {
                    vanished.append(PodObservation(name: pod.name))
                }
            }
            for var pod in vanished {
                pod.gone = true
                facts.append((.observePod(pod), observer))
            }
            // Timers due now; one the observations above cancel fires no more (the decider checks).
            for due in state.pendingTimers where due.dueAt <= now { facts.append((.timerFired(id: due.id), timer)) }
            return facts
        }
        if !outcome.events.isEmpty { self.onEvents?(flow, outcome.events) }
        return outcome.state
    }

    // MARK: - Executor

    private func execute(_ flow: FlowID, _ spec: DeployFlow.Spec, _ state: DeployFlow.State) async throws -> DeployFlow.State {
        var state = state
        let instance = spec.instance
        if state.phase == .initializing, !state.workloadPrepared {
            let resourceVersion: String
            switch spec.action {
            case .create:
                resourceVersion = try await self.cluster.createWorkload(instance, appSpec: spec.appSpec)
            case .update, .rollback:
                resourceVersion = try await self.cluster.setTemplate(instance, appSpec: spec.appSpec)
            case .scaleOut, .scaleIn, .restart:
                // The template stays; the workload only has to exist (the observer saw it).
                guard let workload = try await self.cluster.workload(instance) else { return state }
                resourceVersion = workload.resourceVersion
            }
            state = try await self.recordMutation("prepare", .prepareWorkload, resourceVersion, flow, state)
        }
        guard let intent = DeployFlow.desiredWorkload(state), !state.isFinished else { return state }
        guard let workload = try await self.cluster.workload(instance) else { return state }

        // The CloneSet spec: converge when the intent changed since the last recorded convergence, or when
        // the cluster drifted from it.
        let payload = Self.workloadPayload(intent)
        let last = Self.lastWorkloadMutation(state)
        let drifted =
            workload.replicas != intent.replicas || workload.paused != intent.paused
            || (intent.partition != nil && workload.partition != intent.partition)
            || !Set(intent.podsToDelete).isSubset(of: Set(workload.podsToDelete))
        if last?.payload != payload || drifted {
            let resourceVersion = try await self.cluster.apply(intent, to: instance)
            let key = "\(Self.workloadKeyPrefix)\((last?.sequence ?? 0) + 1) \(payload)"
            let kind: MutationKind = intent.podsToDelete.isEmpty ? .scaleWorkload : .deletePods
            state = try await self.recordMutation(key, kind, resourceVersion, flow, state)
        }

        // Traffic gates of the pods the flow cares about.
        guard !state.isFinished else { return state }
        let pods = Dictionary(try await self.cluster.pods(instance).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var gatesSet: [(kind: DeployFlow.Command.Kind, metadata: EventMetadata)] = []
        for (name, gate) in intent.gates.sorted(by: { $0.key < $1.key }) {
            guard let pod = pods[name] else { continue }
            let key = "gate \(name)=\(gate.rawValue)"
            let recorded = state.appliedMutations.contains(key)
            guard !recorded || pod.gate != gate else { continue }
            let resourceVersion = try await self.cluster.setGate(instance, pod: name, to: gate)
            if !recorded {
                gatesSet.append(
                    (.mutationApplied(key: key, kind: .setGate, resourceVersion: resourceVersion), self.metadata("executor", .executor))
                )
            }
        }
        guard !gatesSet.isEmpty else { return state }
        // Recorded together once all are set; a crash before that sets them again (harmless) and records them.
        let outcome = try await self.handler.report(to: flow) { _ in gatesSet }
        if !outcome.events.isEmpty { self.onEvents?(flow, outcome.events) }
        return outcome.state
    }

    /// `replicas=R partition=P paused=B podsToDelete=[…]`: what a workload convergence sets.
    static func workloadPayload(_ intent: DeployFlow.WorkloadIntent) -> String {
        let partition = intent.partition.map(String.init) ?? "-"
        return "replicas=\(intent.replicas) partition=\(partition) paused=\(intent.paused) "
            + "podsToDelete=[\(intent.podsToDelete.sorted().joined(separator: ","))]"
    }

    /// The recorded workload convergence with the highest sequence number.
    static func lastWorkloadMutation(_ state: DeployFlow.State) -> (sequence: Int, payload: String)? {
        var best: (sequence: Int, payload: String)?
        for key in state.appliedMutations where key.hasPrefix(Self.workloadKeyPrefix) {
            let rest = key.dropFirst(Self.workloadKeyPrefix.count)
            guard let space = rest.firstIndex(of: " "), let sequence = Int(rest[..<space]) else { continue }
            if sequence > (best?.sequence ?? 0) { best = (sequence, String(rest[rest.index(after: space)...])) }
        }
        return best
    }

    private func recordMutation(
        _ key: String, _ kind: MutationKind, _ resourceVersion: String, _ flow: FlowID, _ state: DeployFlow.State
    ) async throws -> DeployFlow.State {
        do {
            return try await self.send(
                .mutationApplied(key: key, kind: kind, resourceVersion: resourceVersion), flow, state, actor: "executor",
                source: .executor)
        } catch let rejection as DomainRejection where rejection.code == .flowFinished {
            // The flow finished (canceled) while the mutation was being applied: nothing more is recorded.
            return try await self.handler.load(DeployFlow.self, stream: Streams.flow(flow)).state
        }
    }

    // MARK: - Finishing

    private func send(
        _ kind: DeployFlow.Command.Kind, _ flow: FlowID, _ state: DeployFlow.State, actor: String,
        source: EventMetadata.Source
    ) async throws -> DeployFlow.State {
        let outcome = try await self.handler.send(kind, to: flow, metadata: self.metadata(actor, source))
        if !outcome.events.isEmpty { self.onEvents?(flow, outcome.events) }
        return outcome.state
    }

    private func metadata(_ actor: String, _ source: EventMetadata.Source) -> EventMetadata {
        EventMetadata(actor: actor, source: source, time: self.clock())
    }
}

/// Pending / Running / Ready / Failed pod counts, as the UI shows them (`0/1/0/0`).
public struct ReplicaCounts: Sendable, Hashable, Codable, CustomStringConvertible {
    public var pending: Int
    public var running: Int
    public var ready: Int
    public var failed: Int

    public init(pending: Int, running: Int, ready: Int, failed: Int) {
        self.pending = pending
        self.running = running
        self.ready = ready
        self.failed = failed
    }

    /// Counts over pod observations (pods that are gone or terminating are left out): Failed = a failing
    /// waiting reason or phase Failed; Ready = Ready; Pending = phase Pending; Running = the rest.
    public init(_ pods: [PodObservation]) {
        var counts = ReplicaCounts(pending: 0, running: 0, ready: 0, failed: 0)
        for pod in pods where !pod.gone && !pod.terminating {
            counts.add(failed: pod.failureReason != nil, ready: pod.ready, pending: pod.phase == .pending)
        }
        self = counts
    }

    /// Counts one pod: Failed over Ready over Pending; Running otherwise.
    public mutating func add(failed: Bool, ready: Bool, pending: Bool) {
        if failed {
            self.failed += 1
        } else if ready {
            self.ready += 1
        } else if pending {
            self.pending += 1
        } else {
            self.running += 1
        }
    }

    public var description: String { "\(self.pending)/\(self.running)/\(self.ready)/\(self.failed)" }
}
