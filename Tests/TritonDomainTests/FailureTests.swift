import Foundation
import Testing

@testable import TritonDomain

@Suite("Batch failures")
struct FailureTests {
    @Test("an image pull failure fails the batch (SmokeFailed) and the flow; later batches never start")
    func imagePull() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.update, current: 3, strategy: Strategy(batchSize: .count(1), mode: .auto)))
        let events = try flow.run(.observePod(pod("demo-new1", .waiting("ImagePullBackOff"))), source: .observer)
        let now = at(flow.clock)
        #expect(
            events == [
                .podObserved(.init(pod: pod("demo-new1", .waiting("ImagePullBackOff")), at: now)),
                .podAssigned(.init(pod: "demo-new1", batch: 1, at: now)),
                .batchPhaseChanged(
                    .init(batch: 1, from: .pending, to: .smokeFailed, reason: "pod demo-new1: ImagePullBackOff", at: now)),
                .flowFailed(.init(batch: 1, reason: "batch 1 SmokeFailed: pod demo-new1: ImagePullBackOff", at: now)),
                .timerCanceled(.init(id: "startupTimeout-1-1", at: now)),
            ])
        #expect(flow.phase == .failed)
        #expect(flow.state.failedReplicas == 1)
        #expect(flow.state.batches[0].failureReason == "pod demo-new1: ImagePullBackOff")
        #expect(try flow.run(.observePod(pod("demo-new1", .ready))) == [])
        #expect(flow.rejection(.next)?.code == .flowFinished)
        #expect(flow.state.batches[1].isStarted == false)
    }

    @Test("the startup timeout firing before Smoked fails the batch")
    func startupTimeout() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.update, current: 2, strategy: Strategy(batchSize: .count(1), startupTimeoutSeconds: 120)))
        try flow.observe(["demo-new1"], .running)
        #expect(flow.batchPhase(1) == .smoking)
        let timer = try #require(flow.state.pendingTimers.first)
        #expect(timer.kind == .startupTimeout)
        #expect(timer.dueAt == at(3 + 120))
        let events = try flow.run(.timerFired(id: timer.id), after: 120, source: .timer)
        #expect(typeNames(events) == ["TimerFired", "BatchPhaseChanged", "FlowFailed"])
        #expect(flow.batchPhase(1) == .smokeFailed)
        #expect(flow.state.failureReason?.contains("startup timeout") == true)
    }

    @Test("the startup timeout is canceled once Smoked; firing later does nothing")
    func startupTimeoutAfterSmoked() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.update, current: 2, strategy: Strategy(batchSize: .count(1))))
        let id = try #require(flow.state.pendingTimers.first).id
        try flow.observe(["demo-new1"], .smoked)
        #expect(flow.state.pendingTimers.isEmpty)
        #expect(try flow.run(.timerFired(id: id), after: 600) == [])
    }

    @Test("startupTimeoutSeconds 0 schedules no timer")
    func noStartupTimeout() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.update, current: 2, strategy: Strategy(batchSize: .count(1), startupTimeoutSeconds: 0)))
        #expect(flow.state.pendingTimers.isEmpty)
    }

    @Test("a crash loop while Smoking is SmokeFailed")
    func crashWhileSmoking() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.update, current: 2, strategy: Strategy(batchSize: .count(2))))
        try flow.observe(["demo-new1", "demo-new2"], .running)
        try flow.observe(pod("demo-new2", .waiting("CrashLoopBackOff")))
        #expect(flow.batchPhase(1) == .smokeFailed)
        #expect(flow.phase == .failed)
    }

    @Test("a Baking batch whose pod crashes is BakeFailed")
    func bakeFailed() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.update, current: 2, strategy: Strategy(batchSize: .count(1), canary: 1)))
        try flow.observe(["demo-new1"], .smoked)
        try flow.run(.next)
        var crashing = pod("demo-new1", .waiting("CrashLoopBackOff"))
        crashing.phase = .running
        crashing.restartCount = 3
        let events = try flow.run(.observePod(crashing), source: .observer)
        #expect(typeNames(events) == ["PodObserved", "BatchPhaseChanged", "FlowFailed"])
        #expect(flow.batchPhase(1) == .bakeFailed)
        #expect(flow.state.failureReason == "batch 1 BakeFailed: pod demo-new1: CrashLoopBackOff")
    }

    @Test("a pod failing while the flow is paused fails the batch on resume")
    func failureWhilePaused() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.update, current: 2, strategy: Strategy(batchSize: .count(1))))
        try flow.run(.pause)
        try flow.observe(pod("demo-new1", .waiting("ErrImagePull")))
        #expect(flow.phase == .batchStarted)
        try flow.run(.resume)
        #expect(flow.phase == .failed)
    }
}
