import EventStore
import Foundation
import KubeSim
import PostgresStore
import Testing
import TritonDomain
import TritonEngine
import TritonJSON
import TritonSimAdapter
import TritonTesting

/// pause / resume / cancel mid-batch, against the simulated cluster.
@Suite("Pause, resume and cancel mid-batch")
struct ControlTests {
    static func update(_ id: String, image: String, existing: [String]) -> DeployFlow.CreateFlow {
        DeployFlow.CreateFlow(
            flowID: FlowID(id), instance: EngineHarness.instance, action: .update, appSpec: EngineHarness.appSpec(image),
            currentReplicas: 10, targetReplicas: 10, existingPods: existing,
            strategy: Strategy(batchSize: .count(3), mode: .auto)
        )
    }

    /// The spec fields the executor writes.
    static func specSnapshot(_ h: EngineHarness) -> String {
        let spec = h.cloneSetSpec()
        let replicas = spec["replicas"]?.intValue ?? -1
        let partition = spec[path: ["updateStrategy", "partition"]]?.intValue ?? -1
        let paused = spec[path: ["updateStrategy", "paused"]]?.boolValue ?? false
        return "replicas=\(replicas) partition=\(partition) paused=\(paused)"
    }

    @Test("pause mid-batch pauses the CloneSet and nothing progresses; resume finishes the release")
    func pauseResume() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        try await h.provision()
        let flow = FlowID("checkout-pause")
        _ = try await h.createFlow(Self.update(flow.rawValue, image: "shop/checkout:v2", existing: try h.existingPodNames()))
        var state = try await h.run(flow) { $0.currentBatch == 2 && $0.current?.phase == .pending && $0.current?.pods.count == 3 }

        state = try await h.send(.pause, flow, reason: "hold on")
        #expect(state.paused)
        state = try await h.tick(flow)
        #expect(h.cloneSetSpec()[path: ["updateStrategy", "paused"]]?.boolValue == true)
        let spec = Self.specSnapshot(h)
        let batches = state.batches
        let phase = state.phase
        for _ in 0..<60 { state = try await h.tick(flow) }
        #expect(state.batches.map(\.phase) == batches.map(\.phase), "no batch moves while paused")
        #expect(state.currentBatch == 2 && state.phase == phase)
        #expect(Self.specSnapshot(h) == spec, "the executor changes nothing while paused")
        #expect(try h.livePods().count == 13)
        await #expect(throws: DomainRejection.self) { try await h.send(.next, flow) }

        state = try await h.send(.resume, flow, reason: "go on")
        #expect(!state.paused)
        state = try await h.tick(flow)
        #expect(h.cloneSetSpec()[path: ["updateStrategy", "paused"]]?.boolValue == false)
        state = try await h.run(flow, until: \.isFinished)
        #expect(state.phase == .success)
        let keys = state.appliedMutations.filter { $0.hasPrefix(FlowWorker.workloadKeyPrefix) }
        #expect(keys.contains { $0.hasSuffix("replicas=13 partition=7 paused=true podsToDelete=[]") })
        #expect(keys.contains { $0.hasSuffix("replicas=13 partition=7 paused=false podsToDelete=[]") })
        try await h.expectReplay(state)
    }

    @Test("cancel mid-batch: the flow is Canceled, the instance freed, and nothing more is applied")
    func cancelMidBatch() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        try await h.provision()
        let flow = FlowID("checkout-cancel")
        _ = try await h.createFlow(Self.update(flow.rawValue, image: "shop/checkout:v2", existing: try h.existingPodNames()))
        var state = try await h.run(flow) { $0.currentBatch == 2 && $0.current?.phase == .smoking }
        state = try await h.send(.cancel, flow, reason: "wrong build")
        #expect(state.phase == .canceled)
        #expect(state.pendingTimers.isEmpty)
        let spec = Self.specSnapshot(h)
        let events = try await h.store.readStream(Streams.flow(flow), afterVersion: 0).count
        for _ in 0..<30 { state = try await h.tick(flow) }
        #expect(state.phase == .canceled)
        #expect(Self.specSnapshot(h) == spec)
        #expect(try await h.store.readStream(Streams.flow(flow), afterVersion: 0).count == events, "nothing more recorded")
        #expect(
            try h.livePods().allSatisfy { state.batches[1].pods.map(\.name).contains($0.name) ? $0.gate != .true : true },
            "the canceled batch's pods were never pulled in")
        let instance = try await h.handler.load(Instance.self, stream: Streams.instance(EngineHarness.instance)).state
        #expect(instance.activeFlow == nil)
        #expect(instance.releases.last?.outcome == .canceled)
        try await h.expectReplay(state)
    }
}
