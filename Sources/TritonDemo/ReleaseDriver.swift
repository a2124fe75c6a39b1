import EventStore
import Foundation
import TritonDomain
import TritonEngine

/// Plays observer, timer worker, executor and approver around the decider against an
/// ``InMemoryCluster``, one simulated second at a time, appending every command's events through the
/// ``CommandHandler`` — the whole release goes through the real decider and the real event log.
public struct ReleaseDriver: Sendable {
    public let handler: CommandHandler
    public var cluster = InMemoryCluster()
    /// Simulated time; every command carries it.
    public var now: Date
    /// Simulated seconds the approver looks before saying `next`. Defaults to `3`.
    public var approverDelay = 3
    /// The approver's name in the log. Defaults to `alice`.
    public var approver = "alice"

    public init(handler: CommandHandler, now: Date) {
        self.handler = handler
        self.now = now
    }

    /// Creates the flow and drives it until it finishes; `onNext` sees each approval with its reason,
    /// `onSecond` the state after every simulated second (for progress and checks mid-release).
    public mutating func release(
        _ create: DeployFlow.CreateFlow,
        onNext: (String) -> Void = { _ in },
        onSecond: (Int, DeployFlow.State, InMemoryCluster) async throws -> Void = { _, _, _ in }
    ) async throws -> DeployFlow.State {
        var state = try await self.handler.createFlow(
            create, metadata: self.meta(self.approver, .cli, "release \(create.appSpec.image)")
        )
        var waitingSince: Int?
        var seconds = 0
        while !state.isFinished {
            seconds += 1
            guard seconds < 600 else {
                throw ReleaseDriverError(description: "flow \(create.flowID) did not finish in 600 simulated seconds")
            }
            self.now += 1
            self.cluster.tick()
            // Observer.
            let (workload, pods) = self.cluster.observe()
            state = try await self.send(.observeWorkload(workload), create.flowID, "observer", .observer)
            for pod in pods { state = try await self.send(.observePod(pod), create.flowID, "observer", .observer) }
            // Timer worker.
            for timer in state.pendingTimers where timer.dueAt <= self.now {
                state = try await self.send(.timerFired(id: timer.id), create.flowID, "timer", .timer)
            }
            // Executor.
            state = try await self.execute(state, create)
            // Approver: looks for a while, then says next.
            if let step = DeployFlow.waitingStep(state) {
                let since = waitingSince ?? seconds
                waitingSince = since
                if seconds - since >= self.approverDelay {
                    let reason: String
                    switch step {
                    case .pullIn(let batch): reason = "canary batch \(batch) smoke-tested: pull it into traffic"
                    case .startBatch(let batch): reason = "metrics healthy: start batch \(batch)"
                    }
                    onNext(reason)
                    state = try await self.send(.next, create.flowID, self.approver, .cli, reason: reason)
                    waitingSince = nil
                }
            }
            try await onSecond(seconds, state, self.cluster)
        }
        try await self.handler.endFlow(state, metadata: self.meta("executor", .executor, nil))
        return state
    }

    private mutating func execute(_ state: DeployFlow.State, _ create: DeployFlow.CreateFlow) async throws -> DeployFlow.State {
        var state = state
        if state.phase == .initializing, !state.workloadPrepared {
            let rv = self.cluster.prepare(image: create.appSpec.image)
            state = try await self.send(
                .mutationApplied(key: "prepare", kind: .prepareWorkload, resourceVersion: rv), create.flowID, "executor", .executor
            )
        }
        guard let intent = DeployFlow.desiredWorkload(state) else { return state }
        let key = "workload r=\(intent.replicas) p=\(intent.partition.map(String.init) ?? "-") paused=\(intent.paused) delete=\(intent.podsToDelete.sorted())"
        if !state.appliedMutations.contains(key) {
            let rv = self.cluster.apply(intent)
            let kind: MutationKind = intent.podsToDelete.isEmpty ? .scaleWorkload : .deletePods
            state = try await self.send(.mutationApplied(key: key, kind: kind, resourceVersion: rv), create.flowID, "executor", .executor)
        }
        for (pod, gate) in intent.gates.sorted(by: { $0.key < $1.key }) {
            let key = "gate \(pod)=\(gate.rawValue)"
            guard !state.appliedMutations.contains(key) else { continue }
            let rv = self.cluster.setGate(pod, gate)
            state = try await self.send(.mutationApplied(key: key, kind: .setGate, resourceVersion: rv), create.flowID, "executor", .executor)
        }
        return state
    }

    private func send(
        _ kind: DeployFlow.Command.Kind, _ flow: FlowID, _ actor: String, _ source: EventMetadata.Source, reason: String? = nil
    ) async throws -> DeployFlow.State {
        try await self.handler.send(kind, to: flow, metadata: self.meta(actor, source, reason)).state
    }

    private func meta(_ actor: String, _ source: EventMetadata.Source, _ reason: String?) -> EventMetadata {
        EventMetadata(actor: actor, reason: reason, requestID: UUID().uuidString, source: source, time: self.now)
    }
}

public struct ReleaseDriverError: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}
