import EventStore
import Foundation
import PostgresStore
import Testing
import TritonDomain
import TritonEngine
import TritonTesting

@testable import TritonProjections

/// A cluster that has nothing and accepts every mutation: enough for a runner to step flows whose
/// discovery is under test.
struct EmptyCluster: ClusterPort {
    func workload(_ instance: InstanceRef) async throws -> ClusterWorkload? { nil }
    func pods(_ instance: InstanceRef) async throws -> [ClusterPod] { [] }
    func createWorkload(_ instance: InstanceRef, appSpec: AppSpec) async throws -> String { "1" }
    func setTemplate(_ instance: InstanceRef, appSpec: AppSpec) async throws -> String { "1" }
    func apply(_ intent: DeployFlow.WorkloadIntent, to instance: InstanceRef) async throws -> String { "1" }
    func setGate(_ instance: InstanceRef, pod: String, to status: GateStatus) async throws -> String { "1" }
    func deleteWorkload(_ instance: InstanceRef, uid: String) async throws -> Bool { false }
}

@Suite("A flow runner starting from the flows projection")
struct RunnerStartTests {
    func create(_ name: String) -> DeployFlow.CreateFlow {
        DeployFlow.CreateFlow(
            flowID: FlowID("\(name)-create"), instance: InstanceRef(namespace: "prod", name: name), action: .create,
            appSpec: AppSpec(appID: 1, groupID: 2, appName: name, image: "shop/\(name):v1"), currentReplicas: 0, targetReplicas: 2,
            strategy: Strategy(batchSize: .count(1), mode: .manual)
        )
    }

    @Test("it takes the checkpoint, the unfinished flows and the pending deletions, and reads only what came after")
    func startsFromTheProjection() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        let handler = CommandHandler(store: store)
        let metadata = EventMetadata(actor: "alice", source: .cli, time: Date(timeIntervalSince1970: 1_760_000_000))
        let (created, updated) = try await runBothReleases(store)
        #expect(created.isFinished && updated.isFinished)
        _ = try await handler.createFlow(self.create("cart"), metadata: metadata)
        let retired = InstanceRef(namespace: "prod", name: "retired")
        try await handler.handle(Instance.self, stream: Streams.instance(retired), metadata: metadata) { _ in
            Instance.Command(.requestDeletion(instance: retired, workloadUID: "uid-1"), metadata: metadata)
        }
        let projector = FlowProjector(store: store)
        try await projector.catchUp()

        let start = try await FlowQueries(store: store).runnerStart()
        #expect(start.position == (try await projector.checkpoint()))
        #expect(start.flows == ["cart-create"], "the finished demo releases are left out")
        #expect(start.deletions == [retired])

        // A flow created after the checkpoint is read from the log.
        _ = try await handler.createFlow(self.create("shoes"), metadata: metadata)
        let runner = FlowRunner(
            worker: FlowWorker(handler: handler, cluster: EmptyCluster(), clock: { Date() }),
            start: { try await FlowQueries(store: store).runnerStart() }
        )
        for _ in 0..<200 where !runner.activeFlows.contains("shoes-create") {
            try await runner.tick()
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(Set(runner.activeFlows) == ["cart-create", "shoes-create"])
        #expect(runner.finishedFlows.isEmpty, "no finished flow was looked at again")
        #expect(runner.pendingDeletions.isEmpty, "the pending deletion was carried out (nothing left to delete)")
        #expect(try await handler.load(Instance.self, stream: Streams.instance(retired)).state.deletion?.deletedAt != nil)
    }

    @Test("with nothing projected yet it reads the whole log")
    func nothingProjected() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        let start = try await FlowQueries(store: store).runnerStart()
        #expect(start.position == .start && start.flows.isEmpty && start.deletions.isEmpty)
    }
}
