import EventStore
import Foundation
import KubeSim
import PostgresStore
import Testing
import TritonDomain
import TritonEngine
import TritonSimAdapter
import TritonTesting

/// A cluster whose API server refuses every deletion.
struct RefusingDeletePort: ClusterPort {
    let base: SimClusterPort
    /// Like a Kubernetes client error: a generic description, the details in the debug text.
    struct Refused: Error, CustomStringConvertible, CustomDebugStringConvertible {
        var description: String { "Refused – generic" }
        var debugDescription: String { "the API server said no" }
    }
    func workload(_ instance: InstanceRef) async throws -> ClusterWorkload? { try await self.base.workload(instance) }
    func pods(_ instance: InstanceRef) async throws -> [ClusterPod] { try await self.base.pods(instance) }
    func createWorkload(_ instance: InstanceRef, appSpec: AppSpec) async throws -> String { try await self.base.createWorkload(instance, appSpec: appSpec) }
    func setTemplate(_ instance: InstanceRef, appSpec: AppSpec) async throws -> String { try await self.base.setTemplate(instance, appSpec: appSpec) }
    func apply(_ intent: DeployFlow.WorkloadIntent, to instance: InstanceRef) async throws -> String { try await self.base.apply(intent, to: instance) }
    func setGate(_ instance: InstanceRef, pod: String, to status: GateStatus) async throws -> String {
        try await self.base.setGate(instance, pod: pod, to: status)
    }
    func deleteWorkload(_ instance: InstanceRef, uid: String) async throws -> Bool { throw Refused() }
}

@Suite("Engine: deleting an instance")
struct DeletionTests {
    /// Creates `checkout` with 2 pods and runs the flow to success.
    func created(_ h: EngineHarness, flow: FlowID = "checkout-create") async throws {
        _ = try await h.createFlow(
            DeployFlow.CreateFlow(
                flowID: flow, instance: EngineHarness.instance, action: .create, appSpec: EngineHarness.appSpec("shop/checkout:v1"),
                currentReplicas: 0, targetReplicas: 2, strategy: Strategy(batchSize: .count(2), mode: .auto)))
        try await h.run(flow) { $0.phase == .success }
        _ = try await h.worker.step(flow)  // records the flow's end on the instance
    }

    func instanceEvents(_ h: EngineHarness) async throws -> [String] {
        try await h.store.readStream(Streams.instance(EngineHarness.instance), afterVersion: 0).map(\.type)
    }

