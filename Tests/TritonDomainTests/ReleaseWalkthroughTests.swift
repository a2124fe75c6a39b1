import Foundation
import Testing

@testable import TritonDomain

@Suite("Releases walked through observations")
struct ReleaseWalkthroughTests {
    /// The article's canary release: update 10 replicas, canary 1, batchSize 3, manual.
    @Test("manual canary release, step by step")
    func manualCanary() throws {
        var flow = FlowHarness()
        let strategy = Strategy(batchSize: .count(3), canary: 1)
        #expect(typeNames(try flow.run(.create(createFlow(.update, current: 10, strategy: strategy)))) == ["FlowCreated"])
        #expect(flow.phase == .pending)

        // The observer reports the CloneSet: the executor may prepare it.
        #expect(
            try flow.run(.observeWorkload(workload(replicas: 10, updated: 0)), source: .observer) == [
                .workloadObserved(.init(workload: workload(replicas: 10, updated: 0), at: at(2))),
                .flowInitializing(.init(at: at(2))),
            ])
        #expect(flow.phase == .initializing)

        // Prepared: batch 1 starts without a next, with its startup timeout.
        #expect(
            try flow.run(.mutationApplied(key: "prep", kind: .prepareWorkload, resourceVersion: "41"), source: .executor)
                == [
                    .mutationApplied(.init(key: "prep", kind: .prepareWorkload, resourceVersion: "41", at: at(3))),
                    .batchStarted(.init(batch: 1, at: at(3))),
                    .timerScheduled(
                        .init(id: "startupTimeout-1-1", kind: .startupTimeout, batch: 1, dueAt: at(603), at: at(3))),
                ])
        #expect(flow.phase == .batchStarted)
        #expect(flow.state.currentBatch == 1)

        // The canary pod appears and is assigned to batch 1.
        #expect(
            try flow.run(.observePod(pod("demo-new1", .scheduled)), source: .observer) == [
                .podObserved(.init(pod: pod("demo-new1", .scheduled), at: at(4))),
                .podAssigned(.init(pod: "demo-new1", batch: 1, at: at(4))),
            ])
        // The same observation again changes nothing.
        #expect(try flow.run(.observePod(pod("demo-new1", .scheduled)), source: .observer) == [])

        #expect(
            try flow.run(.observePod(pod("demo-new1", .running)), source: .observer) == [
                .podObserved(.init(pod: pod("demo-new1", .running), at: at(6))),
                .batchPhaseChanged(.init(batch: 1, from: .pending, to: .smoking, at: at(6))),
            ])
        #expect(
            try flow.run(.observePod(pod("demo-new1", .smoked)), source: .observer) == [
                .podObserved(.init(pod: pod("demo-new1", .smoked), at: at(7))),
                .batchPhaseChanged(.init(batch: 1, from: .smoking, to: .smoked, at: at(7))),
                .timerCanceled(.init(id: "startupTimeout-1-1", at: at(7))),
            ])
        // The canary stops at Smoked: no traffic until someone says next.
        #expect(DeployFlow.waitingStep(flow.state) == .pullIn(batch: 1))
        #expect(flow.state.batches[0].pods[0].pulledIn == false)
        #expect(
            try flow.run(.next) == [
                .nextRequested(.init(batch: 1, step: .pullIn, at: at(8))),
                .batchPhaseChanged(.init(batch: 1, from: .smoked, to: .baking, at: at(8))),
            ])
        #expect(flow.state.batches[0].pods[0].pulledIn)
        #expect(flow.state.batches[0].pulledInAt == at(8))

        // The executor set the gate; the pod is Ready: Baked, and the batch is finished.
        #expect(
            try flow.run(.observePod(pod("demo-new1", .ready)), source: .observer) == [
                .podObserved(.init(pod: pod("demo-new1", .ready), at: at(9))),
                .batchPhaseChanged(.init(batch: 1, from: .baking, to: .baked, at: at(9))),
                .batchFinished(.init(batch: 1, at: at(9))),
            ])
        #expect(flow.phase == .batchFinished)
        #expect(flow.state.finishedBatches == 1)
        #expect(flow.state.finishedReplicas == 1)

        // Stops at Baked too; next starts batch 2.
        #expect(DeployFlow.waitingStep(flow.state) == .startBatch(batch: 2))
        #expect(
            try flow.run(.next) == [
                .nextRequested(.init(batch: 2, step: .startBatch, at: at(10))),
                .batchStarted(.init(batch: 2, at: at(10))),
                .timerScheduled(
                    .init(id: "startupTimeout-2-2", kind: .startupTimeout, batch: 2, dueAt: at(610), at: at(10))),
            ])

        // Non-canary batches go from Smoked straight to Baking, and stop at Baked.
        let batch2 = ["demo-new2", "demo-new3", "demo-new4"]
        try flow.observe(batch2, .running)
        #expect(flow.batchPhase(2) == .smoking)
        try flow.observe(batch2, .smoked)
        #expect(flow.batchPhase(2) == .baking)
        #expect(flow.state.batches[1].pods.allSatisfy { $0.pulledIn })
        #expect(flow.state.pendingTimers.isEmpty)
        try flow.observe(batch2, .ready)
        #expect(flow.phase == .batchFinished)
        #expect(flow.rejection(.observePod(pod("demo-new2", .ready))) == nil)

        for (n, names) in [(3, ["demo-new5", "demo-new6", "demo-new7"]), (4, ["demo-new8", "demo-new9", "demo-new10"])] {
            try flow.run(.next)
            #expect(flow.state.currentBatch == n)
            try flow.observe(names, .smoked)
            try flow.observe(names, .ready)
            #expect(flow.batchPhase(n) == .baked)
        }
        // All batches Baked, but old pods are still there: not yet Success.
        #expect(flow.phase == .batchFinished)
        #expect(flow.rejection(.next)?.code == .nothingToAdvance)
        try flow.run(.observeWorkload(workload(replicas: 13, updated: 10, generation: 5)), source: .observer)
        #expect(flow.phase == .batchFinished)
        let done = try flow.run(.observeWorkload(workload(replicas: 10, updated: 10, generation: 6)), source: .observer)
        #expect(typeNames(done) == ["WorkloadObserved", "FlowSucceeded"])
        #expect(flow.phase == .success)
        #expect(flow.state.finishedReplicas == 10)
        #expect(flow.state.finishedAt == at(flow.clock))
        #expect(flow.state.batches.map(\.phase) == [.baked, .baked, .baked, .baked])
        #expect(flow.state.batches.map { $0.liveAddedPods.count } == [1, 3, 3, 3])
    }

    @Test("auto mode: the canary stops at Smoked for a decision; after next it runs on by itself, with a batch interval timer between batches")
    func autoMode() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.update, current: 3, strategy: Strategy(batchSize: .count(1), canary: 1, mode: .auto, batchIntervalSeconds: 30)))
        #expect(flow.state.plan.sizes == [1, 1, 1])
        try flow.observe(["demo-new1"], .smoked)
        // Auto too: the canary waits at Smoked, out of traffic, for someone to pull it in.
        #expect(flow.batchPhase(1) == .smoked)
        #expect(DeployFlow.waitingStep(flow.state) == .pullIn(batch: 1))
        #expect(typeNames(try flow.run(.next)).first == "NextRequested")
        #expect(flow.batchPhase(1) == .baking)
        let baked = try flow.run(.observePod(pod("demo-new1", .ready)), source: .observer)
        #expect(
            Array(baked.suffix(2)) == [
                .batchFinished(.init(batch: 1, at: at(flow.clock))),
                .timerScheduled(
                    .init(
                        id: "batchInterval-1-2", kind: .batchInterval, batch: 1, dueAt: at(flow.clock + 30),
                        at: at(flow.clock))),
            ])
        #expect(flow.rejection(.next)?.code == .nothingToAdvance)
        let fired = try flow.run(.timerFired(id: "batchInterval-1-2"), after: 30, source: .timer)
        #expect(typeNames(fired) == ["TimerFired", "BatchStarted", "TimerScheduled"])
        #expect(flow.state.currentBatch == 2)
        // The same timer firing again produces nothing.
        #expect(try flow.run(.timerFired(id: "batchInterval-1-2"), source: .timer) == [])

        try flow.observe(["demo-new2"], .smoked)
        try flow.observe(["demo-new2"], .ready)
        try flow.fire(.batchInterval)
        try flow.observe(["demo-new3"], .smoked)
        try flow.observe(["demo-new3"], .ready)
        #expect(flow.state.currentBatch == 3)
        // The last batch schedules no interval.
        #expect(flow.state.pendingTimers.isEmpty)
        try flow.run(.observeWorkload(workload(replicas: 3, updated: 3)), source: .observer)
        #expect(flow.phase == .success)
    }

    @Test("auto mode with a zero interval still goes through a timer")
    func autoZeroInterval() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.scaleOut, current: 2, target: 4, strategy: Strategy(batchSize: .count(1), mode: .auto)))
        try flow.observe(["demo-new1"], .ready)
        let timer = try #require(flow.state.pendingTimers.first)
        #expect(timer.kind == .batchInterval)
        #expect(timer.dueAt == at(flow.clock))
        try flow.fire(.batchInterval)
        try flow.observe(["demo-new2"], .ready)
        #expect(flow.phase == .success)
    }

    @Test("create: a new CloneSet brought up batch by batch")
    func createAction() throws {
        var flow = FlowHarness()
        try flow.run(.create(createFlow(.create, current: 0, target: 2, pods: [], strategy: Strategy(batchSize: .count(1)))))
        try flow.run(.observeWorkload(.missing), source: .observer)
        #expect(flow.phase == .initializing)
        try flow.prepare()
        // The CloneSet is not seen yet: wait.
        #expect(flow.phase == .initializing)
        try flow.run(.observeWorkload(workload(replicas: 0, updated: 0)), source: .observer)
        #expect(flow.phase == .batchStarted)
        try flow.observe(["demo-a"], .ready)
        #expect(flow.batchPhase(1) == .baked)
        try flow.run(.next)
        try flow.observe(["demo-b"], .ready)
        #expect(flow.phase == .success)
    }

    @Test("noPullIn: even the manual canary goes Smoked → Baking by itself")
    func noPullIn() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.update, current: 2, strategy: Strategy(batchSize: .count(1), canary: 1, noPullIn: true)))
        let events = try flow.run(.observePod(pod("demo-new1", .smoked)), source: .observer)
        let phases: [BatchPhase] = events.compactMap { event -> BatchPhase? in
            if case .batchPhaseChanged(let change) = event { return change.to }
            return nil
        }
        #expect(phases == [.smoking, .smoked, .baking])
    }

    @Test("continueTo runs on without stopping until that batch is Baked")
    func continueTo() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.update, current: 4, strategy: Strategy(batchSize: .count(1), canary: 1)))
        try flow.run(.continueTo(batch: 3))
        #expect(flow.state.continueTarget == 3)
        for (n, name) in [(1, "demo-new1"), (2, "demo-new2"), (3, "demo-new3")] {
            #expect(flow.state.currentBatch == n)
            try flow.observe([name], .smoked)
            #expect(flow.batchPhase(n) == .baking)
            try flow.observe([name], .ready)
        }
        // Batch 3 reached: stops again.
        #expect(flow.phase == .batchFinished)
        #expect(flow.state.currentBatch == 3)
        #expect(DeployFlow.waitingStep(flow.state) == .startBatch(batch: 4))
    }

    @Test("continueTo from a stopped Baked batch starts the next batch at once")
    func continueFromBaked() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.update, current: 3, strategy: Strategy(batchSize: .count(1))))
        try flow.observe(["demo-new1"], .ready)
        let events = try flow.run(.continueTo(batch: 3))
        #expect(typeNames(events) == ["ContinueRequested", "BatchStarted", "TimerScheduled"])
    }

    @Test("pods are assigned in order of appearance up to the batch size; old-revision pods never")
    func assignment() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.update, current: 4, strategy: Strategy(batchSize: .count(2))))
        try flow.observe(pod("demo-old1", .terminating, updated: false))
        try flow.observe(["demo-x", "demo-y", "demo-z"], .scheduled)
        #expect(flow.state.batches[0].pods.map(\.name) == ["demo-x", "demo-y"])
        // demo-y disappears: demo-z takes its place.
        try flow.observe(pod("demo-y", .gone))
        #expect(flow.state.batches[0].liveAddedPods.map(\.name) == ["demo-x", "demo-z"])
        #expect(flow.state.pod(named: "demo-y") == nil)
    }

    @Test("a workload that disappears aborts the flow")
    func workloadGone() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.update, current: 2))
        let events = try flow.run(.observeWorkload(.missing), source: .observer)
        #expect(typeNames(events) == ["WorkloadObserved", "FlowAborted", "TimerCanceled"])
        #expect(flow.phase == .aborted)
        #expect(flow.state.pendingTimers.isEmpty)
    }

    @Test("an update of an instance that does not exist is aborted")
    func updateMissing() throws {
        var flow = FlowHarness()
        try flow.run(.create(createFlow(.update, current: 2)))
        try flow.run(.observeWorkload(.missing), source: .observer)
        #expect(flow.phase == .aborted)
        #expect(flow.state.failureReason?.contains("prod/demo") == true)
    }
}
