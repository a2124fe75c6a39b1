import EventStore
import Foundation
import Synchronization
import PostgresStore
import Testing
import TritonAudit
import TritonSeals
import TritonTesting

/// Seals on real PostgreSQL, tampered with as a superuser would (triggers off): each way is caught by both
/// verifiers — the database's, and the bundle's on an export of the tampered log — with the log position
/// named; an untouched log and its bundle pass.
@Suite("Seals on PostgreSQL: the database and the bundle verifier", .timeLimit(.minutes(3)))
struct SealAuditTests {
    /// Three streams of 4 events, sealed; two more streams, sealed. Every seal made is returned: a sealer
    /// sees only what a global reader may (other tests' open transactions hold the horizon back for a
    /// moment), so there may be a seal of part of the events before the one of all 12 or 20.
    static func sealedLog(key: SealKey = SealKey()) async throws -> (PostgresEventStore, [Seal]) {
        let store = try await TestDatabase.makeStore()
        for stream in ["a", "b", "c"] {
            _ = try await store.append(to: StreamID(stream), expectedVersion: .noStream, events: (1...4).map { Self.event($0) })
        }
        let sealer = LogSealer(store: store, key: key)
        var seals = try await Self.seal(sealer, through: 12)
        for stream in ["d", "e"] {
            _ = try await store.append(to: StreamID(stream), expectedVersion: .noStream, events: (1...4).map { Self.event($0) })
        }
        seals += try await Self.seal(sealer, through: 20)
        #expect(try await sealer.seal() == nil, "nothing new: no seal")
        return (store, seals)
    }

    /// Seals until a seal covers `size` events; every seal made on the way.
    static func seal(_ sealer: LogSealer, through size: UInt64) async throws -> [Seal] {
        var seals: [Seal] = []
        for _ in 0..<500 {
            if let seal = try await sealer.seal() { seals.append(seal) }
            if seals.last?.treeSize == size { return seals }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw SealError("no seal through \(size) events (made: \(seals.map(\.treeSize)))")
    }

    /// The first seal that covers the event at leaf index `index`.
    static func sealCovering(_ index: UInt64, _ seals: [Seal]) -> UInt64? {
        seals.first { $0.treeSize > index }?.sequence
    }

    static func event(_ n: Int) -> NewEvent {
        NewEvent(type: "Tested", data: "{\"n\":\(n)}", metadata: "{\"actor\":\"tester\",\"reason\":\"seal test\"}")
    }

    /// Runs `sql` with the triggers off, as a superuser could.
    static func behindTheBack(_ store: PostgresEventStore, _ sql: String) async throws {
        try await store.withTransaction { tx in
            try await tx.execute("SET LOCAL session_replication_role = replica")
            try await tx.execute(sql)
        }
    }

    /// The first failure of each verifier: the database's, and the bundle's on an export of the log as it is.
    static func failures(_ store: PostgresEventStore, trusted: Seal? = nil) async throws -> (database: AuditFailure?, bundle: AuditFailure?) {
        var database: AuditFailure?
        do {
            _ = try await LogAudit.verify(store, trusted: trusted)
        } catch let failure as AuditFailure {
            database = failure
        }
        let directory = try Self.bundleDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try await AuditBundle.export(store, to: directory)
        var bundle: AuditFailure?
        do {
            _ = try AuditBundle.verify(directory, trusted: trusted)
        } catch {
            bundle = error
        }
        return (database, bundle)
    }

    static func bundleDirectory() throws -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("triton-bundle-\(UUID().uuidString)")
    }

    static func position(_ store: PostgresEventStore, _ stream: String, _ version: Int) async throws -> Int64 {
        let rows = try await store.withTransaction { tx in
            try await tx.query("SELECT position FROM events WHERE stream_id = $1 AND version = $2::bigint", [stream, String(version)])
        }
        return try #require(rows.first?[0].flatMap { Int64($0) })
    }

