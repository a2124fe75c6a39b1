import EventStore
import Foundation
import PostgresStore
import Testing
import TritonAudit
import TritonSeals
import TritonTesting

/// Seals on real PostgreSQL, tampered with as a superuser would (triggers off): each way is caught by the
/// database verifier with the seal and the log position named; an untouched log passes.
@Suite("Seals on PostgreSQL", .timeLimit(.minutes(2)))
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

    static func failure(_ store: PostgresEventStore, trusted: Seal? = nil) async throws -> SealVerifier.Failure? {
        do {
            _ = try await SealAudit.verify(store, trusted: trusted)
            return nil
        } catch let failure as SealVerifier.Failure {
            return failure
        }
    }

    @Test func anUntouchedLogPassesAndTheSealerResumesFromItsFrontier() async throws {
        let (store, seals) = try await Self.sealedLog()
        defer { store.shutdown() }
        #expect(seals.contains { $0.treeSize == 12 } && seals.last?.treeSize == 20)
        #expect(zip(seals, seals.dropFirst()).allSatisfy { $1.previous == $0.hash && $1.sequence == $0.sequence + 1 })
        let report = try await SealAudit.verify(store, trusted: seals.first { $0.treeSize == 12 })
        #expect(report.events == 20 && report.seals == seals.count && report.unsealedEvents == 0 && report.checkedTrustedSeal, "\(report)")
        // The seals table refuses changes like the log does.
        await #expect(throws: (any Error).self) {
            try await store.withTransaction { tx in try await tx.execute("DELETE FROM seals") }
        }
    }

    @Test func aChangedPayloadIsNamed() async throws {
        let (store, seals) = try await Self.sealedLog()
        defer { store.shutdown() }
        let target = try await store.withTransaction { tx in
            try await tx.query("SELECT position FROM events WHERE stream_id = 'b' AND version = 3")
        }
        try await Self.behindTheBack(store, #"UPDATE events SET data = '{"n": 42}' WHERE stream_id = 'b' AND version = 3"#)
        let failure = try #require(try await Self.failure(store))
        #expect(failure.seal == Self.sealCovering(6, seals), "\(failure)")  // b's third event is the log's seventh
        #expect(failure.position.map { $0 <= Int64(target.first?[0] ?? "0") ?? 0 } == true, "\(failure)")
    }

    @Test func cutTailsAndDeletedStreamsAreCaught() async throws {
        let (store, seals) = try await Self.sealedLog()
        defer { store.shutdown() }
        try await Self.behindTheBack(store, "DELETE FROM events WHERE stream_id = 'e' AND version > 2")
        #expect(try await Self.failure(store).map { $0.seal == seals.last?.sequence && $0.message.contains("tail was cut") } == true)

        let (other, otherSeals) = try await Self.sealedLog()
        defer { other.shutdown() }
        try await Self.behindTheBack(other, "DELETE FROM events WHERE stream_id = 'b'")
        #expect(try await Self.failure(other).map { $0.seal == Self.sealCovering(4, otherSeals) } == true)

        // The last events and the last seal cut together: only a seal the auditor kept shows it.
        let (third, thirdSeals) = try await Self.sealedLog()
        defer { third.shutdown() }
        try await Self.behindTheBack(third, "DELETE FROM events WHERE stream_id IN ('d', 'e')")
        try await Self.behindTheBack(third, "DELETE FROM seals WHERE tree_size > 12")
        #expect(try await Self.failure(third) == nil)
        #expect(try await Self.failure(third, trusted: thirdSeals.last).map { $0.message.contains("not in the log") } == true)
    }

    @Test func aReplacedSealAndAnUnknownKeyAreCaught() async throws {
        let (store, seals) = try await Self.sealedLog()
        defer { store.shutdown() }
        let last = try #require(seals.last)
        let forged = try SealKey().seal(treeSize: last.treeSize, root: Hex.decode(last.root) ?? [], timeMillis: 1, after: seals.dropLast().last)
        try await Self.behindTheBack(store, "UPDATE seals SET signature = '\(forged.signature)' WHERE sequence = \(last.sequence)")
        #expect(try await Self.failure(store).map { $0.seal == last.sequence && $0.message.contains("signature") } == true)
        // Signed by a key the log does not know.
        try await Self.behindTheBack(store, "UPDATE seals SET key_id = '\(forged.keyID)' WHERE sequence = \(last.sequence)")
        #expect(try await Self.failure(store).map { $0.seal == last.sequence && $0.message.contains("unknown key") } == true)
    }
}
