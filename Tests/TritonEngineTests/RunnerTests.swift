import EventStore
import Foundation
import KubeSim
import PostgresStore
import Synchronization
import Testing
import TritonDomain
import TritonEngine
import TritonJSON
import TritonKubeMapping
import TritonSimAdapter
import TritonTesting

/// A port that applies each kind of mutation and then fails once, as if the process died before it
/// could record the mutation.
final class CrashAfterApplyPort: ClusterPort {
    let base: SimClusterPort
    private let crashed = Mutex<Set<String>>([])

    init(base: SimClusterPort) { self.base = base }

    var crashes: Set<String> { self.crashed.withLock { $0 } }

    private func crashOnce(_ what: String) throws {
        let first = self.crashed.withLock { $0.insert(what).inserted }
        if first { throw CrashError(what: what) }
    }

    struct CrashError: Error { var what: String }

    func workload(_ instance: InstanceRef) async throws -> ClusterWorkload? { try await self.base.workload(instance) }
    func pods(_ instance: InstanceRef) async throws -> [ClusterPod] { try await self.base.pods(instance) }
    func createWorkload(_ instance: InstanceRef, appSpec: AppSpec) async throws -> String {
        _ = try await self.base.createWorkload(instance, appSpec: appSpec)
        try self.crashOnce("create")
        return try await self.base.createWorkload(instance, appSpec: appSpec)
    }
    func setTemplate(_ instance: InstanceRef, appSpec: AppSpec) async throws -> String {
        let rv = try await self.base.setTemplate(instance, appSpec: appSpec)
        try self.crashOnce("template")
        return rv
    }
    func apply(_ intent: DeployFlow.WorkloadIntent, to instance: InstanceRef) async throws -> String {
        let rv = try await self.base.apply(intent, to: instance)
        try self.crashOnce("apply \(intent.replicas)")
        return rv
    }
    func setGate(_ instance: InstanceRef, pod: String, to status: GateStatus) async throws -> String {
        let rv = try await self.base.setGate(instance, pod: pod, to: status)
        try self.crashOnce("gate")
        return rv
    }
    func deleteWorkload(_ instance: InstanceRef, uid: String) async throws -> Bool {
        let deleted = try await self.base.deleteWorkload(instance, uid: uid)
        try self.crashOnce("delete")
        return deleted
    }
}

@Suite("Engine: idempotent steps and the concurrent runner")
struct RunnerTests {
    @Test("a mutation applied but not recorded (crash) is re-applied harmlessly and recorded once")
    func crashBetweenApplyAndRecord() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        let port = CrashAfterApplyPort(base: h.port)
        let cluster = h.cluster
        let journal = h.journal
        let worker = FlowWorker(
            handler: h.handler, cluster: port, clock: { cluster.clock.date(at: cluster.now) },
            onEvents: { flow, events in journal.append(events, to: flow) })
        let flow = FlowID("checkout-create")
        _ = try await h.createFlow(
            DeployFlow.CreateFlow(
                flowID: flow, instance: EngineHarness.instance, action: .create,
                appSpec: EngineHarness.appSpec("shop/checkout:v1"),
                currentReplicas: 0, targetReplicas: 4, strategy: Strategy(batchSize: .count(2), mode: .auto)))
        var state = DeployFlow.initialState
        var failures = 0
        for _ in 0..<120 {
            cluster.advance(by: 1)
            do {
                state = try await worker.step(flow)
            } catch is CrashAfterApplyPort.CrashError {
                failures += 1
            }
            if state.isFinished { break }
        }
        #expect(state.phase == .success)
        #expect(port.crashes == ["create", "apply 2", "apply 4", "gate"])
        #expect(failures == 4)
        // Each intent recorded once, in order.
        let recorded = try await h.store.readStream(Streams.flow(flow), afterVersion: 0)
            .filter { $0.type == DeployFlow.MutationApplied.typeName }
            .map { try DeployFlow.Event.decode(type: $0.type, data: Data($0.data.utf8)) }
            .compactMap { event -> String? in if case .mutationApplied(let m) = event { m.key } else { nil } }
        #expect(Set(recorded).count == recorded.count, "no key recorded twice: \(recorded)")
        #expect(
            recorded.filter { $0.hasPrefix(FlowWorker.workloadKeyPrefix) } == [
                "workload#1 replicas=2 partition=0 paused=false podsToDelete=[]",
                "workload#2 replicas=4 partition=0 paused=false podsToDelete=[]",
            ])
        h.settle(seconds: 20)
        #expect(try h.pods().count == 4)
        #expect(try h.pods().allSatisfy(\.ready))
        try await h.expectReplay(state)
    }

    @Test("the runner drives several flows concurrently, picks up flows created while it runs, and ends them")
    func runnerDrivesFlowsConcurrently() async throws {
        let store = try await TestDatabase.makeStore(poolSize: 8)
        defer { store.shutdown() }
        let handler = CommandHandler(store: store)
        var configuration = SimConfiguration(timeScale: 20, seed: 5)
        configuration.timingJitter = 0
        let cluster = SimulatedCluster(configuration: configuration)
        try cluster.create(.namespaces, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "prod"]])
        let clock: EngineClock = { cluster.clock.date(at: cluster.now) }
        let runner = FlowRunner(
            worker: FlowWorker(handler: handler, cluster: SimClusterPort(cluster: cluster), clock: clock),
            tickInterval: .milliseconds(50))

        func create(_ name: String, replicas: Int) -> DeployFlow.CreateFlow {
            DeployFlow.CreateFlow(
                flowID: FlowID("\(name)-create"), instance: InstanceRef(namespace: "prod", name: name), action: .create,
                appSpec: AppSpec(appID: 1, groupID: 2, appName: name, image: "shop/\(name):v1"), currentReplicas: 0,
                targetReplicas: replicas, strategy: Strategy(batchSize: .count(2), mode: .auto, batchIntervalSeconds: 1))
        }
        func meta() -> EventMetadata { EventMetadata(actor: "alice", source: .cli, time: clock()) }

        _ = try await handler.createFlow(create("checkout", replicas: 4), metadata: meta())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await cluster.runControllers() }
            group.addTask { try await runner.run() }
            // Created while the runner runs.
            try await Task.sleep(for: .milliseconds(200))
            _ = try await handler.createFlow(create("cart", replicas: 3), metadata: meta())
            _ = try await handler.createFlow(create("search", replicas: 2), metadata: meta())
            let deadline = ContinuousClock.now + .seconds(60)
            while runner.finishedFlows.count < 3, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            group.cancelAll()
        }
        #expect(runner.finishedFlows == ["checkout-create", "cart-create", "search-create"], "errors: \(runner.lastErrors)")
        #expect(runner.activeFlows.isEmpty)
        for (name, replicas) in [("checkout", 4), ("cart", 3), ("search", 2)] {
            let state = try await handler.load(DeployFlow.self, stream: Streams.flow(FlowID("\(name)-create"))).state
            #expect(state.phase == .success)
            let instance = try await handler.load(
                Instance.self, stream: Streams.instance(InstanceRef(namespace: "prod", name: name))
            )
            .state
            #expect(instance.activeFlow == nil && instance.releases.last?.outcome == .success)
            let pods = try cluster.list(.pods, namespace: "prod", labelSelector: "app.kubernetes.io/instance=\(name)")
                .map { CloneSetMapping.pod(from: $0) }.filter { !$0.terminating }
            #expect(pods.count == replicas && pods.allSatisfy(\.ready))
        }
    }
}
