import EventStore
import Foundation
import Synchronization
import Testing
import TritonTesting

@testable import PostgresStore

@Suite("Event store under concurrent writers")
struct ConcurrencyTests {
    @Test func eightWritersOnOneStreamEachVersionWonOnce() async throws {
        let store = try await TestDatabase.makeStore(poolSize: 12)
        defer { store.shutdown() }
        let target: Int64 = 160
        try await withThrowingTaskGroup(of: (wins: Int, conflicts: Int).self) { group in
            for writer in 0..<8 {
                group.addTask {
                    var wins = 0
                    var conflicts = 0
                    while true {
                        let current = try await store.readStream("contended", afterVersion: 0).last?.version ?? 0
                        if current >= target { return (wins, conflicts) }
                        let event = NewEvent(type: "Won", data: "{\"writer\":\(writer),\"version\":\(current + 1)}")
                        do {
                            _ = try await store.append(
                                to: "contended", expectedVersion: current == 0 ? .noStream : .exact(current), events: [event]
                            )
                            wins += 1
                        } catch let error as EventStoreError where error.code == .wrongExpectedVersion {
                            conflicts += 1
                        }
                    }
                }
            }
            var wins = 0
            var conflicts = 0
            for try await outcome in group {
                wins += outcome.wins
                conflicts += outcome.conflicts
            }
            #expect(wins == Int(target))
            #expect(conflicts > 0, "8 writers on one stream should have collided")
        }
        let events = try await store.readStream("contended", afterVersion: 0)
        #expect(events.map(\.version) == Array(1...target))
        // Every event records the version its writer expected to win: nobody overwrote anybody.
        for event in events { #expect(event.data.contains("\"version\": \(event.version)}")) }
        #expect(try await store.verify().firstBreak == nil)
    }

    /// On CI's fresh cluster the transaction ids of this test once crossed from three to four digits, which
    /// caught `ORDER BY tx` sorting by a text output column.
    @Test func followerSeesEveryEventOnceDespiteALateCommit() async throws {
        let store = try await TestDatabase.makeStore(pollInterval: .milliseconds(50), poolSize: 12)
        defer { store.shutdown() }
        let writers = 8
        // The late transaction holds back every global reader on the server (other tests' projectors and
        // followers too) for as long as it is open: the writers stop after 40 appends or 2 s, whichever
        // comes first (on a loaded machine 8 × 40 appends had kept it open for 40 s).
        let appendsPerWriter = 40
        let writeDeadline = ContinuousClock.now + .seconds(2)
        // A transaction that appends first and commits last.
        let late = try await PGConnection.connect(url: try TestDatabase.url(), schema: store.configuration.schema)
        try await late.execute("BEGIN")
        let lateTx = try await late.query(
            "SELECT out_tx::text, out_position FROM append_events('late', 0, ARRAY['Late'], ARRAY['{\"late\":true}'], ARRAY['{}'])"
        ) { ($0.uint64(0, 0), $0.int64(0, 1)) }

        let seen = Collected<RecordedEvent>()
        let follower = Task {
            for try await event in store.follow(from: .start, batchSize: 50) {
                seen.append(event)
            }
        }
        defer { follower.cancel() }

        let written = try await withThrowingTaskGroup(of: (Int, Int64).self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var version: Int64 = 0
                    for i in 0..<appendsPerWriter where i == 0 || ContinuousClock.now < writeDeadline {
                        let count = i % 4 == 0 ? 3 : 1
                        let events = (0..<count).map { TestDatabase.event(i * 10 + $0) }
                        let result = try await store.append(
                            to: StreamID("w-\(writer)"), expectedVersion: version == 0 ? .noStream : .exact(version), events: events
                        )
                        version = result.lastVersion
                    }
                    return (writer, version)
                }
            }
            var written: [Int: Int64] = [:]
            for try await (writer, version) in group { written[writer] = version }
            return written
        }
        let expected = Int(written.values.reduce(0, +)) + 1

        // While the late transaction is open, nothing written after it may be handed out.
        try await Task.sleep(for: .milliseconds(300))
        let beforeCommit = seen.items
        #expect(beforeCommit.allSatisfy { $0.logPosition.transaction < lateTx.0 })
        // A naive reader that trusts `position > last` has already moved past the late event...
        let naiveHighWater = try await store.pool.withConnection { connection in
            try await connection.query("SELECT max(position) FROM events") { $0.int64(0, 0) }
        }
        #expect(naiveHighWater > lateTx.1)

        try await late.execute("COMMIT")
        // ...so it never sees it:
        let naiveAfterCommit = try await store.pool.withConnection { connection in
            try await connection.query("SELECT count(*) FROM events WHERE position > $1::bigint", [String(naiveHighWater)]) { $0.int64(0, 0) }
        }
        #expect(naiveAfterCommit == 0)

        let deadline = ContinuousClock.now + .seconds(30)
        while seen.count < expected, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let events = seen.items
        #expect(events.count == expected)
        let keys = events.map { "\($0.streamID)#\($0.version)" }
        #expect(Set(keys).count == keys.count, "an event was delivered twice")
        #expect(keys.contains("late#1"), "the late commit was skipped")
        #expect(events.map(\.logPosition) == events.map(\.logPosition).sorted(), "delivered out of log order")
        for writer in 0..<writers {
            let versions = events.filter { $0.streamID.rawValue == "w-\(writer)" }.map(\.version)
            #expect(versions == Array(1...written[writer]!))
        }
    }

    @Test func notifyWakesASubscriberInAnotherProcess() async throws {
        // Two stores on one schema stand for two processes. The follower's own polling is set to a
        // minute, so only the NOTIFY can wake it in time.
        let writer = try await TestDatabase.makeStore(notifyMode: .coalesced)
        defer { writer.shutdown() }
        let reader = try await TestDatabase.makeStore(pollInterval: .seconds(60), schema: writer.configuration.schema)
        defer { reader.shutdown() }

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await writer.run() }
            group.addTask { await reader.run() }
            var iterator = reader.follow(from: .start).makeAsyncIterator()
            // Let the follower's first read come back empty and the LISTEN connection open.
            try await Task.sleep(for: .milliseconds(500))
            let started = ContinuousClock.now
            _ = try await writer.append(to: "notified", expectedVersion: .noStream, events: [TestDatabase.event(1)])
            let event = try await iterator.next()
            #expect(event?.streamID == "notified")
            #expect(ContinuousClock.now - started < .seconds(10))
            group.cancelAll()
        }
    }
}
