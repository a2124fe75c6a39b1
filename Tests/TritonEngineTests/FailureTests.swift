import Foundation
import KubeSim
import PostgresStore
import Testing
import TritonDomain
import TritonEngine
import TritonSimAdapter
import TritonTesting

/// Batches that fail (image pull, start-up timeout) and the rollback after one.
@Suite("Failed batches and rollback")
struct FailureTests {
    static func update(_ id: String, _ appSpec: AppSpec, existing: [String], startupTimeout: Int = 600) -> DeployFlow.CreateFlow {
        DeployFlow.CreateFlow(
            flowID: FlowID(id), instance: EngineHarness.instance, action: .update, appSpec: appSpec,
            currentReplicas: 10, targetReplicas: 10, existingPods: existing,
            strategy: Strategy(batchSize: .count(3), mode: .auto, startupTimeoutSeconds: startupTimeout)
        )
    }

    /// The flow failed in batch 1; later batches never started and the cluster was left alone after.
    static func expectFailedInBatchOne(_ h: EngineHarness, _ state: DeployFlow.State, reason: String) async throws {
        #expect(state.phase == .failed)
        #expect(state.batches[0].phase == .smokeFailed)
        #expect(state.failureReason?.contains(reason) == true, "\(state.failureReason ?? "-")")
        #expect(state.batches.dropFirst().allSatisfy { $0.startedAt == nil && $0.phase == .pending && $0.pods.isEmpty })
        let spec = h.cloneSetSpec()
        let events = try await h.store.readStream(Streams.flow(state.spec!.flowID), afterVersion: 0).count
        for _ in 0..<20 { _ = try await h.tick(state.spec!.flowID) }
        #expect(h.cloneSetSpec() == spec, "nothing is applied after the failure")
        #expect(try await h.store.readStream(Streams.flow(state.spec!.flowID), afterVersion: 0).count == events)
        // The old pods still serve: only batch 1's three new pods exist beside them.
        let v2 = try await h.workload().status.updateRevision
        #expect(try h.livePods().filter { $0.revision == v2 }.count == 3)
        #expect(try h.livePods().filter { $0.revision != v2 && $0.ready }.count == 10)
        let instance = try await h.handler.load(Instance.self, stream: Streams.instance(EngineHarness.instance)).state
        #expect(instance.activeFlow == nil)
        #expect(instance.releases.last?.outcome == .failed)
    }

    @Test("image pull failure: SmokeFailed, flow Failed, later batches untouched")
    func imagePullFailure() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        try await h.provision()
        let flow = FlowID("checkout-bad-image")
        _ = try await h.createFlow(
            Self.update(
                flow.rawValue, EngineHarness.appSpec("shop/checkout:v2-image-pull-failure"), existing: try h.existingPodNames()))
        let state = try await h.run(flow, until: \.isFinished)
        try await Self.expectFailedInBatchOne(h, state, reason: "ErrImagePull")
        #expect(try await h.clusterCounts() == ReplicaCounts(pending: 0, running: 0, ready: 10, failed: 3))
        // The flow stops observing once it failed (on the first failing pod it saw).
        #expect(state.failedReplicas >= 1)
        try await h.expectReplay(state)

    }

    @Test("pods that never get ready: SmokeFailed at the start-up timeout, flow Failed, later batches untouched")
    func startupTimeout() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        try await h.provision()
        let flow = FlowID("checkout-never-ready")
        let appSpec = EngineHarness.appSpec("shop/checkout:v2", annotations: [SimAnnotations.fault: "never-ready"])
        _ = try await h.createFlow(Self.update(flow.rawValue, appSpec, existing: try h.existingPodNames(), startupTimeout: 30))
        let state = try await h.run(flow, until: \.isFinished)
        try await Self.expectFailedInBatchOne(h, state, reason: "startup timeout")
        let started = try #require(state.batches[0].startedAt)
        let failed = try #require(state.finishedAt)
        #expect(failed.timeIntervalSince(started) >= 30)
        #expect(failed.timeIntervalSince(started) < 33)
        // Running, but not ContainersReady.
        #expect(state.batches[0].pods.allSatisfy { $0.phase == .running && !$0.containersReady })
        #expect(try await h.clusterCounts() == ReplicaCounts(pending: 0, running: 3, ready: 10, failed: 0))
        try await h.expectReplay(state)
    }

    /// After the failed update the CloneSet holds 13 pods (10 v1 + 3 failing v2 surge pods). The rollback
    /// sets the v1 template back, so the 10 v1 pods become the update revision and the failing pods the
    /// "old" ones; the rollback names the failing pods in `podsToDelete` while Initializing (domain rule
    /// `leftoverPods`), and starts its batches from 10 healthy pods.
    @Test("rollback to v1 after the failed batch: the failed pods go first, then the batches; Success with 10 v1 pods")
    func rollbackAfterFailedBatch() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        let created = try await h.provision()
        let v1 = try await h.workload().status.updateRevision
        let flow = FlowID("checkout-bad-image")
        _ = try await h.createFlow(
            Self.update(
                flow.rawValue, EngineHarness.appSpec("shop/checkout:v2-image-pull-failure"), existing: try h.existingPodNames()))
        let state = try await h.run(flow, until: \.isFinished)
        try #require(state.phase == .failed)
        let failedPods = try h.livePods().filter { !$0.ready }.map(\.name)
        try #require(failedPods.count == 3)

        // Roll back to the create's template, in batches.
        let instance = try await h.handler.load(Instance.self, stream: Streams.instance(EngineHarness.instance)).state
        let target = try instance.rollbackTarget(try #require(created.spec?.flowID))
        let rollback = FlowID("checkout-rollback")
        _ = try await h.createFlow(
            DeployFlow.CreateFlow(
                flowID: rollback, instance: EngineHarness.instance, action: .rollback, appSpec: target, currentReplicas: 10,
                targetReplicas: 10, existingPods: try h.existingPodNames(),
                strategy: Strategy(batchSize: .count(5), mode: .auto), rollbackTo: created.spec?.flowID))
        var minReady = Int.max
        let rolledBack = try await h.run(rollback) { _ in
            minReady = min(minReady, (try? h.livePods().filter(\.ready).count) ?? 0)
        } until: {
            $0.isFinished
        }
        #expect(rolledBack.phase == .success)
        #expect(rolledBack.batches.map(\.phase) == [.baked, .baked])
        #expect(minReady >= 10)
        let deletions = rolledBack.appliedMutations.filter {
            $0.hasPrefix(FlowWorker.workloadKeyPrefix) && !$0.hasSuffix("podsToDelete=[]")
        }
        #expect(
            deletions.count == 1
                && deletions.first?.hasSuffix("podsToDelete=[\(failedPods.sorted().joined(separator: ","))]") == true,
            "\(deletions)")
        h.settle(seconds: 30)
        let pods = try h.pods()
        #expect(pods.count == 10)
        #expect(pods.allSatisfy { $0.revision == v1 && $0.ready })
        #expect(try await h.workload().image == "shop/checkout:v1")
        try await h.expectReplay(rolledBack)
    }
}
