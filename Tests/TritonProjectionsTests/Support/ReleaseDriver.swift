import EventStore
import Foundation
import TritonDomain
import TritonEngine

/// Plays observer, timer worker, executor and approver around the decider, one simulated second at a
/// time, as `triton demo`'s DemoDriver does — without sleeping or printing. `onSecond` sees the state
/// after every simulated second (for checks mid-release).
struct ReleaseDriver {
    let handler: CommandHandler
    var cluster = SimCluster()
    var now = Date(timeIntervalSince1970: 1_760_000_000)
    /// Simulated seconds the approver looks before saying `next`.
    var approverDelay = 2

    mutating func release(
        _ create: DeployFlow.CreateFlow, onSecond: (DeployFlow.State) async throws -> Void = { _ in }
    ) async throws -> DeployFlow.State {
        var state = try await self.handler.createFlow(create, metadata: self.meta("alice", .cli, "release \(create.appSpec.image)"))
        var waitingSince: Int?
        var seconds = 0
        while !state.isFinished {
            seconds += 1
            guard seconds < 600 else { throw DriverError(message: "\(create.flowID) did not finish in 600 simulated seconds") }
            self.now += 1
            self.cluster.tick()
            let (workload, pods) = self.cluster.observe()
            state = try await self.send(.observeWorkload(workload), create.flowID, "observer", .observer)
            for pod in pods { state = try await self.send(.observePod(pod), create.flowID, "observer", .observer) }
            for timer in state.pendingTimers where timer.dueAt <= self.now {
                state = try await self.send(.timerFired(id: timer.id), create.flowID, "timer", .timer)
            }
            state = try await self.execute(state, create)
            if DeployFlow.waitingStep(state) != nil {
                let since = waitingSince ?? seconds
                waitingSince = since
                if seconds - since >= self.approverDelay {
                    state = try await self.send(.next, create.flowID, "alice", .cli, reason: "looks good")
                    waitingSince = nil
                }
            }
            try await onSecond(state)
        }
        try await self.handler.endFlow(state, metadata: self.meta("executor", .executor, nil))
        return state
    }

    private mutating func execute(_ state: DeployFlow.State, _ create: DeployFlow.CreateFlow) async throws -> DeployFlow.State {
        var state = state
        if state.phase == .initializing, !state.workloadPrepared {
            let rv = self.cluster.prepare(image: create.appSpec.image)
            state = try await self.send(
                .mutationApplied(key: "prepare", kind: .prepareWorkload, resourceVersion: rv), create.flowID, "executor", .executor)
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

struct DriverError: Error, CustomStringConvertible {
    var message: String
    var description: String { self.message }
}

/// The two releases of the demo: a create of `prod/checkout` (10 pods, batches of 5, auto) and the
/// article's canary update to v2 (canary 1, batches of 3, manual).
enum Releases {
    static let instance = InstanceRef(namespace: "prod", name: "checkout")

    static func create(_ id: String = "checkout-create") -> DeployFlow.CreateFlow {
        DeployFlow.CreateFlow(
            flowID: FlowID(id), instance: Self.instance, action: .create,
            appSpec: AppSpec(appID: 12122, groupID: 10010, appName: "checkout", image: "shop/checkout:v1"),
            currentReplicas: 0, targetReplicas: 10, strategy: Strategy(batchSize: .count(5), mode: .auto, batchIntervalSeconds: 2)
        )
    }

    static func canaryUpdate(_ id: String = "checkout-update", existingPods: [String]) -> DeployFlow.CreateFlow {
        DeployFlow.CreateFlow(
            flowID: FlowID(id), instance: Self.instance, action: .update,
            appSpec: AppSpec(appID: 12122, groupID: 10010, appName: "checkout", image: "shop/checkout:v2"),
            currentReplicas: 10, targetReplicas: 10, existingPods: existingPods,
            strategy: Strategy(batchSize: .count(3), canary: 1, mode: .manual)
        )
    }
}
