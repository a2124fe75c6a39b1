import Foundation
import Testing

@testable import TritonDomain

/// Flows driven to each phase a control can meet.
enum Situation: String, CaseIterable, CustomTestStringConvertible {
    case notCreated, pending, initializing, batchPending, canarySmoked, baking, bakedWaiting, paused, lastBatchCompleting
    case success, failed, aborted, canceled

    var testDescription: String { self.rawValue }

    func flow() throws -> FlowHarness {
        var flow = FlowHarness()
        let create = createFlow(.update, current: 2, strategy: Strategy(batchSize: .count(1), canary: 1))
        switch self {
        case .notCreated:
            return flow
        case .pending:
            try flow.run(.create(create))
        case .initializing:
            try flow.run(.create(create))
            try flow.run(.observeWorkload(workload(replicas: 2, updated: 0)))
        case .batchPending:
            try flow.start(create)
        case .canarySmoked:
            try flow.start(create)
            try flow.observe(["demo-new1"], .smoked)
        case .baking:
            try flow.start(create)
            try flow.observe(["demo-new1"], .smoked)
            try flow.run(.next)
        case .bakedWaiting:
            flow = try Situation.baking.flow()
            try flow.observe(["demo-new1"], .ready)
        case .paused:
            try flow.start(create)
            try flow.run(.pause)
        case .lastBatchCompleting:
            flow = try Situation.bakedWaiting.flow()
            try flow.run(.next)
            try flow.observe(["demo-new2"], .ready)
        case .success:
            flow = try Situation.lastBatchCompleting.flow()
            try flow.run(.observeWorkload(workload(replicas: 2, updated: 2)))
        case .failed:
            try flow.start(create)
            try flow.observe(pod("demo-new1", .waiting("ErrImagePull")))
        case .aborted:
            try flow.start(create)
            try flow.run(.observeWorkload(.missing))
        case .canceled:
            try flow.start(create)
            try flow.run(.cancel)
        }
        return flow
    }

    var expectedPhase: FlowPhase? {
        switch self {
        case .notCreated: nil
        case .pending: .pending
        case .initializing: .initializing
        case .batchPending, .canarySmoked, .baking, .paused: .batchStarted
        case .bakedWaiting, .lastBatchCompleting: .batchFinished
        case .success: .success
        case .failed: .failed
        case .aborted: .aborted
        case .canceled: .canceled
        }
    }

    var isTerminal: Bool { [.success, .failed, .aborted, .canceled].contains(self) }
}

