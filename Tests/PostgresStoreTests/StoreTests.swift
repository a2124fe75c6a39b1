import EventStore
import Foundation
import Synchronization
import Testing
import TritonTesting

@testable import PostgresStore

@Suite("PostgreSQL event store")
struct StoreTests {
    @Test func migrateIsIdempotent() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        #expect(try await store.migrate().isEmpty)
        #expect(try await store.migrate().isEmpty)
    }

    @Test func appendAndReadStream() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        let first = try await store.append(to: "s-1", expectedVersion: .noStream, events: [TestDatabase.event(1), TestDatabase.event(2)])
        #expect(first.firstVersion == 1 && first.lastVersion == 2)
        let second = try await store.append(to: "s-1", expectedVersion: .exact(2), events: [TestDatabase.event(3)])
        #expect(second.lastVersion == 3)
        let events = try await store.readStream("s-1", afterVersion: 0)
        #expect(events.map(\.version) == [1, 2, 3])
        #expect(events.map(\.type) == ["Tested", "Tested", "Tested"])
        #expect(events[0].data == "{\"n\": 1, \"pad\": \"\"}")
        #expect(events[0].metadata.contains("\"actor\": \"test\""))
        #expect(try await store.readStream("s-1", afterVersion: 2).map(\.version) == [3])
        #expect(try await store.readStream("nothing-here", afterVersion: 0).isEmpty)
    }

    @Test func staleExpectedVersionIsAConflictAndWritesNothing() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        _ = try await store.append(to: "s", expectedVersion: .noStream, events: [TestDatabase.event(1)])
        for expected in [ExpectedVersion.noStream, .exact(0), .exact(5)] {
            let error = await #expect(throws: EventStoreError.self) {
                try await store.append(to: "s", expectedVersion: expected, events: [TestDatabase.event(2), TestDatabase.event(3)])
            }
            #expect(error?.code == .wrongExpectedVersion)
            #expect(error?.stream == "s")
        }
        #expect(try await store.readStream("s", afterVersion: 0).count == 1)
    }

    @Test func multiStreamAppendIsAtomic() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        _ = try await store.append(to: "instance-a", expectedVersion: .noStream, events: [TestDatabase.event(1)])
        // The second part is stale (behind: a unique violation; ahead: the version is missing), so the
        // first must not land either; the error names the stale stream.
        for stale in [ExpectedVersion.noStream, .exact(4)] {
            let error = await #expect(throws: EventStoreError.self) {
                try await store.append([
                    StreamAppend(streamID: "flow-1", expectedVersion: .noStream, events: [TestDatabase.event(1)]),
                    StreamAppend(streamID: "instance-a", expectedVersion: stale, events: [TestDatabase.event(2)]),
                ])
            }
            #expect(error?.code == .wrongExpectedVersion)
            #expect(error?.stream == "instance-a", "\(String(describing: error))")
        }
        #expect(try await store.readStream("flow-1", afterVersion: 0).isEmpty)
        // One round trip for every stream: versions, positions in log order, and the chains as single appends make them.
        let results = try await store.append([
            StreamAppend(streamID: "flow-1", expectedVersion: .noStream, events: [TestDatabase.event(1), TestDatabase.event(2)]),
            StreamAppend(streamID: "instance-a", expectedVersion: .exact(1), events: [TestDatabase.event(3)]),
            StreamAppend(streamID: "flow-2", expectedVersion: .noStream, events: [TestDatabase.event(4), TestDatabase.event(5), TestDatabase.event(6)]),
        ])
        #expect(results.map(\.firstVersion) == [1, 2, 1])
        #expect(results.map(\.lastVersion) == [2, 2, 3])
        #expect(results.map(\.positions.count) == [2, 1, 3])
        let positions = results.flatMap(\.positions)
        #expect(positions == positions.sorted() && Set(positions.map(\.transaction)).count == 1)
        let flow2 = try await store.readStream("flow-2", afterVersion: 0)
        #expect(flow2.map(\.logPosition) == results[2].positions)
        #expect(flow2.map(\.version) == [1, 2, 3] && flow2.map { $0.data.contains("\"n\": \($0.version + 3)") } == [true, true, true])
        #expect(try await store.verify().firstBreak == nil)
    }

    @Test func badInputIsRejectedByField() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        let empty = await #expect(throws: EventStoreError.self) {
            try await store.append(to: "s", expectedVersion: .noStream, events: [])
        }
        #expect(empty?.code == .invalidInput)
        #expect(empty?.message.hasPrefix("events:") == true)
        let badJSON = await #expect(throws: EventStoreError.self) {
            try await store.append(to: "s", expectedVersion: .noStream, events: [NewEvent(type: "T", data: "{not json")])
        }
        #expect(badJSON?.code == .invalidInput)
        // U+0000: jsonb refuses the escape, and a raw NUL would silently cut a C string (a stream id
        // "a\0b" would have written to "a").
        let nulCases: [(StreamID, NewEvent, String)] = [
            ("s", NewEvent(type: "T", data: #"{"k": "a\u0000b"}"#), "events[0].data"),
            ("s", NewEvent(type: "T", data: "{\"k\": \"a\u{0}b\"}"), "events[0].data"),
            ("s", NewEvent(type: "T", data: "{}", metadata: #"{"reason": "\u0000"}"#), "events[0].metadata"),
            ("s\u{0}other", NewEvent(type: "T", data: "{}"), "stream"),
        ]
        for (stream, event, field) in nulCases {
            let error = await #expect(throws: EventStoreError.self) {
                try await store.append(to: stream, expectedVersion: .noStream, events: [event])
            }
            #expect(error?.code == .invalidInput)
            #expect(error?.message.hasPrefix(field) == true, "\(String(describing: error))")
        }
        // The table keeps no CHECK constraints (they were recompiled on every INSERT); the append function
        // that SQL callers use checks the same rules.
        let checks = try await store.withTransaction { tx in
            try await tx.query("SELECT count(*) FROM pg_constraint WHERE conrelid = 'events'::regclass AND contype = 'c'")
        }
        #expect(checks.first?.first == "0")
        for call in ["'', 0, ARRAY['T']", "'s', 0, ARRAY['']", "'s', -1, ARRAY['T']", "repeat('x', 513), 0, ARRAY['T']"] {
            let error = await #expect(throws: EventStoreError.self, "\(call)") {
                try await store.withTransaction { tx in try await tx.execute("SELECT append_events(\(call), ARRAY['{}'], ARRAY['{}'])") }
            }
            #expect(error?.code == .invalidInput, "\(call): \(String(describing: error))")
        }
        // An escaped backslash before "u0000" is text, not U+0000.
        #expect(!PostgresEventStore.holdsNUL(#"{"path": "C:\\u0000"}"#))
        #expect(PostgresEventStore.holdsNUL(#"{"path": "C:\\\u0000"}"#))
        #expect(try await store.readStream("s", afterVersion: 0).isEmpty)
        #expect(throws: EventStoreError.self) {
            try PostgresEventStore(configuration: .init(url: "host=/nowhere", schema: "bad; drop"))
        }
    }

    @Test func aSingleEventAppendLooksUpThePreviousEventOnceAndParsesItsJSONOnce() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        let name = "single_\(UInt32.random(in: 0...UInt32.max))"
        let plan = try await store.withTransaction { tx in
            try await tx.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            try await tx.execute("PREPARE \(name)(text, bigint, text, text, text) AS \(PostgresEventStore.appendSingleSQL)")
            let rows = try await tx.query("EXPLAIN (VERBOSE) EXECUTE \(name)('s', 3, 'T', '{}', '{}')")
            try await tx.execute("DEALLOCATE \(name)")
            return rows.compactMap { $0.first ?? nil }.joined(separator: "\n")
        }
        func count(_ needle: String) -> Int { plan.components(separatedBy: needle).count - 1 }
        #expect(count("Index Scan using events_stream_version") == 1, "\(plan)")
        #expect(count("($4)::jsonb") == 1 && count("($5)::jsonb") == 1, "\(plan)")
        // And the chain it writes is the one append_events writes.
        _ = try await store.append(to: "s", expectedVersion: .noStream, events: [TestDatabase.event(1)])
        _ = try await store.append(to: "s", expectedVersion: .exact(1), events: [TestDatabase.event(2)])
        _ = try await store.append(to: "s", expectedVersion: .exact(2), events: [TestDatabase.event(3), TestDatabase.event(4)])
        let report = try await store.verify()
        #expect(report.firstBreak == nil)
        #expect(report.events == 4)
    }

    @Test func warmUpOpensThePoolsConnections() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        let name = "warm-\(UInt32.random(in: 0...UInt32.max))"
        let warmed = try PostgresEventStore(
            configuration: .init(url: try TestDatabase.url(), schema: store.configuration.schema, poolSize: 4, applicationName: name)
        )
        defer { warmed.shutdown() }
        try await warmed.warmUp()
        let rows = try await store.withTransaction { tx in
            try await tx.query("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", [name])
        }
        #expect(rows.first?.first == "4")
    }

    @Test func globalOrderIsNumericByTransactionThenPosition() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        // Rows as if written by transactions 10 and then 9 (long committed): text order would put
        // "10" first; the log order must not.
        try await store.pool.withConnection { connection in
            try await connection.execute(
                """
                INSERT INTO events (tx, stream_id, version, event_type, data, metadata, prev_hash, hash) VALUES
                  ('10', 'b', 1, 'T', '{}', '{}', '\\x00', '\\x00'),
                  ('9', 'a', 1, 'T', '{}', '{}', '\\x00', '\\x00')
                """
            )
        }
        let events = try await store.readAll(after: .start, limit: 10)
        #expect(events.map(\.streamID) == ["a", "b"])
        #expect(events.map(\.logPosition.transaction) == [9, 10])
        #expect(try await store.readAll(after: events[0].logPosition, limit: 10).map(\.streamID) == ["b"])
    }

    @Test func theDatabaseRefusesUpdateDeleteAndTruncate() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        _ = try await store.append(to: "s", expectedVersion: .noStream, events: [TestDatabase.event(1)])
        for sql in ["UPDATE events SET data = '{}'", "DELETE FROM events", "TRUNCATE events"] {
            let error = await #expect(throws: EventStoreError.self) {
                try await store.pool.withConnection { try await $0.execute(sql) }
            }
            #expect(error?.code == .appendOnly, "\(sql)")
        }
        #expect(try await store.readStream("s", afterVersion: 0).count == 1)
    }

    @Test func verifyFindsATamperedRow() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        for stream in ["a", "b", "c"] {
            _ = try await store.append(to: StreamID(stream), expectedVersion: .noStream, events: (1...4).map { TestDatabase.event($0) })
        }
        let clean = try await store.verify()
        #expect(clean.firstBreak == nil)
        #expect(clean.streams == 3 && clean.events == 12)
        // Behind the database's back: with triggers off, as a superuser could.
        try await store.pool.withConnection { connection in
            try await connection.execute(
                "SET session_replication_role = replica; UPDATE events SET data = '{\"n\": 42}' WHERE stream_id = 'b' AND version = 3; SET session_replication_role = origin;"
            )
        }
        let report = try await store.verify(pageSize: 2)
        #expect(report.firstBreak?.stream == "b")
        #expect(report.firstBreak?.version == 3)
    }

    @Test func databaseAndSwiftAgreeOnTheHash() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        let event = NewEvent(type: "Ünïcode", data: "{\"b\":[1,2.5,\"x\\\"y\"],\"a\":null,\"emoji\":\"🚀\"}", metadata: "{\"actor\":\"o'neil\"}")
        _ = try await store.append(to: "s-ü", expectedVersion: .noStream, events: [event])
        let stored = try #require(try await store.readStream("s-ü", afterVersion: 0).first)
        let expected = HashChain.link(
            previous: HashChain.genesis, stream: "s-ü", version: 1, type: "Ünïcode", data: stored.data, metadata: stored.metadata
        )
        #expect(stored.hash == expected.hexString)
    }

    @Test func passwordsNeverPrinted() async throws {
        #expect(PostgresURL.redacted("postgres://triton:s3cret@db:5432/triton") == "postgres://triton:********@db:5432/triton")
        #expect(PostgresURL.redacted("host=db password=s3cret dbname=x") == "host=db password=******** dbname=x")
        #expect(PostgresURL.redacted("host=db password='a b' dbname=x") == "host=db password=******** dbname=x")
        let store = try PostgresEventStore(configuration: .init(url: "postgresql://u:hunter2@127.0.0.1:1/x?connect_timeout=2"))
        let error = await #expect(throws: EventStoreError.self) {
            try await store.readStream("s", afterVersion: 0)
        }
        #expect(error?.code == .connectionFailed)
        #expect(error.map { "\($0)" }?.contains("hunter2") == false)
    }

    @Test func aLostConnectionIsReestablished() async throws {
        let store = try await TestDatabase.makeStore(poolSize: 2)
        defer { store.shutdown() }
        _ = try await store.append(to: "s", expectedVersion: .noStream, events: [TestDatabase.event(1)])
        // Kill every server process of this store's pool from outside.
        let admin = try await PGConnection.connect(url: try TestDatabase.url(), schema: nil)
        let killed = try await admin.query(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
            [store.configuration.applicationName]
        ) { $0.int64(0, 0) }
        #expect(killed >= 1, "the store's pooled connection should have been there to kill")
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await store.readStream("s", afterVersion: 0).count == 1)
        _ = try await store.append(to: "s", expectedVersion: .exact(1), events: [TestDatabase.event(2)])
    }
}

extension TestDatabase {
    /// The `n`th test event (optionally padded to a size).
    static func event(_ n: Int, type: String = "Tested", padding: Int = 0) -> NewEvent {
        let pad = String(repeating: "x", count: padding)
        return NewEvent(type: type, data: "{\"n\":\(n),\"pad\":\"\(pad)\"}", metadata: "{\"actor\":\"test\",\"source\":\"cli\"}")
    }
}
