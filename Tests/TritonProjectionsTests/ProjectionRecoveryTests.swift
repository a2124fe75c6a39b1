import EventStore
import Foundation
import PostgresStore
import Testing
import TritonDomain
import TritonEngine
import TritonTesting

@testable import TritonProjections

/// Exactly-once effect, crash-resume and rebuild.
@Suite struct ProjectionRecoveryTests {
    struct InjectedCrash: Error {}

    @Test func resumesFromItsCheckpointAfterACrash() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        let (created, updated) = try await runBothReleases(store)
        let total = try await store.integer("SELECT count(*) FROM events")

        // A projector handles three pages of 7 events, then crashes inside its fourth transaction.
        let first = FlowProjector(store: store, configuration: .init(eventsPerTransaction: 7))
        for _ in 0..<3 { #expect(try await first.projectPage() == 7) }
        let committed = try await first.checkpoint()
        await first.setBeforeCommit { throw InjectedCrash() }
        await #expect(throws: InjectedCrash.self) { try await first.projectPage() }
        #expect(try await first.checkpoint() == committed, "the crashed transaction must not move the checkpoint")
        #expect(try await store.integer("SELECT events FROM projection_checkpoints") == 21)

        // A new projector (empty memory) resumes from the checkpoint, with another page size.
        let second = FlowProjector(store: store, configuration: .init(eventsPerTransaction: 50))
        #expect(try await second.catchUp() == total - 21)
        #expect(try await store.integer("SELECT events FROM projection_checkpoints") == total)
        let resumed = try await ProjectionTables.dump(store)

        // Identical to a single pass from scratch.
        let single = FlowProjector(store: store)
        #expect(try await single.rebuild() == total)
        let rebuilt = try await ProjectionTables.dump(store)
        #expect(ProjectionTables.differences(rebuilt, resumed) == [])
        #expect(resumed["flows"]?.count == 2 && resumed["instances"]?.count == 1)
        #expect(resumed["flow_pods"]?.count == 20)  // the 10 new pods of each release
        let queries = FlowQueries(store: store)
        #expect(try await queries.status(id: FlowID("checkout-create")) == FlowStatus(state: created))
        #expect(try await queries.status(id: FlowID("checkout-update")) == FlowStatus(state: updated))
        for id in ["checkout-create", "checkout-update"] {
            let projected = try await store.integer("SELECT version FROM flows WHERE id = $1", [id])
            let stream = try await store.integer("SELECT max(version) FROM events WHERE stream_id = $1", ["deployflow-\(id)"])
            #expect(projected == stream, "\(id): the projection folded \(projected) of \(stream) events")
        }
    }

    @Test func rebuildGivesIdenticalTables() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        let projector = FlowProjector(store: store)
        // Projected incrementally while the releases run (many small transactions).
        _ = try await runBothReleases(store) { state in
            if state.timerSequence % 2 == 0 { try await projector.catchUp() }
        }
        try await projector.catchUp()
        let incremental = try await ProjectionTables.dump(store)
        try await projector.rebuild()
        #expect(ProjectionTables.differences(incremental, try await ProjectionTables.dump(store)) == [])
        // One event per transaction gives the same tables too.
        let slow = FlowProjector(store: store, configuration: .init(eventsPerTransaction: 1))
        try await slow.rebuild()
        #expect(ProjectionTables.differences(incremental, try await ProjectionTables.dump(store)) == [])
    }

    @Test func concurrentProjectorsApplyEachEventOnce() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        _ = try await runBothReleases(store)
        let total = try await store.integer("SELECT count(*) FROM events")
        let a = FlowProjector(store: store, configuration: .init(eventsPerTransaction: 5))
        let b = FlowProjector(store: store, configuration: .init(eventsPerTransaction: 3))
        async let first = a.catchUp()
        async let second = b.catchUp()
        let handled = try await first + second
        #expect(handled >= total)
        #expect(try await store.integer("SELECT events FROM projection_checkpoints") == total)
        let together = try await ProjectionTables.dump(store)
        try await FlowProjector(store: store).rebuild()
        #expect(ProjectionTables.differences(together, try await ProjectionTables.dump(store)) == [])
    }

    /// The head of the log is ordered by transaction id as a number, not as text ("9" > "10").
    @Test func logHeadOrdersTransactionIDsNumerically() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        try await store.withTransaction { tx in
            for (xid, version) in [("9", "1"), ("10", "2")] {
                try await tx.execute(
                    """
                    INSERT INTO events (tx, stream_id, version, event_type, data, metadata, prev_hash, hash)
                    VALUES ($1::text::xid8, 'other-stream', $2::bigint, 'Tested', '{}', '{}', '\\x00', '\\x00')
                    """,
                    [xid, version]
                )
            }
        }
        let head = try #require(try await FlowProjector.logHead(store))
        #expect(head.transaction == 10)
        let projector = FlowProjector(store: store)
        #expect(try await projector.catchUp() == 2)  // streams it does not project still move the checkpoint
        #expect(try await projector.checkpoint() == head)
        #expect(try await store.integer("SELECT count(*) FROM flows") == 0)
    }
}
