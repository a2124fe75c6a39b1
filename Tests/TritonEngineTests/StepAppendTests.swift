import EventStore
import Foundation
import PostgresStore
import Testing
import TritonDomain
import TritonEngine
import TritonTesting

/// A step's facts go to the log together: what the observer saw and the due timers in one append, the
/// gates set in another, each event with its own actor, and nothing after the flow finished.
@Suite("A step's facts in few appends")
struct StepAppendTests {
    @Test("observations share an append, each event keeps its actor, and nothing follows the flow's end")
    func observationsShareAnAppend() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        try await h.provision()
        let flow = FlowID("checkout-step-appends")
        _ = try await h.createFlow(ControlTests.update(flow.rawValue, image: "shop/checkout:v2", existing: try h.existingPodNames()))
        let state = try await h.run(flow, until: \.isFinished)
        #expect(state.phase == .success)

        let events = try await h.store.readStream(Streams.flow(flow))
        let actors = try events.map { ($0.type, try EventMetadata.decode(json: $0.metadata).actor) }
        for (type, actor) in actors {
            switch type {
            case DeployFlow.PodObserved.typeName, DeployFlow.WorkloadObserved.typeName: #expect(actor == "observer", "\(type)")
            case DeployFlow.TimerFired.typeName: #expect(actor == "timer", "\(type)")
            case DeployFlow.MutationApplied.typeName: #expect(actor == "executor", "\(type)")
            default: break
            }
        }
        // Observations per transaction: more than one pod seen in one append at least once.
        let observed = events.filter { $0.type == DeployFlow.PodObserved.typeName }
        let perTransaction = Dictionary(grouping: observed, by: \.logPosition.transaction)
        #expect(perTransaction.values.contains { $0.count > 1 }, "each pod observation was its own commit")
        #expect(perTransaction.count < observed.count)
        // The last event is the flow's end: a step's later facts were dropped, not appended after it.
        #expect(events.last?.type == DeployFlow.FlowSucceeded.typeName)
    }
}
