import EventStore
import Foundation
import PostgresStore
import TritonJSON
import TritonSeals

/// Seals the log in PostgreSQL: extends the Merkle tree of the last seal (resumed from its frontier)
/// with the events appended since, in global order, and appends the next seal, signed with `key`. The
/// key is registered (from the next seal on) the first time it signs; an older key keeps verifying the
/// seals it made.
public struct LogSealer: Sendable {
    public let store: PostgresEventStore
    public let key: SealKey

    public init(store: PostgresEventStore, key: SealKey) {
        self.store = store
        self.key = key
    }

    /// The next seal, or `nil` when no event came since the last one. Two sealers racing on one log: one
    /// of them wins the sequence number, the other's insert fails and it seals again later.
    @discardableResult
    public func seal(now: Date = Date()) async throws -> Seal? {
        let last = try await SealRecords(store: self.store).last()
        var tree = try last.map { try MerkleTree(size: $0.seal.treeSize, frontier: $0.frontier) } ?? MerkleTree()
        var after = last?.lastPosition ?? .start
        while true {
            let events = try await self.store.readAll(after: after, limit: 5000)
            guard let final = events.last else { break }
            for event in events { tree.append(leafHash: SealLeaf(event, actor: Self.actor(event.metadata)).hash) }
            after = final.logPosition
        }
        guard tree.size > (last?.seal.treeSize ?? 0) else { return nil }
        let sequence = (last?.seal.sequence ?? 0) + 1
        try await SealRecords(store: self.store).register(self.key, from: sequence)
        let seal = try self.key.seal(
            treeSize: tree.size, root: tree.root, timeMillis: Int64((now.timeIntervalSince1970 * 1000).rounded()), after: last?.seal
        )
        try await self.store.withTransaction { tx in
            try await tx.execute(
                """
                INSERT INTO seals (sequence, tree_size, root, time_millis, previous, key_id, signature, frontier, last_tx, last_position)
                VALUES ($1::bigint, $2::bigint, $3, $4::bigint, $5, $6, $7, $8, $9::text::xid8, $10::bigint)
                """,
                [
                    String(seal.sequence), String(seal.treeSize), seal.root, String(seal.timeMillis), seal.previous, seal.keyID, seal.signature,
                    tree.frontier.map(Hex.encode).joined(separator: ","), String(after.transaction), String(after.position),
                ]
            )
        }
        return seal
    }

    /// The actor of an event's metadata (`""` when it names none).
    static func actor(_ metadata: String) -> String {
        (try? JSONValue.parse(Array(metadata.utf8)))?.objectValue?["actor"]?.stringValue ?? ""
    }
}

/// The seals and seal keys as stored.
public struct SealRecords: Sendable {
    public struct Record: Sendable {
        public var seal: Seal
        public var frontier: [[UInt8]]
        public var lastPosition: LogPosition?
    }

    let store: PostgresEventStore

    public init(store: PostgresEventStore) { self.store = store }

    static let columns =
        "sequence, tree_size, root, time_millis, previous, key_id, signature, frontier, last_tx::text, last_position"

    public func last() async throws -> Record? {
        try await self.rows("SELECT \(Self.columns) FROM seals ORDER BY sequence DESC LIMIT 1").first.map(Self.record)
    }

    public func all() async throws -> [Seal] {
        try await self.rows("SELECT \(Self.columns) FROM seals ORDER BY sequence").map { try Self.record($0).seal }
    }

    /// Every key with the seals it may sign: from its first sequence until the next key's.
    public func keys() async throws -> [SealPublicKey] {
        let rows = try await self.rows("SELECT key_id, public_key, valid_from_sequence FROM seal_keys ORDER BY valid_from_sequence")
        var keys: [SealPublicKey] = []
        for row in rows {
            guard let id = row[0], let key = row[1], let from = row[2].flatMap(UInt64.init) else { continue }
            if !keys.isEmpty { keys[keys.count - 1].validUntilSequence = from - 1 }
            keys.append(SealPublicKey(keyID: id, publicKey: key, validFromSequence: from))
        }
        return keys
    }

    /// Registers `key` as the signer from seal `sequence` on, unless it is the current signer already.
    func register(_ key: SealKey, from sequence: UInt64) async throws {
        let current = try await self.rows("SELECT key_id FROM seal_keys ORDER BY valid_from_sequence DESC LIMIT 1").first?[0] ?? nil
        guard current != key.keyID else { return }
        try await self.store.withTransaction { tx in
            try await tx.execute(
                "INSERT INTO seal_keys (key_id, public_key, valid_from_sequence) VALUES ($1, $2, $3::bigint)",
                [key.keyID, key.publicKeyBase64, String(sequence)]
            )
        }
    }

    private func rows(_ sql: String) async throws -> [[String?]] {
        try await self.store.withTransaction { tx in try await tx.query(sql) }
    }

    static func record(_ row: [String?]) throws -> Record {
        func text(_ index: Int) throws -> String {
            guard let value = row[index] else { throw SealError("seals: column \(index) is NULL") }
            return value
        }
        func unsigned(_ index: Int) throws -> UInt64 {
            guard let value = UInt64(try text(index)) else { throw SealError("seals: column \(index) is not a number") }
            return value
        }
        let timeMillis = Int64(try text(3)) ?? 0
        let seal = Seal(
            sequence: try unsigned(0), treeSize: try unsigned(1), root: try text(2), timeMillis: timeMillis, previous: try text(4),
            keyID: try text(5), signature: try text(6)
        )
        var frontier: [[UInt8]] = []
        for part in try text(7).split(separator: ",") {
            guard let hash = Hex.decode(String(part)) else { throw SealError("seals: a frontier hash is not hex") }
            frontier.append(hash)
        }
        var last: LogPosition?
        if let tx = row[8].flatMap(UInt64.init), let position = row[9].flatMap(Int64.init) { last = LogPosition(transaction: tx, position: position) }
        return Record(seal: seal, frontier: frontier, lastPosition: last)
    }
}
