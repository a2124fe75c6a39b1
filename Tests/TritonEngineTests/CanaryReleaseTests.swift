import Foundation
import KubeSim
import Testing
import TritonDomain
import TritonEngine
import TritonJSON
import TritonSimAdapter
import TritonTesting

/// The article's canary release, driven by the engine against the simulated cluster.
@Suite("Canary release against the simulated cluster")
struct CanaryReleaseTests {
    static func canaryUpdate(_ id: String, existing: [String], mode: Mode = .manual, interval: Int = 0) -> DeployFlow.CreateFlow {
        DeployFlow.CreateFlow(
            flowID: FlowID(id), instance: EngineHarness.instance, action: .update,
            appSpec: EngineHarness.appSpec("shop/checkout:v2"), currentReplicas: 10, targetReplicas: 10,
            existingPods: existing,
            strategy: Strategy(batchSize: .count(3), canary: 1, mode: mode, batchIntervalSeconds: interval)
        )
    }

    @Test("manual: canary stops at Smoked without traffic, then Baked; next runs each batch; Success with 10 updated Ready pods")
    func manualCanary() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        try h.createService()
        let created = try await h.provision()
        try await h.expectReplay(created)
        let v1 = try await h.workload().status.updateRevision
        let oldPods = try h.existingPodNames()
        #expect(oldPods.count == 10)
        #expect(try await h.clusterCounts() == ReplicaCounts(pending: 0, running: 0, ready: 10, failed: 0))

        let flow = FlowID("checkout-update")
        _ = try await h.createFlow(Self.canaryUpdate(flow.rawValue, existing: oldPods))

        // The canary: one new pod surges and stops at Smoked, out of traffic.
        var state = try await h.run(flow) { s in
            #expect(s.current?.phase != .baking, "the canary must not be pulled in without next")
        } until: {
            DeployFlow.waitingStep($0) == .pullIn(batch: 1)
        }
        #expect(state.plan.batches.map(\.size) == [1, 3, 3, 3])
        #expect(state.current?.phase == .smoked)
        let v2 = try await h.workload().status.updateRevision
        #expect(v2 != v1)
        let canary = try #require(state.current?.pods.first)
        let canaryPod = try #require(try h.livePods().first { $0.name == canary.name })
        #expect(canaryPod.revision == v2)
        #expect(canaryPod.containersReady && !canaryPod.ready && canaryPod.gate != .true)
        // No traffic: the Service's endpoints list it as not ready, the 10 old pods as ready.
        #expect(h.endpoints().notReady == [canary.name])
        #expect(h.endpoints().ready == Set(oldPods))
        #expect(h.cloneSetSpec()["replicas"]?.intValue == 11)
        #expect(h.cloneSetSpec()[path: ["updateStrategy", "partition"]]?.intValue == 10)
        #expect(try await h.clusterCounts() == ReplicaCounts(pending: 0, running: 1, ready: 10, failed: 0))
        #expect(ReplicaCounts(state.pods) == ReplicaCounts(pending: 0, running: 1, ready: 10, failed: 0))

        // It stays there: time passes, nothing moves.
        for _ in 0..<20 { state = try await h.tick(flow) }
        #expect(state.current?.phase == .smoked)
        #expect(try h.livePods().first { $0.name == canary.name }?.ready == false)

        // next: pulled in (Baking), Ready, Baked; one old pod goes; the flow stops again.
        state = try await h.send(.next, flow, reason: "canary smoke-tested")
        #expect(state.current?.phase == .baking)
        state = try await h.run(flow) { DeployFlow.waitingStep($0) == .startBatch(batch: 2) }
        #expect(state.batches[0].phase == .baked)
        #expect(try h.livePods().first { $0.name == canary.name }?.ready == true)
        #expect(h.endpoints().ready.contains(canary.name))
        state = try await h.run(flow) { _ in (try? h.livePods().count) == 10 }
        #expect(try await h.clusterCounts() == ReplicaCounts(pending: 0, running: 0, ready: 10, failed: 0))
        #expect(ReplicaCounts(state.pods) == ReplicaCounts(pending: 0, running: 0, ready: 10, failed: 0))
        #expect(try h.livePods().filter { $0.revision == v1 }.count == 9)
        for _ in 0..<10 { state = try await h.tick(flow) }
        #expect(DeployFlow.waitingStep(state) == .startBatch(batch: 2), "a Baked canary waits for next")

