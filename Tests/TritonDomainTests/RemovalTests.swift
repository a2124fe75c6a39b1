import Foundation
import Testing

@testable import TritonDomain

@Suite("scaleIn and restart")
struct RemovalTests {
    @Test("scaleIn with podsToDelete: pull out, wait, delete, gone — batch by batch")
    func scaleIn() throws {
        var flow = FlowHarness()
        let strategy = Strategy(batchSize: .count(1), pullOutWaitSeconds: 30, podsToDelete: ["demo-old1", "demo-old3"])
        try flow.run(.create(createFlow(.scaleIn, current: 4, target: 2, strategy: strategy)))
        try flow.run(.observeWorkload(workload(replicas: 4, updated: 4)), source: .observer)
        let started = try flow.run(.mutationApplied(key: "prep", kind: .prepareWorkload, resourceVersion: "9"), source: .executor)
        var now = at(flow.clock)
        #expect(
            started == [
                .mutationApplied(.init(key: "prep", kind: .prepareWorkload, resourceVersion: "9", at: now)),
                .batchStarted(.init(batch: 1, at: now)),
                .pullOutStarted(.init(batch: 1, pods: ["demo-old1"], at: now)),
            ])
        #expect(flow.state.batches[0].removal == .pullingOut)
        #expect(flow.state.batches[0].removedPods.map(\.pulledOut) == [true])

        // Still taking traffic: nothing happens yet.
        #expect(typeNames(try flow.run(.observePod(pod("demo-old1", .ready)))) == ["PodObserved"])
        let out = try flow.run(.observePod(pod("demo-old1", .pulledOut)), source: .observer)
        now = at(flow.clock)
        #expect(
            out == [
                .podObserved(.init(pod: pod("demo-old1", .pulledOut), at: now)),
                .timerScheduled(
                    .init(id: "pullOutWait-1-1", kind: .pullOutWait, batch: 1, dueAt: now.addingTimeInterval(30), at: now)),
            ])
        #expect(flow.state.batches[0].removal == .waiting)
        let fired = try flow.run(.timerFired(id: "pullOutWait-1-1"), after: 30, source: .timer)
        now = at(flow.clock)
        #expect(
            fired == [
                .timerFired(.init(id: "pullOutWait-1-1", at: now)),
                .deletionRequested(.init(batch: 1, pods: ["demo-old1"], at: now)),
            ])
        let gone = try flow.run(.observePod(pod("demo-old1", .gone)), source: .observer)
        now = at(flow.clock)
        #expect(
            gone == [
                .podObserved(.init(pod: pod("demo-old1", .gone), at: now)),
                .batchPhaseChanged(.init(batch: 1, from: .pending, to: .baked, at: now)),
                .batchFinished(.init(batch: 1, at: now)),
            ])
        // Manual: stops after the batch.
        #expect(DeployFlow.waitingStep(flow.state) == .startBatch(batch: 2))
        let second = try flow.run(.next)
        #expect(typeNames(second) == ["NextRequested", "BatchStarted", "PullOutStarted"])
        // Gone without ever being seen pulled out also counts as out.
        try flow.observe(pod("demo-old3", .gone))
        try flow.fire(.pullOutWait)
        #expect(flow.phase == .success)
        #expect(flow.state.removedReplicas == 2)
    }

    @Test("restart surges and bakes a replacement before pulling out and deleting each pod; capacity never drops")
    func restartKeepsCapacity() throws {
        var flow = FlowHarness()
        let strategy = Strategy(batchSize: .count(1), mode: .auto, pullOutWaitSeconds: 10)
        let old = oldPods(3)
        try flow.run(.create(createFlow(.restart, current: 3, strategy: strategy)))
        try flow.observe(old, .ready)
        try flow.run(.observeWorkload(workload(replicas: 3, updated: 3)), source: .observer)
        try flow.prepare()

        /// Pods taking traffic that the flow does not want out.
        func serving(_ state: DeployFlow.State) -> Int {
            let leaving = Set(state.batches.flatMap { $0.removedPods.filter(\.pulledOut).map(\.name) })
            return state.pods.filter { $0.ready && !leaving.contains($0.name) }.count
        }
        var checked = 0
        func check(_ flow: FlowHarness) {
            #expect(serving(flow.state) >= 3, "capacity dropped at event \(flow.events.count)")
            checked += 1
        }

        for (index, oldPod) in old.enumerated() {
            let n = index + 1
            #expect(flow.state.currentBatch == n)
            #expect(flow.state.batches[index].removal == .notStarted)
            let fresh = "demo-fresh\(n)"
            try flow.observe([fresh], .scheduled)
            check(flow)
            try flow.observe([fresh], .smoked)
            check(flow)
            // The old pod is not touched before the replacement is Baked.
            #expect(flow.state.batches[index].removedPods.allSatisfy { !$0.pulledOut })
            try flow.observe([fresh], .ready)
            check(flow)
            #expect(flow.batchPhase(n) == .baked)
            #expect(flow.state.batches[index].removal == .pullingOut)
            try flow.observe([oldPod], .pulledOut)
            check(flow)
            try flow.fire(.pullOutWait)
            #expect(flow.state.batches[index].removal == .deleting)
            try flow.observe([oldPod], .gone)
            check(flow)
            #expect(flow.state.batches[index].isFinished)
            if n < 3 { try flow.fire(.batchInterval) }
        }
        #expect(flow.phase == .success)
        #expect(checked == 15)

        // Order per batch: Baked, then pull-out, then deletion.
        for n in 1...3 {
            let baked = flow.events.firstIndex {
                if case .batchPhaseChanged(let c) = $0 { c.batch == n && c.to == .baked } else { false }
            }
            let pulled = flow.events.firstIndex { if case .pullOutStarted(let p) = $0 { p.batch == n } else { false } }
            let deleted = flow.events.firstIndex { if case .deletionRequested(let d) = $0 { d.batch == n } else { false } }
            let (b, p, d) = (try #require(baked), try #require(pulled), try #require(deleted))
            #expect(b < p && p < d)
        }
    }

    @Test("scaleOut adds pods batch by batch and existing pods are never counted")
    func scaleOut() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.scaleOut, current: 2, target: 4, strategy: Strategy(batchSize: .count(2))))
        try flow.observe(["demo-old1", "demo-old2"], .ready)
        #expect(flow.state.batches[0].pods.isEmpty)
        try flow.observe(["demo-s1", "demo-s2"], .ready)
        #expect(flow.phase == .success)
        #expect(flow.state.addedReplicas == 2)
    }
}
