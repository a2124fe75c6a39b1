import EventStore
import Foundation
import PostgresStore
import TritonSeals

/// The first thing found wrong with a log (in the database or a bundle): what kind of check failed, the
/// seal and the global log position it concerns when known, the stream and version for a broken chain.
public struct AuditFailure: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Check: String, Sendable, Codable {
        case manifest, events, chain, seal
    }

    public var check: Check
    public var seal: UInt64?
    public var position: Int64?
    public var stream: String?
    public var version: Int64?
    public var message: String

    public init(check: Check, seal: UInt64? = nil, position: Int64? = nil, stream: String? = nil, version: Int64? = nil, message: String) {
        self.check = check
        self.seal = seal
        self.position = position
        self.stream = stream
        self.version = version
        self.message = message
    }

    public var description: String {
        var where_: [String] = []
        if let position { where_.append("position \(position)") }
        if let seal { where_.append("seal \(seal)") }
        return where_.isEmpty ? self.message : "\(self.message) [\(where_.joined(separator: ", "))]"
    }
}

/// What a verification checked, for printing.
public struct AuditReport: Sendable, Equatable {
    public var events: UInt64
    public var streams: Int
    public var seals: Int
    public var unsealedEvents: UInt64
    /// The last seal checked.
    public var lastSeal: Seal?
    public var keys: [SealPublicKey]
    /// The sequence of the kept seal checked against the log, if one was given.
    public var trustedSeal: UInt64?
    /// Bundle files whose hash matched the manifest (empty for the database).
    public var files: [String]
}

/// Every check of a log, fed its events one at a time in global order: each stream's hash chain, each
/// event's leaf into the seals' Merkle tree (``SealVerifier/Incremental``), and at the end a seal the
/// auditor kept. The database verifier and the bundle verifier both run it; memory is one head per
/// stream and the tree's right edge.
public struct LogChecker: Sendable {
    private var chains = HashChain.InterleavedVerifier()
    private var seals: SealVerifier.Incremental
    private let allSeals: [Seal]
    private let keys: [SealPublicKey]

    public init(seals: [Seal], keys: [SealPublicKey]) throws(AuditFailure) {
        do {
            self.seals = try SealVerifier.Incremental(keys: keys, seals: seals)
        } catch {
            throw AuditFailure(check: .seal, seal: error.seal, position: error.position, message: error.message)
        }
        self.allSeals = seals.sorted { $0.sequence < $1.sequence }
        self.keys = keys
    }

    public var events: UInt64 { self.seals.events }

    public mutating func check(_ event: RecordedEvent) throws(AuditFailure) {
        do {
            try self.chains.check(
                stream: event.streamID, version: event.version, type: event.type, data: event.data, metadata: event.metadata, hash: event.hash
            )
        } catch {
            throw AuditFailure(
                check: .chain, position: event.position, stream: error.stream.rawValue, version: error.version,
                message: "stream \(error.stream) at version \(error.version): \(error.reason)"
            )
        }
        do {
            try self.seals.add(leafHash: SealLeaf(event, actor: LogSealer.actor(event.metadata)).hash, position: event.position)
        } catch {
            throw AuditFailure(check: .seal, seal: error.seal, position: error.position, message: error.message)
        }
    }

    public func finish(trusted: Seal?, files: [String] = []) throws(AuditFailure) -> AuditReport {
        let report: SealVerifier.Report
        do {
            report = try self.seals.finish(trusted: trusted)
        } catch {
            throw AuditFailure(check: .seal, seal: error.seal, position: error.position, message: error.message)
        }
        return AuditReport(
            events: report.events, streams: self.chains.streams, seals: report.seals, unsealedEvents: report.unsealedEvents,
            lastSeal: self.allSeals.last, keys: self.keys, trustedSeal: report.checkedTrustedSeal ? trusted?.sequence : nil, files: files
        )
    }
}

/// The database verifier: every event in global order through ``LogChecker`` against the stored seals
/// and keys.
public enum LogAudit {
    public static func verify(
        _ store: PostgresEventStore, trusted: Seal? = nil, progress: (@Sendable (UInt64, Int64) -> Void)? = nil
    ) async throws -> AuditReport {
        let records = SealRecords(store: store)
        // Seals first: events appended after this read are simply unsealed.
        let seals = try await records.all()
        var checker = try LogChecker(seals: seals, keys: try await records.keys())
        // Every event committed when the audit starts: the global read stops below transactions still
        // open (anywhere in the database), so it waits for them rather than call a late tail cut.
        let (committed, _) = try await store.statistics()
        // The stored previous-hash column is not in any hash or leaf (the chain is recomputed from each
        // event's content): it is compared with the stored hash of the event before it, and the first
        // row where they differ fails when the global read reaches it, so failures stay in log order.
        let linkBreak = try await Self.firstStoredLinkBreak(store)
        try await store.readLog(expecting: committed) { events in
            for event in events {
                try checker.check(event)
                if let linkBreak, event.position == linkBreak.position { throw linkBreak }
            }
            progress?(checker.events, committed)
        }
        if let linkBreak { throw linkBreak }
        return try checker.finish(trusted: trusted)
    }

    /// The first event, in global order, whose stored `prev_hash` is not the stored hash of the event
    /// before it in its stream (32 zero bytes for a stream's first event).
    static func firstStoredLinkBreak(_ store: PostgresEventStore) async throws -> AuditFailure? {
        let rows = try await store.withTransaction { tx in
            try await tx.query(
                """
                SELECT e.position, e.stream_id, e.version FROM events e
                LEFT JOIN events p ON p.stream_id = e.stream_id AND p.version = e.version - 1
                WHERE e.prev_hash IS DISTINCT FROM
                      CASE WHEN e.version = 1 THEN '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
                           ELSE p.hash END
                ORDER BY e.tx, e.position LIMIT 1
                """
            )
        }
        guard let row = rows.first, let position = row[0].flatMap({ Int64($0) }), let stream = row[1],
            let version = row[2].flatMap({ Int64($0) })
        else { return nil }
        return AuditFailure(
            check: .chain, position: position, stream: stream, version: version,
            message: "stream \(stream) at version \(version): its stored previous hash is not the hash of the event before it"
        )
    }
}