@Suite("Controls in every phase")
struct ControlTests {
    @Test("the situations reach the phases they claim", arguments: Situation.allCases)
    func situations(situation: Situation) throws {
        let flow = try situation.flow()
        if let phase = situation.expectedPhase { #expect(flow.phase == phase) } else { #expect(!flow.state.isCreated) }
    }

    @Test("pause", arguments: Situation.allCases)
    func pause(situation: Situation) throws {
        var flow = try situation.flow()
        let rejection = flow.rejection(.pause)
        switch situation {
        case .notCreated: #expect(rejection?.code == .notCreated)
        case .paused: #expect(rejection?.code == .paused)
        case _ where situation.isTerminal: #expect(rejection?.code == .flowFinished)
        default:
            #expect(rejection == nil)
            #expect(flow.state.paused)
            #expect(!flow.state.pendingTimers.contains { $0.kind == .startupTimeout })
        }
    }

    @Test("resume", arguments: Situation.allCases)
    func resume(situation: Situation) throws {
        var flow = try situation.flow()
        let rejection = flow.rejection(.resume)
        switch situation {
        case .notCreated: #expect(rejection?.code == .notCreated)
        case .paused:
            #expect(rejection == nil)
            #expect(!flow.state.paused)
        case _ where situation.isTerminal: #expect(rejection?.code == .flowFinished)
        default: #expect(rejection?.code == .notPaused)
        }
    }

    @Test("cancel", arguments: Situation.allCases)
    func cancel(situation: Situation) throws {
        var flow = try situation.flow()
        let rejection = flow.rejection(.cancel)
        switch situation {
        case .notCreated: #expect(rejection?.code == .notCreated)
        case _ where situation.isTerminal: #expect(rejection?.code == .flowFinished)
        default:
            #expect(rejection == nil)
            #expect(flow.phase == .canceled)
            #expect(flow.state.pendingTimers.isEmpty)
        }
    }

    @Test("next", arguments: Situation.allCases)
    func next(situation: Situation) throws {
        var flow = try situation.flow()
        let rejection = flow.rejection(.next)
        switch situation {
        case .notCreated: #expect(rejection?.code == .notCreated)
        case .canarySmoked:
            #expect(rejection == nil)
            #expect(flow.batchPhase(1) == .baking)
        case .bakedWaiting:
            #expect(rejection == nil)
            #expect(flow.state.currentBatch == 2)
        case .paused: #expect(rejection?.code == .paused)
        case _ where situation.isTerminal: #expect(rejection?.code == .flowFinished)
        default:
            #expect(rejection?.code == .nothingToAdvance)
            #expect(rejection?.reason.contains("nothing is waiting for next") == true)
        }
    }

    @Test("continueTo", arguments: Situation.allCases)
    func continueTo(situation: Situation) throws {
        var flow = try situation.flow()
        let beyond = flow.rejection(.continueTo(batch: 3))
        let zero = flow.rejection(.continueTo(batch: 0))
        switch situation {
        case .notCreated:
            #expect(beyond?.code == .notCreated)
        case _ where situation.isTerminal:
            #expect(beyond?.code == .flowFinished)
        default:
            #expect(beyond?.code == .invalidBatch)
            #expect(beyond?.reason.contains("beyond the plan") == true)
            #expect(zero?.code == .invalidBatch)
            let first = flow.rejection(.continueTo(batch: 1))
            if [.bakedWaiting, .lastBatchCompleting].contains(situation) {
                #expect(first?.code == .invalidBatch)
                #expect(first?.reason.contains("already finished") == true)
            } else {
                #expect(first == nil)
            }
        }
    }

    @Test("observations and timers reaching a finished flow produce nothing", arguments: Situation.allCases.filter(\.isTerminal))
    func finishedIgnoresFacts(situation: Situation) throws {
        var flow = try situation.flow()
        #expect(try flow.run(.observePod(pod("demo-new9", .ready))) == [])
        #expect(try flow.run(.observeWorkload(workload(replicas: 9, updated: 9))) == [])
        #expect(try flow.run(.timerFired(id: "startupTimeout-1-1")) == [])
        #expect(flow.rejection(.mutationApplied(key: "late", kind: .setGate, resourceVersion: "1"))?.code == .flowFinished)
    }

    @Test("commands before create are rejected")
    func beforeCreate() throws {
        var flow = FlowHarness()
        let kinds: [DeployFlow.Command.Kind] = [
            .observePod(pod("a", .ready)), .observeWorkload(.missing), .timerFired(id: "x"),
            .mutationApplied(key: "k", kind: .setGate, resourceVersion: nil),
        ]
        for kind in kinds { #expect(flow.rejection(kind)?.code == .notCreated) }
    }

    @Test("mutationApplied is recorded once per key")
    func mutationIdempotent() throws {
        var flow = try Situation.batchPending.flow()
        let kind = DeployFlow.Command.Kind.mutationApplied(key: "gate/demo-new1/True", kind: .setGate, resourceVersion: "77")
        #expect(typeNames(try flow.run(kind)) == ["MutationApplied"])
        #expect(try flow.run(kind) == [])
        #expect(flow.state.appliedMutations.contains("gate/demo-new1/True"))
    }

    @Test("pause holds the flow: observations are recorded but nothing moves until resume")
    func pauseHolds() throws {
        var flow = try Situation.paused.flow()
        let held = try flow.run(.observePod(pod("demo-new1", .smoked)))
        // Recorded and assigned, but no batch phase change.
        #expect(typeNames(held) == ["PodObserved", "PodAssigned"])
        #expect(flow.batchPhase(1) == .pending)
        #expect(flow.state.pendingTimers.isEmpty)
        let resumed = try flow.run(.resume)
        #expect(typeNames(resumed) == ["Resumed", "BatchPhaseChanged", "BatchPhaseChanged"])
        #expect(flow.batchPhase(1) == .smoked)
    }

    @Test("the startup timeout restarts on resume")
    func startupRestartsOnResume() throws {
        var flow = try Situation.batchPending.flow()
        let before = try #require(flow.state.pendingTimers.first)
        let paused = try flow.run(.pause, after: 100)
        #expect(paused == [.paused(.init(at: at(flow.clock))), .timerCanceled(.init(id: before.id, at: at(flow.clock)))])
        // The old timer reaching the worker anyway does nothing.
        #expect(try flow.run(.timerFired(id: before.id), after: 1000) == [])
        let resumed = try flow.run(.resume, after: 50)
        let id = "startupTimeout-1-\(flow.state.timerSequence)"
        #expect(
            resumed == [
                .resumed(.init(at: at(flow.clock))),
                .timerScheduled(
                    .init(id: id, kind: .startupTimeout, batch: 1, dueAt: at(flow.clock + 600), at: at(flow.clock))),
            ])
        #expect(flow.state.paused == false)
    }

    @Test("a batch interval firing while paused takes effect on resume")
    func intervalWhilePaused() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.update, current: 2, strategy: Strategy(batchSize: .count(1), mode: .auto, batchIntervalSeconds: 60)))
        try flow.observe(["demo-new1"], .ready)
        try flow.run(.pause)
        let fired = try flow.run(.timerFired(id: try #require(flow.state.pendingTimers.first).id), after: 60)
        #expect(typeNames(fired) == ["TimerFired"])
        #expect(flow.state.currentBatch == 1)
        let resumed = try flow.run(.resume)
        #expect(typeNames(resumed) == ["Resumed", "BatchStarted", "TimerScheduled"])
        #expect(flow.state.currentBatch == 2)
    }

    @Test("cancel cancels pending timers and is final")
    func cancelFinal() throws {
        var flow = try Situation.batchPending.flow()
        let id = try #require(flow.state.pendingTimers.first).id
        #expect(try flow.run(.cancel) == [.canceled(.init(at: at(flow.clock))), .timerCanceled(.init(id: id, at: at(flow.clock)))])
        #expect(flow.state.finishedAt == at(flow.clock))
        #expect(flow.rejection(.resume)?.code == .flowFinished)
    }
}