    @Test("refused while a flow runs and for a CloneSet that does not exist; nothing written then")
    func refusals() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        await #expect {
            try await h.handler.requestDeletion(EngineHarness.instance, cluster: h.port, metadata: h.metadata())
        } throws: { ($0 as? DomainRejection)?.code == .notCreated && ($0 as? DomainRejection)?.field == "name" }
        _ = try await h.createFlow(
            DeployFlow.CreateFlow(
                flowID: "checkout-create", instance: EngineHarness.instance, action: .create,
                appSpec: EngineHarness.appSpec("shop/checkout:v1"), currentReplicas: 0, targetReplicas: 2,
                strategy: Strategy(batchSize: .count(1), mode: .manual)))
        let before = try await self.instanceEvents(h)
        await #expect {
            try await h.handler.requestDeletion(EngineHarness.instance, cluster: h.port, metadata: h.metadata())
        } throws: { ($0 as? DomainRejection)?.code == .activeFlowExists }
        #expect(try await self.instanceEvents(h) == before)
    }

    @Test("a crash between deleting and recording: the next step deletes nothing more and records it once")
    func crashSafe() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        try await self.created(h)
        #expect(try h.livePods().count == 2)
        let uid = try await h.workload().uid
        let state = try await h.handler.requestDeletion(EngineHarness.instance, cluster: h.port, metadata: h.metadata(reason: "retired"))
        #expect(state.pendingDeletion?.workloadUID == uid)
        // Asked again while pending: the same request, nothing appended.
        try await h.handler.requestDeletion(EngineHarness.instance, cluster: h.port, metadata: h.metadata("bob"))
        #expect(try await self.instanceEvents(h).filter { $0 == Instance.DeletionRequested.typeName }.count == 1)
        // No release starts on an instance being deleted.
        await #expect {
            try await h.handler.create(
                ReleaseRequest(instance: EngineHarness.instance, action: .scale(replicas: 3)), cluster: h.port, metadata: h.metadata())
        } throws: { ($0 as? DomainRejection)?.code == .instanceDeleting }

        let port = CrashAfterApplyPort(base: h.port)
        let cluster = h.cluster
        let worker = FlowWorker(handler: h.handler, cluster: port, clock: { cluster.clock.date(at: cluster.now) })
        await #expect(throws: CrashAfterApplyPort.CrashError.self) { try await worker.completeDeletion(EngineHarness.instance) }
        #expect(try await h.port.workload(EngineHarness.instance) == nil, "deleted, not recorded")
        #expect(try await h.handler.load(Instance.self, stream: Streams.instance(EngineHarness.instance)).state.pendingDeletion != nil)
        #expect(try await worker.completeDeletion(EngineHarness.instance) == false, "gone already: nothing more deleted")
        #expect(try await worker.completeDeletion(EngineHarness.instance) == false, "nothing pending")
        #expect(
            try await self.instanceEvents(h) == [
                Instance.FlowBegan.typeName, Instance.FlowEnded.typeName, Instance.DeletionRequested.typeName, Instance.Deleted.typeName,
            ])
        // The garbage collector takes the pods; the request's actor and reason are in the log.
        h.settle(seconds: 60)
        #expect(try h.pods().isEmpty)
        let requested = try #require(
            try await h.store.readStream(Streams.instance(EngineHarness.instance), afterVersion: 0).first {
                $0.type == Instance.DeletionRequested.typeName
            })
        let metadata = try EventMetadata.decode(json: requested.metadata)
        #expect(metadata.actor == "alice" && metadata.reason == "retired")

        // Gone: created again under the same name, as a new instance.
        try await self.created(h, flow: "checkout-create-2")
        #expect(try h.livePods().count == 2)
        #expect(try await h.handler.load(Instance.self, stream: Streams.instance(EngineHarness.instance)).state.deletion == nil)
    }

    @Test("the executor deletes only the CloneSet that was asked for, never one created under its name since")
    func onlyTheObjectAskedFor() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        try await self.created(h)
        try await h.handler.requestDeletion(EngineHarness.instance, cluster: h.port, metadata: h.metadata())
        // Someone deletes it by hand and creates another under the name before the executor runs.
        try h.cluster.delete(.cloneSets, namespace: "prod", name: "checkout")
        _ = try await h.port.createWorkload(EngineHarness.instance, appSpec: EngineHarness.appSpec("other/app:v9"))
        let other = try await h.workload().uid
        #expect(try await h.worker.completeDeletion(EngineHarness.instance) == false, "another CloneSet has the name now")
        #expect(try await h.port.workload(EngineHarness.instance)?.uid == other)
        #expect(try await self.instanceEvents(h).last == Instance.Deleted.typeName)
    }

    @Test("a deletion the cluster refuses stays pending, is retried, and is reported once, not every tick")
    func refusedDeletionIsReportedOnce() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        try await self.created(h)
        try await h.handler.requestDeletion(EngineHarness.instance, cluster: h.port, metadata: h.metadata())
        let reports = Collected<String>()
        let cluster = h.cluster
        let runner = FlowRunner(
            worker: FlowWorker(handler: h.handler, cluster: RefusingDeletePort(base: h.port), clock: { cluster.clock.date(at: cluster.now) }),
            onProblem: { reports.append($0) }
        )
        for _ in 0..<400 where runner.deletionErrors.isEmpty {
            try await runner.tick()
            try await Task.sleep(for: .milliseconds(25))
        }
        for _ in 0..<5 { try await runner.tick() }
        #expect(runner.pendingDeletions == [EngineHarness.instance])
        #expect(reports.items == ["deleting instance prod/checkout: the API server said no"])
        #expect(try await h.port.workload(EngineHarness.instance) != nil)
    }

    @Test("the runner finds requested deletions in the log and carries them out")
    func runnerCarriesOutDeletions() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        try await self.created(h)
        try await h.handler.requestDeletion(EngineHarness.instance, cluster: h.port, metadata: h.metadata())
        let runner = FlowRunner(worker: h.worker, tickInterval: .milliseconds(10))
        // The global log shows an event once every transaction begun before it has ended (other tests
        // write to the same database), so the runner may need a few ticks to see it.
        for _ in 0..<400 {
            try await runner.tick()
            if try await h.port.workload(EngineHarness.instance) == nil { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(runner.pendingDeletions.isEmpty && runner.deletionErrors.isEmpty)
        #expect(try await h.port.workload(EngineHarness.instance) == nil)
        #expect(try await self.instanceEvents(h).last == Instance.Deleted.typeName)
        // A runner started later (after a crash) reads the whole log and finds nothing left to do.
        let later = FlowRunner(worker: h.worker, tickInterval: .milliseconds(10))
        try await later.tick()
        #expect(later.pendingDeletions.isEmpty)
        #expect(try await self.instanceEvents(h).filter { $0 == Instance.Deleted.typeName }.count == 1)
    }
}
