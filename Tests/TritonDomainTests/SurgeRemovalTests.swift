import Foundation
import Testing

@testable import TritonDomain

/// Update / rollback: a Baked batch finishes only once the CloneSet is back at its replica count, so the
/// next batch never raises `replicas` while the previous batch's old pods are still active (found by the
/// engine against the simulated cluster: with `batchIntervalSeconds: 0` the CloneSet surged to 16 pods
/// for a batch of 3 on 10 replicas).
@Suite("A batch finishes once its surge is removed")
struct SurgeRemovalTests {
    @Test("auto update: Baked with the surge still active waits; the next batch starts once replicas is back to N")
    func bakedWaitsForOldPodsRemoved() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.update, current: 10, strategy: Strategy(batchSize: .count(3), mode: .auto)))
        let batch1 = ["demo-new1", "demo-new2", "demo-new3"]
        try flow.run(.observeWorkload(workload(replicas: 13, updated: 3)), source: .observer)
        try flow.observe(batch1, .smoked)
        try flow.observe(batch1, .ready)
        #expect(flow.batchPhase(1) == .baked)
        #expect(flow.phase == .batchStarted, "Baked, but 13 pods are still active: not finished")
        #expect(flow.state.pendingTimers.allSatisfy { $0.kind != .batchInterval })
        // What the executor converges to now: replicas back to 10, partition 7 (the old pods go).
        let intent = try #require(DeployFlow.desiredWorkload(flow.state))
        #expect(intent.replicas == 10 && intent.partition == 7)

        // The CloneSet removed three old pods: the batch finishes and (interval 0) batch 2 follows.
        try flow.run(.observeWorkload(workload(replicas: 10, updated: 3)), source: .observer)
        #expect(flow.state.batches[0].isFinished)
        try flow.fire(.batchInterval)
        #expect(flow.state.currentBatch == 2)
        #expect(DeployFlow.desiredWorkload(flow.state)?.replicas == 13)
    }

    @Test("manual canary: the stop at Baked (next starts batch 2) comes only once the old pod is removed")
    func canaryStopsAfterRemoval() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.update, current: 10, strategy: Strategy(batchSize: .count(3), canary: 1)))
        try flow.run(.observeWorkload(workload(replicas: 11, updated: 1)), source: .observer)
        try flow.observe(["demo-new1"], .smoked)
        try flow.run(.next)
        try flow.observe(["demo-new1"], .ready)
        #expect(flow.batchPhase(1) == .baked)
        #expect(DeployFlow.waitingStep(flow.state) == nil)
        #expect(flow.rejection(.next)?.code == .nothingToAdvance)
        try flow.run(.observeWorkload(workload(replicas: 10, updated: 1)), source: .observer)
        #expect(DeployFlow.waitingStep(flow.state) == .startBatch(batch: 2))
    }

    @Test("scaleOut (no revision change) is not held by the rule")
    func otherActionsUnaffected() throws {
        for action in [Action.scaleOut] {
            var flow = FlowHarness()
            try flow.start(createFlow(action, current: 2, target: 4, strategy: Strategy(batchSize: .count(2), mode: .auto)))
            try flow.run(.observeWorkload(workload(replicas: 4, updated: 4)), source: .observer)
            try flow.observe(["demo-new1", "demo-new2"], .smoked)
            try flow.observe(["demo-new1", "demo-new2"], .ready)
            #expect(flow.phase == .success)
        }
    }
}

@Suite("The first batch starts with the CloneSet at its replica count")
struct StartAtReplicaCountTests {
    @Test("rollback after a failed update: batch 1 waits until the failed surge pods are gone")
    func startWaitsForLeftoverSurge() throws {
        var flow = FlowHarness()
        try flow.run(.create(createFlow(.rollback, current: 10, strategy: Strategy(batchSize: .count(5), mode: .auto))))
        // The failed update left 3 surge pods: 13 active.
        try flow.run(.observeWorkload(workload(replicas: 13, updated: 0)), source: .observer)
        try flow.prepare()
        #expect(flow.phase == .initializing)
        #expect(flow.state.currentBatch == 0)
        let intent = try #require(DeployFlow.desiredWorkload(flow.state))
        #expect(intent.replicas == 10 && intent.partition == 10, "Initializing brings the CloneSet back to N")
        try flow.run(.observeWorkload(workload(replicas: 10, updated: 10)), source: .observer)
        #expect(flow.phase == .batchStarted)
        #expect(flow.state.currentBatch == 1)
        #expect(DeployFlow.desiredWorkload(flow.state)?.replicas == 15)
    }
}

@Suite("An update or rollback removes a failed flow's leftover pods first")
struct LeftoverPodsTests {
    @Test("rollback with 3 failing surge pods beyond N: Initializing names exactly them in podsToDelete")
    func leftoverFailedPodsAreDeleted() throws {
        var flow = FlowHarness()
        let existing = oldPods(10) + ["demo-bad1", "demo-bad2", "demo-bad3"]
        try flow.run(
            .create(createFlow(.rollback, current: 10, pods: existing, strategy: Strategy(batchSize: .count(5), mode: .auto))))
        try flow.run(.observeWorkload(workload(replicas: 13, updated: 10)), source: .observer)
        try flow.observe(oldPods(10), .ready)
        try flow.observe(
            pod("demo-bad1", .waiting("ImagePullBackOff")), pod("demo-bad2", .running), pod("demo-bad3", .waiting("ErrImagePull"))
        )
        try flow.prepare()
        var intent = try #require(DeployFlow.desiredWorkload(flow.state))
        #expect(intent.replicas == 10 && intent.partition == 10)
        #expect(intent.podsToDelete == ["demo-bad1", "demo-bad3", "demo-bad2"], "failing ones first, then not Ready")
        // The CloneSet removed them: the first batch starts and nothing more is named.
        try flow.observe(pod("demo-bad1", .gone), pod("demo-bad2", .gone), pod("demo-bad3", .gone))
        try flow.run(.observeWorkload(workload(replicas: 10, updated: 10)), source: .observer)
        #expect(flow.state.currentBatch == 1)
        intent = try #require(DeployFlow.desiredWorkload(flow.state))
        #expect(intent.replicas == 15 && intent.podsToDelete.isEmpty)
    }

    @Test("no surplus, or only Ready pods beyond N: nothing is named")
    func healthySurplusIsLeftAlone() throws {
        var flow = FlowHarness()
        try flow.run(.create(createFlow(.update, current: 2, pods: ["demo-old1", "demo-old2", "demo-old3"])))
        try flow.run(.observeWorkload(workload(replicas: 3, updated: 0)), source: .observer)
        try flow.observe(["demo-old1", "demo-old2", "demo-old3"], .ready)
        try flow.prepare()
        #expect(DeployFlow.desiredWorkload(flow.state)?.podsToDelete == [])
    }
}
