import EventStore
import Foundation
import KubeSim
import PostgresStore
import Testing
import TritonDomain
import TritonEngine
import TritonSimAdapter
import TritonTesting

/// Scenario 9: a replay needs no cluster. Folding each flow's stream from scratch gives exactly the
/// state the engine had live, and the stored events are exactly the ones decided in memory.
@Suite("Replay")
struct ReplayTests {
    @Test("every flow of a session (create, manual canary, pause/resume, cancel) replays to its live state")
    func replayEqualsLive() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        var live: [FlowID: DeployFlow.State] = [:]
        let created = try await h.provision(replicas: 4)
        live[created.spec!.flowID] = created

        // A manual canary, approved step by step.
        let canary = FlowID("checkout-v2")
        _ = try await h.createFlow(
            DeployFlow.CreateFlow(
                flowID: canary, instance: EngineHarness.instance, action: .update,
                appSpec: EngineHarness.appSpec("shop/checkout:v2"),
                currentReplicas: 4, targetReplicas: 4, existingPods: try h.existingPodNames(),
                strategy: Strategy(batchSize: .count(2), canary: 1, mode: .manual, pullOutWaitSeconds: 3)))
        var state = try await h.run(canary) { DeployFlow.waitingStep($0) != nil || $0.isFinished }
        var pausedOnce = false
        while !state.isFinished {
            if DeployFlow.waitingStep(state) != nil {
                state = try await h.send(.next, canary, reason: "looks good")
            }
            if state.currentBatch == 2, state.current?.phase == .pending, !pausedOnce {
                pausedOnce = true
                state = try await h.send(.pause, canary, reason: "lunch")
                for _ in 0..<5 { state = try await h.tick(canary) }
                state = try await h.send(.resume, canary, reason: "back")
            }
            state = try await h.tick(canary)
        }
        #expect(state.phase == .success)
        live[canary] = state

        // An update canceled mid-batch.
        let canceled = FlowID("checkout-v3")
        _ = try await h.createFlow(
            DeployFlow.CreateFlow(
                flowID: canceled, instance: EngineHarness.instance, action: .update,
                appSpec: EngineHarness.appSpec("shop/checkout:v3"),
                currentReplicas: 4, targetReplicas: 4, existingPods: try h.existingPodNames(),
                strategy: Strategy(batchSize: .count(2), mode: .auto)))
        _ = try await h.run(canceled) { $0.current?.phase == .smoking }
        live[canceled] = try await h.send(.cancel, canceled, reason: "abandon v3")

        // Every flow stream in the log, found by reading the log, folds to the live state.
        // The global read shows an event once every transaction begun before it has ended; other tests'
        // transactions on the same server can hold that back for a moment.
        var flows: Set<StreamID> = []
        for _ in 0..<200 {
            let all = try await h.store.readAll(after: .start, limit: 10_000)
            flows = Set(all.filter { $0.type == DeployFlow.FlowCreated.typeName }.map(\.streamID))
            if flows.count >= live.count { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(flows == Set(live.keys.map(Streams.flow)))
        for (flow, state) in live {
            try await h.expectReplay(state)
            #expect(try await h.handler.load(DeployFlow.self, stream: Streams.flow(flow)).state == state)
        }
        #expect(live[canary]?.paused == false)
        #expect(h.journal.events(of: canary).contains { if case .paused = $0 { true } else { false } })
    }
}
