import Foundation
import Testing

@testable import TritonDomain

/// Random but reproducible flows: a random valid create, then random intents, observations (some of them
/// "helpful", i.e. what a cluster would do next), timer firings and mutations.
struct RandomFlow {
    var rng: SplitMix64
    var flow = FlowHarness()
    var podsToProcess = 0
    var stages: [String: Int] = [:]  // 0 scheduled, 1 running, 2 smoked, 3 ready
    var newPods = 0

    init(seed: UInt64) { self.rng = SplitMix64(seed: seed) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self.rng) }
    mutating func chance(_ percent: Int) -> Bool { self.int(1...100) <= percent }

    mutating func randomCreate() -> DeployFlow.CreateFlow {
        let action = Action.allCases[self.int(0...Action.allCases.count - 1)]
        var current = 0
        var target = 0
        switch action {
        case .create: target = self.int(1...8)
        case .update, .rollback, .restart: current = self.int(1...8); target = current
        case .scaleOut: current = self.int(0...5); target = current + self.int(1...5)
        case .scaleIn: current = self.int(2...8); target = self.int(0...current - 1)
        }
        let pods = oldPods(current)
        var strategy = Strategy(
            mode: self.chance(50) ? .auto : .manual, batchIntervalSeconds: [0, 5, 60][self.int(0...2)],
            startupTimeoutSeconds: [0, 120, 600][self.int(0...2)], pullOutWaitSeconds: self.int(0...30),
            noPullIn: self.chance(20)
        )
        switch self.int(0...2) {
        case 0: strategy.batchSize = .count(self.int(1...3))
        case 1: strategy.batchSize = .percent(self.int(1...100))
        default: break
        }
        if action == .scaleIn, self.chance(50) {
            strategy.podsToDelete = Array(pods.shuffled(using: &self.rng).prefix(current - target))
        }
        if action == .restart, self.chance(50) {
            strategy.podsToDelete = Array(pods.shuffled(using: &self.rng).prefix(self.int(1...current)))
        }
        switch action {
        case .create, .update, .rollback: self.podsToProcess = target
        case .scaleOut: self.podsToProcess = target - current
        case .scaleIn: self.podsToProcess = current - target
        case .restart: self.podsToProcess = strategy.podsToDelete.isEmpty ? current : strategy.podsToDelete.count
        }
        if action.allowsCanary, self.chance(50) { strategy.canary = self.int(1...min(2, self.podsToProcess)) }
        return createFlow(action, current: current, target: target, pods: pods, strategy: strategy)
    }

    /// The next command: mostly what a cluster or a person would plausibly do next, sometimes noise.
    mutating func randomCommand() -> DeployFlow.Command.Kind {
        let state = self.flow.state
        let roll = self.int(1...100)
        switch roll {
        case 1...40:
            if let helpful = self.helpfulObservation(state) { return helpful }
            return .observePod(pod("demo-old\(self.int(1...8))", .ready, updated: false))
        case 41...48:
            let names = ["demo-old1", "demo-old2", "p1", "p2", "p3", "stray"]
            let stages: [Stage] = [.scheduled, .running, .smoked, .ready, .pulledOut, .gone, .waiting("CrashLoopBackOff"), .terminating]
            return .observePod(pod(names[self.int(0...names.count - 1)], stages[self.int(0...stages.count - 1)], updated: self.chance(70)))
        case 49...58:
            let target = state.spec?.targetReplicas ?? 1
            if self.chance(70) { return .observeWorkload(workload(replicas: target, updated: target)) }
            return .observeWorkload(self.chance(10) ? .missing : workload(replicas: self.int(0...9), updated: self.int(0...9)))
        case 59...70:
            if let timer = state.pendingTimers.first, self.chance(85) { return .timerFired(id: timer.id) }
            return .timerFired(id: "bogus-\(self.int(1...3))")
        case 71...76:
            return .mutationApplied(key: "k\(self.int(1...4))", kind: self.chance(60) ? .prepareWorkload : .setGate, resourceVersion: "\(roll)")
        case 77...86: return .next
        case 87...89: return .continueTo(batch: self.int(0...5))
        case 90...93: return .pause
        case 94...99: return .resume
        default: return .cancel
        }
    }

    mutating func helpfulObservation(_ state: DeployFlow.State) -> DeployFlow.Command.Kind? {
        if state.phase == .pending { return .observeWorkload(workload(replicas: state.spec?.currentReplicas ?? 0, updated: 0)) }
        if state.phase == .initializing, !state.workloadPrepared {
            return .mutationApplied(key: "prepare", kind: .prepareWorkload, resourceVersion: "1")
        }
        guard let batch = state.current else { return nil }
        if !batch.isFinished {
            if batch.liveAddedPods.count < batch.surge, self.chance(70) {
                self.newPods += 1
                let name = "p\(self.newPods)"
                self.stages[name] = 0
                return .observePod(pod(name, .scheduled))
            }
            if let added = batch.liveAddedPods.filter({ (self.stages[$0.name] ?? 0) < 3 }).randomElement(using: &self.rng) {
                if self.chance(3) { return .observePod(pod(added.name, .waiting("ErrImagePull"))) }
                let next = min(3, (self.stages[added.name] ?? 0) + 1)
                if next == 3, !added.pulledIn { return .observePod(pod(added.name, .smoked)) }
                self.stages[added.name] = next
                return .observePod(pod(added.name, [.scheduled, .running, .smoked, .ready][next]))
            }
            for removed in batch.removedPods where !removed.gone {
                if batch.removal == .deleting { return .observePod(pod(removed.name, .gone, updated: false)) }
                if removed.pulledOut, removed.gate != .false { return .observePod(pod(removed.name, .pulledOut, updated: false)) }
            }
        }
        if state.finishedBatches == state.plan.count, let target = state.spec?.targetReplicas {
            return .observeWorkload(workload(replicas: target, updated: target))
        }
        return nil
    }
}