        // Each batch in turn.
        for batch in 2...4 {
            state = try await h.send(.next, flow, reason: "metrics healthy: start batch \(batch)")
            #expect(state.currentBatch == batch)
            var sawSurge = false
            state = try await h.run(flow) { s in
                if s.current?.phase == .smoked || s.current?.phase == .smoking { sawSurge = true }
            } until: { s in
                s.isFinished || DeployFlow.waitingStep(s) == .startBatch(batch: batch + 1)
            }
            #expect(sawSurge)
            #expect(state.batches[batch - 1].phase == .baked)
            #expect(state.batches[batch - 1].liveAddedPods.count == 3)
            if batch < 4 {
                state = try await h.run(flow) { _ in (try? h.livePods().count) == 10 }
                let updated = 1 + 3 * (batch - 1)
                #expect(try h.livePods().filter { $0.revision == v2 }.count == updated)
                #expect(try await h.clusterCounts() == ReplicaCounts(pending: 0, running: 0, ready: 10, failed: 0))
                #expect(state.phase == .batchFinished)
            }
        }
        state = try await h.run(flow, until: \.isFinished)
        #expect(state.phase == .success)
        #expect(state.finishedBatches == 4)

        // The old revision is gone once terminations finish.
        h.settle(seconds: 30)
        let pods = try h.pods()
        #expect(pods.count == 10)
        #expect(pods.allSatisfy { $0.revision == v2 && $0.ready && !$0.terminating })
        #expect(pods.allSatisfy { !oldPods.contains($0.name) })
        #expect(h.endpoints().ready == Set(pods.map(\.name)) && h.endpoints().notReady.isEmpty)
        let workload = try await h.workload()
        #expect(workload.status.updatedReplicas == 10 && workload.status.readyReplicas == 10)
        #expect(workload.status.currentRevision == v2)
        #expect(workload.image == "shop/checkout:v2")

        // The instance is free again, and the log replays to the live state.
        let instance = try await h.handler.load(Instance.self, stream: Streams.instance(EngineHarness.instance)).state
        #expect(instance.activeFlow == nil)
        #expect(instance.releases.map(\.outcome) == [.success, .success])
        let workloadKeys = state.appliedMutations.filter { $0.hasPrefix(FlowWorker.workloadKeyPrefix) }.sorted()
        // DESIGN §2: surge each batch with the partition holding the old pods, then lower both.
        #expect(
            workloadKeys.map { $0.split(separator: " ").dropFirst().joined(separator: " ") }
                == [
                    (11, 10), (10, 9), (13, 9), (10, 6), (13, 6), (10, 3), (13, 3), (10, 0),
                ].map { "replicas=\($0.0) partition=\($0.1) paused=false podsToDelete=[]" })
        try await h.expectReplay(state)
    }

    @Test("auto: the canary stops at Smoked out of traffic for a decision; after next no more stops, each batch starts batchIntervalSeconds after the previous one finished")
    func autoCanary() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        try await h.provision()
        let oldPods = try h.existingPodNames()
        let flow = FlowID("checkout-auto")
        _ = try await h.createFlow(Self.canaryUpdate(flow.rawValue, existing: oldPods, mode: .auto, interval: 20))
        var minReady = Int.max
        var state = try await h.run(flow) { s in
            #expect(s.current?.phase != .baking, "the canary must not be pulled in without next")
            minReady = min(minReady, (try? h.livePods().filter(\.ready).count) ?? 0)
        } until: {
            DeployFlow.waitingStep($0) == .pullIn(batch: 1)
        }
        #expect(state.current?.phase == .smoked && state.currentBatch == 1)
        state = try await h.send(.next, flow, reason: "canary smoke-tested")
        state = try await h.run(flow) { s in
            #expect(DeployFlow.waitingStep(s) == nil, "after the canary, auto mode never waits for next")
            minReady = min(minReady, (try? h.livePods().filter(\.ready).count) ?? 0)
        } until: {
            $0.isFinished
        }
        #expect(state.phase == .success)
        #expect(minReady >= 10, "capacity never drops below the replica count")
        #expect(state.batches.map(\.phase) == [.baked, .baked, .baked, .baked])
        for batch in 2...4 {
            let started = try #require(state.batches[batch - 1].startedAt)
            let previousFinished = try #require(state.batches[batch - 2].finishedAt)
            let gap = started.timeIntervalSince(previousFinished)
            #expect(gap >= 20, "batch \(batch) started \(gap)s after batch \(batch - 1) finished")
            #expect(gap < 23, "batch \(batch) waited \(gap)s, far longer than the interval")
        }
        h.settle(seconds: 30)
        let v2 = try await h.workload().status.updateRevision
        #expect(try h.pods().count == 10)
        #expect(try h.pods().allSatisfy { $0.revision == v2 && $0.ready })
        try await h.expectReplay(state)
    }
}
