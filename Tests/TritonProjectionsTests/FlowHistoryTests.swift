import EventStore
import Foundation
import PostgresStore
import Testing
import TritonDomain
import TritonEngine
import TritonTesting

@testable import TritonProjections

/// Looking back over real releases (the engine on the simulated cluster, PostgreSQL): a flow as of each
/// of its events, its replay against the projection, and the timeline of two releases that overlap.
@Suite("Time travel, replay and timelines", .timeLimit(.minutes(3)))
struct FlowHistoryTests {
    @Test func asOfEveryEventOfACanaryReleaseIsTheFoldCutThere() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        _ = try await h.releaseBoth()
        let id = EngineHarness.updateID
        let events = try await h.store.readStream(Streams.flow(id), afterVersion: 0)
        #expect(events.count > 20)
        for (index, event) in events.enumerated() {
            let (record, stopped) = try #require(try await FlowHistory.asOf(id, .position(event.position), store: h.store))
            #expect(record == (try FlowRecord(id: id, recorded: Array(events[...index]))), "as of \(event.position)")
            #expect(stopped.position == event.position && stopped.version == event.version && stopped.type == event.type)
        }
        // A position of another stream's event, after the flow's last: the flow as it ended.
        let later = try await h.store.append(to: "unrelated", expectedVersion: .noStream, events: [NewEvent(type: "Noted", data: "{}")])
        let position = try #require(later.positions.first?.position)
        #expect(try await FlowHistory.asOf(id, .position(position), store: h.store)?.1.position == events.last?.position)
        // By time: the log's clock.
        let middle = events[events.count / 2]
        let byTime = try #require(try await FlowHistory.asOf(id, .time(middle.recordedAt), store: h.store))
        #expect(byTime.1.recordedAt == events.last { $0.recordedAt <= middle.recordedAt }?.recordedAt)
        #expect(try await FlowHistory.asOf(id, .position(events[0].position - 1), store: h.store) == nil, "before the flow existed")
        #expect(LogPoint("2026-12-07T14:03:12Z") != nil && LogPoint("2026-12-07T14:03:12.250+01:00") != nil && LogPoint("42") == .position(42))
        #expect(LogPoint("yesterday") == nil && LogPoint("-3") == nil)
    }

    @Test func replayEqualsTheProjectionAndNamesTheFirstDifference() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        _ = try await h.releaseBoth()
        _ = try await FlowProjector(store: h.store).catchUp()
        let id = EngineHarness.updateID
        let events = try await h.store.readStream(Streams.flow(id), afterVersion: 0)
        let replay = try #require(try await FlowHistory.replay(id, store: h.store))
        #expect(replay.projection == .init(matches: true, differences: []), "\(replay.projection as Any)")
        #expect(replay.steps.map(\.position) == events.map(\.position) && replay.stoppedAt == nil)
        #expect(replay.steps.last?.phase == "Success" && replay.final.phase == "Success")
        #expect(replay.steps.first?.type == "FlowCreated" && replay.steps.first?.actor == "alice")
        #expect(replay.steps.contains { $0.type == "NextRequested" && $0.reason?.hasPrefix("approved") == true })
        #expect(replay.steps.contains { $0.batch == 1 && $0.batchPhase == "Smoked" && $0.podCounts.running == 1 })

        // Stopped early: the steps up to there, no projection to compare with.
        let stop = events[9]
        let early = try #require(try await FlowHistory.replay(id, at: stop.position, store: h.store))
        #expect(early.steps.count == 10 && early.stoppedAt?.position == stop.position && early.projection == nil)

        // A projection row altered behind the projector's back: the replay names the field.
        try await h.store.withTransaction { tx in
            try await tx.execute("UPDATE flows SET finished_replicas = 3 WHERE id = $1", [id.rawValue])
        }
        let altered = try #require(try await FlowHistory.replay(id, store: h.store))
        #expect(altered.projection?.matches == false)
        #expect(altered.projection?.differences.first == "finishedReplicas: projection 3, log 10", "\(altered.projection as Any)")
        try await h.store.withTransaction { tx in
            try await tx.execute("UPDATE flow_batches SET phase = 'Smoking' WHERE flow_id = $1 AND batch = 2", [id.rawValue])
        }
        let both = try #require(try await FlowHistory.replay(id, store: h.store))
        #expect(both.projection?.differences.first == "conditions[1].phase: projection Smoking, log Baked", "\(both.projection as Any)")
    }

    @Test func theTimelineOfTwoOverlappingReleasesIsInGlobalOrder() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        let cart = InstanceRef(namespace: EngineHarness.namespace, name: "cart")
        let first = EngineHarness.createRelease()
        let second = DeployFlow.CreateFlow(
            flowID: FlowID("cart-create"), instance: cart, action: .create, appSpec: EngineHarness.appSpec("shop/cart:v1"),
            currentReplicas: 0, targetReplicas: 4, strategy: Strategy(batchSize: .count(2), mode: .auto)
        )
        var a = try await h.createFlow(first)
        var b = try await h.createFlow(second)
        for _ in 0..<300 where !(a.isFinished && b.isFinished) {
            h.settle(seconds: 1)
            if !a.isFinished { a = try await h.worker.step(first.flowID) }
            if !b.isFinished { b = try await h.worker.step(second.flowID) }
        }
        #expect(a.phase == .success && b.phase == .success)
        _ = try await FlowProjector(store: h.store).catchUp()

        let entries = try await Timeline.entries(h.store, namespace: EngineHarness.namespace)
        let total = try await h.store.readStream(Streams.flow(first.flowID)).count + (try await h.store.readStream(Streams.flow(second.flowID)).count)
        #expect(entries.count == total)
        #expect(zip(entries, entries.dropFirst()).allSatisfy { $0.position < $1.position }, "global order")
        let flows = entries.map(\.flow)
        let switches = zip(flows, flows.dropFirst()).filter { $0 != $1 }.count
        #expect(switches > 2, "the two releases overlap: \(switches) switches")
        #expect(Set(entries.map(\.kind)).isSuperset(of: [.intent, .observation, .mutation, .progress]))
        #expect(entries.first { $0.kind == .intent }?.actor == "alice")
        #expect(entries.last { $0.flow == "cart-create" }?.state == "Success 2/2 Baked")

        let cartOnly = try await Timeline.entries(h.store, namespace: EngineHarness.namespace, instance: "cart")
        #expect(!cartOnly.isEmpty && cartOnly.allSatisfy { $0.instance == "cart" })
        let middle = entries[entries.count / 2].recordedAt
        let window = try await Timeline.entries(h.store, namespace: EngineHarness.namespace, from: middle)
        #expect(!window.isEmpty && window.allSatisfy { $0.recordedAt >= middle } && window.count < entries.count)
        #expect(try await Timeline.entries(h.store, namespace: "elsewhere").isEmpty)

        // CSV: a header and one quoted-where-needed line per entry.
        var quoted = entries[0]
        quoted.reason = "a, \"quoted\" reason"
        #expect(quoted.csvLine.contains(#""a, ""quoted"" reason""#))
        #expect(TimelineEntry.csvHeader.split(separator: ",").count == 12)
    }
}