@Suite("Properties over random command sequences")
struct PropertyTests {
    static let moving: Set<String> = [
        "FlowInitializing", "BatchStarted", "BatchPhaseChanged", "PullOutStarted", "DeletionRequested", "BatchFinished",
        "FlowSucceeded", "FlowFailed", "FlowAborted",
    ]

    @Test("invariants hold over 400 random flows", arguments: 0..<4)
    func randomFlows(shard: Int) throws {
        var phasesSeen: Set<FlowPhase> = []
        var furthestBatch = 0
        for run in 0..<100 {
            let seed = UInt64(shard * 100 + run) &* 0x1234_5678_9ABC_DEF1 &+ 7
            var random = RandomFlow(seed: seed)
            let create = random.randomCreate()
            try random.flow.run(.create(create))
            let plan = random.flow.state.plan
            #expect(plan.total == random.podsToProcess, "seed \(seed)")
            #expect(plan.sizes.allSatisfy { $0 >= 1 }, "seed \(seed)")

            for _ in 0..<150 {
                let before = random.flow.state
                let kind = random.randomCommand()
                let events: [DeployFlow.Event]
                do {
                    events = try random.flow.run(kind)
                } catch {
                    continue
                }
                if before.isFinished {
                    #expect(events.isEmpty, "seed \(seed): \(kind) on a finished flow produced \(typeNames(events))")
                }
                self.checkSteps(events, from: before, seed: seed)
            }
            phasesSeen.insert(random.flow.phase)
            furthestBatch = max(furthestBatch, random.flow.state.currentBatch)
            try self.checkReplay(random.flow, seed: seed)
        }
        // The generator reaches the interesting outcomes.
        #expect(phasesSeen.isSuperset(of: [.success, .failed, .canceled]), "\(phasesSeen)")
        #expect(furthestBatch >= 3)
    }

    /// Checks each event against the state just before it.
    func checkSteps(_ events: [DeployFlow.Event], from start: DeployFlow.State, seed: UInt64) {
        var state = start
        for event in events {
            let name = event.typeName
            if state.isFinished {
                #expect(name == "TimerCanceled", "seed \(seed): \(name) after the flow finished")
            }
            if state.paused, Self.moving.contains(name) {
                Issue.record("seed \(seed): \(name) while paused")
            }
            switch event {
            case .batchStarted(let e):
                if e.batch == 1 {
                    #expect(state.currentBatch == 0, "seed \(seed)")
                } else {
                    let previous = state.batches[e.batch - 2]
                    #expect(state.currentBatch == e.batch - 1, "seed \(seed)")
                    #expect(previous.phase == .baked && previous.isFinished, "seed \(seed): batch \(e.batch) before \(e.batch - 1) was Baked")
                }
            case .batchPhaseChanged(let e):
                let batch = state.batches[e.batch - 1]
                #expect(batch.phase == e.from, "seed \(seed)")
                #expect(e.to.rank > e.from.rank, "seed \(seed): \(e.from) → \(e.to) goes backwards")
                #expect(state.currentBatch == e.batch, "seed \(seed)")
            case .flowSucceeded:
                #expect(state.finishedBatches == state.plan.count, "seed \(seed)")
            default:
                break
            }
            state = DeployFlow.evolve(state, event)
        }
    }

    /// Folding is deterministic, also from the encoded and decoded events.
    func checkReplay(_ flow: FlowHarness, seed: UInt64) throws {
        let folded = DeployFlow.fold(flow.events)
        #expect(folded == flow.state, "seed \(seed)")
        #expect(DeployFlow.fold(flow.events) == folded, "seed \(seed)")
        let decoded = try flow.events.map { try DeployFlow.Event.decode(type: $0.typeName, data: try $0.encodedData()) }
        #expect(decoded == flow.events, "seed \(seed)")
        #expect(DeployFlow.fold(decoded) == folded, "seed \(seed)")
        let stateJSON = try EventJSON.makeEncoder().encode(folded)
        #expect(try EventJSON.makeDecoder().decode(DeployFlow.State.self, from: stateJSON) == folded, "seed \(seed)")
    }
}