    @Test func anUntouchedLogAndItsBundlePass() async throws {
        let (store, seals) = try await Self.sealedLog()
        defer { store.shutdown() }
        #expect(seals.contains { $0.treeSize == 12 } && seals.last?.treeSize == 20)
        #expect(zip(seals, seals.dropFirst()).allSatisfy { $1.previous == $0.hash && $1.sequence == $0.sequence + 1 })
        let kept = seals.first { $0.treeSize == 12 }
        let report = try await LogAudit.verify(store, trusted: kept)
        #expect(report.events == 20 && report.streams == 5 && report.seals == seals.count && report.unsealedEvents == 0, "\(report)")
        #expect(report.trustedSeal == kept?.sequence && report.lastSeal == seals.last && report.keys.count == 1)

        let directory = try Self.bundleDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let manifest = try await AuditBundle.export(store, to: directory)
        #expect(manifest.events == 20 && manifest.streams == 5 && manifest.seals == seals.count && manifest.lastSeal == seals.last)
        let bundle = try AuditBundle.verify(directory, trusted: kept)
        #expect(bundle.events == 20 && bundle.streams == 5 && bundle.trustedSeal == kept?.sequence)
        #expect(Set(bundle.files) == [AuditBundle.eventsFile, AuditBundle.sealsFile, AuditBundle.keysFile])
        // The seals table refuses changes like the log does.
        await #expect(throws: (any Error).self) {
            try await store.withTransaction { tx in try await tx.execute("DELETE FROM seals") }
        }
    }

    @Test func aChangedPayloadIsNamed() async throws {
        let (store, _) = try await Self.sealedLog()
        defer { store.shutdown() }
        let target = try await Self.position(store, "b", 3)
        try await Self.behindTheBack(store, #"UPDATE events SET data = '{"n": 42}' WHERE stream_id = 'b' AND version = 3"#)
        let (database, bundle) = try await Self.failures(store)
        for failure in [database, bundle] {
            #expect(failure?.check == .chain && failure?.position == target && failure?.stream == "b" && failure?.version == 3, "\(String(describing: failure))")
        }
    }

    @Test func aChangedPreviousHashColumnIsNamedByTheDatabaseVerifier() async throws {
        let (store, _) = try await Self.sealedLog()
        defer { store.shutdown() }
        let target = try await Self.position(store, "b", 3)
        try await Self.behindTheBack(store, #"UPDATE events SET prev_hash = sha256('x'::bytea) WHERE stream_id = 'b' AND version = 3"#)
        let (database, bundle) = try await Self.failures(store)
        #expect(database?.check == .chain && database?.position == target && database?.stream == "b" && database?.version == 3, "\(String(describing: database))")
        #expect(database?.message.contains("stored previous hash") == true, "\(String(describing: database))")
        // A bundle carries no previous-hash column (each event's hash is recomputed from the one before
        // it), so what it holds is untouched.
        #expect(bundle == nil, "\(String(describing: bundle))")
    }

    @Test func aStreamTailRehashedConsistentlyIsCaughtByTheSeals() async throws {
        let (store, seals) = try await Self.sealedLog()
        defer { store.shutdown() }
        let target = try await Self.position(store, "b", 3)
        try await Self.behindTheBack(store, #"UPDATE events SET data = '{"n": 42}' WHERE stream_id = 'b' AND version = 3"#)
        // Recompute b's chain from version 3 on, as someone who knows the (unkeyed) hash would.
        let rows = try await store.withTransaction { tx in
            try await tx.query("SELECT version, event_type, data::text, metadata::text, encode(hash, 'hex') FROM events WHERE stream_id = 'b' ORDER BY version")
        }
        var previous = HashChain.genesis
        for row in rows {
            let version = Int64(row[0] ?? "0") ?? 0
            let hash = HashChain.link(previous: previous, stream: "b", version: version, type: row[1] ?? "", data: row[2] ?? "", metadata: row[3] ?? "")
            if version >= 3 {
                try await Self.behindTheBack(
                    store,
                    "UPDATE events SET prev_hash = decode('\(previous.hexString)', 'hex'), hash = decode('\(hash.hexString)', 'hex') WHERE stream_id = 'b' AND version = \(version)"
                )
            }
            previous = hash
        }
        #expect(try await store.verify().firstBreak == nil, "the per-stream chains alone see nothing")
        let (database, bundle) = try await Self.failures(store)
        for failure in [database, bundle] {
            #expect(failure?.check == .seal && failure?.seal == Self.sealCovering(6, seals), "\(String(describing: failure))")
            #expect(failure.flatMap(\.position).map { $0 <= target } == true, "the range named starts at or before b's third event")
        }
    }

    @Test func theLastEventsDeletedAreCaught() async throws {
        let (store, seals) = try await Self.sealedLog()
        defer { store.shutdown() }
        let cut = try await Self.position(store, "e", 3)
        try await Self.behindTheBack(store, "DELETE FROM events WHERE stream_id = 'e' AND version > 2")
        let (database, bundle) = try await Self.failures(store)
        for failure in [database, bundle] {
            #expect(failure?.seal == seals.last?.sequence && failure?.message.contains("tail was cut") == true, "\(String(describing: failure))")
            #expect(failure?.position == cut, "\(String(describing: failure))")
        }
    }

    @Test func theLastEventsDeletedWithTheirSealsAreCaughtByAKeptSeal() async throws {
        let (store, seals) = try await Self.sealedLog()
        defer { store.shutdown() }
        try await Self.behindTheBack(store, "DELETE FROM events WHERE stream_id IN ('d', 'e')")
        try await Self.behindTheBack(store, "DELETE FROM seals WHERE tree_size > 12")
        let unaware = try await Self.failures(store)
        #expect(unaware.database == nil && unaware.bundle == nil, "without a kept seal the cut log is consistent")
        let (database, bundle) = try await Self.failures(store, trusted: seals.last)
        for failure in [database, bundle] {
            #expect(failure?.seal == seals.last?.sequence && failure?.message.contains("not in the log") == true, "\(String(describing: failure))")
        }
    }

    @Test func aDeletedStreamIsCaught() async throws {
        let (store, seals) = try await Self.sealedLog()
        defer { store.shutdown() }
        let first = try await Self.position(store, "b", 1)
        try await Self.behindTheBack(store, "DELETE FROM events WHERE stream_id = 'b'")
        let (database, bundle) = try await Self.failures(store)
        for failure in [database, bundle] {
            #expect(failure?.check == .seal && failure?.seal == Self.sealCovering(4, seals), "\(String(describing: failure))")
            #expect(failure.flatMap(\.position).map { $0 <= first } == true, "\(String(describing: failure))")
        }
    }

    @Test func reorderedEventsAreCaught() async throws {
        let (store, seals) = try await Self.sealedLog()
        defer { store.shutdown() }
        // a's last event and b's first swap places in the global order (positions are generated, so the
        // rows swap their contents); each stream's own order holds.
        let columns = "stream_id, version, event_type, data, metadata, prev_hash, hash"
        let aPosition = try await Self.position(store, "a", 4)
        let bPosition = try await Self.position(store, "b", 1)
        try await Self.behindTheBack(store, "CREATE TABLE swap AS SELECT position, \(columns) FROM events WHERE position IN (\(aPosition), \(bPosition))")
        try await Self.behindTheBack(store, "UPDATE events SET stream_id = 'swapping' WHERE position IN (\(aPosition), \(bPosition))")
        for (target, source) in [(aPosition, bPosition), (bPosition, aPosition)] {
            try await Self.behindTheBack(
                store,
                """
                UPDATE events e SET (\(columns)) = (SELECT \(columns) FROM swap s WHERE s.position = \(source)) WHERE e.position = \(target)
                """
            )
        }
        #expect(try await store.verify().firstBreak == nil, "the per-stream chains alone see nothing")
        let (database, bundle) = try await Self.failures(store)
        for failure in [database, bundle] {
            #expect(failure?.check == .seal && failure?.seal == Self.sealCovering(3, seals), "\(String(describing: failure))")
            #expect(failure.flatMap(\.position).map { $0 <= aPosition } == true, "\(String(describing: failure))")
        }
    }

    @Test func aReplacedSealIsCaught() async throws {
        let (store, seals) = try await Self.sealedLog()
        defer { store.shutdown() }
        let last = try #require(seals.last)
        // A seal of another root, signed with a key of the forger's, under the log's key id.
        let forged = try SealKey().seal(treeSize: last.treeSize, root: [UInt8](repeating: 7, count: 32), timeMillis: 1, after: seals.dropLast().last)
        try await Self.behindTheBack(
            store, "UPDATE seals SET root = '\(forged.root)', signature = '\(forged.signature)' WHERE sequence = \(last.sequence)"
        )
        let (database, bundle) = try await Self.failures(store)
        for failure in [database, bundle] {
            #expect(failure?.seal == last.sequence && failure?.message.contains("signature") == true, "\(String(describing: failure))")
        }
    }

    @Test func aSealByAnUnknownKeyIsCaught() async throws {
        let (store, seals) = try await Self.sealedLog()
        defer { store.shutdown() }
        let last = try #require(seals.last)
        let forger = SealKey()
        let forged = try forger.seal(treeSize: last.treeSize, root: Hex.decode(last.root) ?? [], timeMillis: 1, after: seals.dropLast().last)
        try await Self.behindTheBack(
            store, "UPDATE seals SET key_id = '\(forged.keyID)', signature = '\(forged.signature)' WHERE sequence = \(last.sequence)"
        )
        let (database, bundle) = try await Self.failures(store)
        for failure in [database, bundle] {
            #expect(failure?.seal == last.sequence && failure?.message.contains("unknown key") == true, "\(String(describing: failure))")
        }
    }

    @Test func anEditedBundleIsCaught() async throws {
        let (store, _) = try await Self.sealedLog()
        defer { store.shutdown() }
        let directory = try Self.bundleDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try await AuditBundle.export(store, to: directory)
        let events = directory.appendingPathComponent(AuditBundle.eventsFile)
        let original = try String(contentsOf: events, encoding: .utf8)
        let edited = original.replacingOccurrences(of: #"{\"n\": 3}"#, with: #"{\"n\": 9}"#)
        #expect(edited != original)
        try edited.write(to: events, atomically: true, encoding: .utf8)
        #expect(throws: AuditFailure.self) { try AuditBundle.verify(directory) }
        do { _ = try AuditBundle.verify(directory) } catch { #expect(error.check == .manifest, "\(error)") }

        // The manifest rewritten to match: the chain (and the seals) still see it.
        let manifestURL = directory.appendingPathComponent(AuditBundle.manifestFile)
        var manifest = try JSONDecoder().decode(AuditBundle.Manifest.self, from: Data(contentsOf: manifestURL))
        let (sha, bytes) = try AuditBundle.digest(events)
        manifest.files[AuditBundle.eventsFile] = .init(sha256: sha, bytes: bytes)
        try JSONEncoder().encode(manifest).write(to: manifestURL)
        let target = try await Self.position(store, "a", 3)
        do {
            _ = try AuditBundle.verify(directory)
            Issue.record("an edited bundle passed")
        } catch {
            #expect(error.check == .chain && error.position == target && error.stream == "a", "\(error)")
        }
    }

    /// The seal writer's lock is per schema. It was one lock for the whole server: every Triton schema's
    /// sealer queued behind the others in an open transaction, and those transactions held back the global
    /// read of every log on the server (the full test suite's SSE, projector and NOTIFY tests timed out).
    @Test func sealersOfTwoSchemasDoNotWaitForEachOther() async throws {
        let a = try await TestDatabase.makeStore()
        let b = try await TestDatabase.makeStore()
        defer {
            a.shutdown()
            b.shutdown()
        }
        _ = try await b.append(to: "s", expectedVersion: .noStream, events: [Self.event(1)])
        // The global read shows it once every transaction begun before it has ended (other tests' too).
        let visible = ContinuousClock.now + .seconds(30)
        while try await b.readAll(after: .start, limit: 1).isEmpty, ContinuousClock.now < visible {
            try await Task.sleep(for: .milliseconds(10))
        }
        let holding = Atomic(false)
        let done = Atomic(false)
        // Schema a's seal lock, held until b has sealed or 8 s have passed.
        let holder = Task {
            try await a.withTransaction { tx in
                try await tx.execute(LogSealer.writeLockSQL)
                holding.store(true, ordering: .sequentiallyConsistent)
                let deadline = ContinuousClock.now + .seconds(8)
                while !done.load(ordering: .sequentiallyConsistent), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
        }
        while !holding.load(ordering: .sequentiallyConsistent) { try await Task.sleep(for: .milliseconds(10)) }
        let started = ContinuousClock.now
        try await LogSealer(store: b, key: SealKey()).seal()
        let took = ContinuousClock.now - started
        done.store(true, ordering: .sequentiallyConsistent)
        try await holder.value
        #expect(took < .seconds(6), "schema b's sealer waited for schema a's seal lock (\(took))")
        #expect(try await SealRecords(store: b).all().count == 1)
    }

    @Test func theRunningSealerSealsEveryNEventsAndAtASealPoint() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        let sealer = LogSealer(store: store, key: SealKey())
        let made = Made()
        let policy = SealPolicy(everyEvents: 10, interval: .seconds(3600)) { $0.type == "Ended" }
        let task = Task { try await sealer.run(policy: policy) { seal in made.seals.withLock { $0.append(seal) } } }
        defer { task.cancel() }
        func waitFor(_ what: String, _ condition: ([Seal]) -> Bool) async throws {
            for _ in 0..<500 {
                if made.seals.withLock({ condition($0) }) { return }
                try await Task.sleep(for: .milliseconds(10))
            }
            Issue.record("no seal: \(what) (made: \(made.seals.withLock { $0.map(\.treeSize) }))")
        }
        for n in 1...10 { _ = try await store.append(to: StreamID("s\(n)"), expectedVersion: .noStream, events: [Self.event(n)]) }
        try await waitFor("after 10 events") { $0.last?.treeSize == 10 }
        _ = try await store.append(to: "flow", expectedVersion: .noStream, events: [Self.event(1), NewEvent(type: "Ended", data: "{}")])
        try await waitFor("at the seal point") { $0.last?.treeSize == 12 }
        task.cancel()
        _ = try? await task.value
        _ = try await LogAudit.verify(store)
        #expect(try await SealRecords(store: store).all() == made.seals.withLock { $0 })
    }
}

/// The seals a running sealer reported.
final class Made: Sendable {
    let seals = Mutex<[Seal]>([])
}

extension SealAuditTests {
    @Test func keysRotateAndRotateBackAndEachSealVerifiesWithTheKeyOfItsTime() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        let (first, second) = (SealKey(), SealKey())
        var made: [Seal] = []
        for (round, key) in [first, second, first].enumerated() {
            _ = try await store.append(to: StreamID("rotation-\(round)"), expectedVersion: .noStream, events: (1...3).map { Self.event($0) })
            made += try await Self.seal(LogSealer(store: store, key: key), through: UInt64(3 * (round + 1)))
        }
        let keys = try await SealRecords(store: store).keys()
        #expect(keys.map(\.keyID) == [first.keyID, second.keyID, first.keyID], "\(keys)")
        #expect(keys.last?.validUntilSequence == nil && keys.first?.validUntilSequence != nil)
        let report = try await LogAudit.verify(store)
        #expect(report.events == 9 && report.seals == made.count)
        let directory = try Self.bundleDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try await AuditBundle.export(store, to: directory)
        #expect(try AuditBundle.verify(directory).seals == made.count)
        // The last seal re-signed by the second key, whose time had passed: refused.
        let last = try #require(made.last)
        let resigned = try second.seal(treeSize: last.treeSize, root: Hex.decode(last.root) ?? [], timeMillis: last.timeMillis, after: made.dropLast().last)
        try await Self.behindTheBack(
            store, "UPDATE seals SET key_id = '\(resigned.keyID)', signature = '\(resigned.signature)' WHERE sequence = \(last.sequence)"
        )
        let (database, bundle) = try await Self.failures(store)
        for failure in [database, bundle] {
            #expect(failure?.seal == last.sequence && failure?.message.contains("not valid for it") == true, "\(String(describing: failure))")
        }
    }
}
