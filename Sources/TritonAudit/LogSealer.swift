import EventStore
import Foundation
import PostgresStore
import TritonJSON
import TritonSeals

/// When the running sealer seals: after `everyEvents` unsealed events, `interval` after the first
/// unsealed one, and right after an event `isSealPoint` picks (a flow's last event, so the flow's
/// record can cite a seal that covers it).
public struct SealPolicy: Sendable {
    public var everyEvents: Int
    public var interval: Duration
    public var isSealPoint: @Sendable (RecordedEvent) -> Bool

    public init(everyEvents: Int = 1000, interval: Duration = .seconds(10), isSealPoint: @escaping @Sendable (RecordedEvent) -> Bool = { _ in false }) {
        self.everyEvents = max(1, everyEvents)
        self.interval = interval
        self.isSealPoint = isSealPoint
    }
}

/// Seals the log in PostgreSQL: extends the Merkle tree of the last seal (resumed from the frontier
/// stored with it, so the log is never read again) with the events appended since, in global order,
/// and appends the next seal, signed with `key`. The key is registered (from that seal on) the first
/// time it signs; an older key keeps verifying the seals it made.
///
/// Several sealers may share one log (several `serve` processes): a seal is written under a
/// transaction-level advisory lock, and a sealer that finds a seal it did not make reloads from it.
public actor LogSealer {
    public nonisolated let store: PostgresEventStore
    public nonisolated let key: SealKey

    /// The tree over every event read so far, and what the last seal covers.
    struct State {
        var tree: MerkleTree
        var after: LogPosition
        var last: Seal?
        var unsealedSince: ContinuousClock.Instant?
        var sealPointPending = false
        var unsealed: UInt64 { self.tree.size - (self.last?.treeSize ?? 0) }
    }

    private var state: State?

    public init(store: PostgresEventStore, key: SealKey) {
        self.store = store
        self.key = key
    }

    /// Seals every event visible now, or returns `nil` when no event came since the last seal.
    @discardableResult
    public func seal(now: Date = Date()) async throws -> Seal? {
        for attempt in 1...3 {
            var state = try await self.loaded()
            while true {
                let events = try await self.store.readAll(after: state.after, limit: 5000)
                guard !events.isEmpty else { break }
                for event in events { Self.add(event, to: &state) }
            }
            self.state = state
            do {
                return try await self.write(now: now)
            } catch is Reload where attempt < 3 {
                continue  // another sealer sealed first: extend its seal instead
            }
        }
        return nil
    }

    /// Seals by `policy` until cancelled; `onSeal` sees each seal made. Every `pollInterval` it reads
    /// what was appended since (in pages, one query each), so following a busy log costs a query per
    /// interval, not one per append; a flow's end is sealed within an interval of it.
    public func run(
        policy: SealPolicy, pollInterval: Duration = .milliseconds(250), onSeal: @escaping @Sendable (Seal) -> Void = { _ in }
    ) async throws {
        while !Task.isCancelled {
            do {
                for seal in try await self.step(policy: policy) { onSeal(seal) }
            } catch is Reload {
                continue  // another sealer sealed: extend its seal
            }
            try await Task.sleep(for: pollInterval)
        }
    }

    /// Another sealer wrote the next seal first.
    struct Reload: Error {}

    /// Reads every event visible now and seals when `policy` says so: after every `everyEvents`, and
    /// at the end when a seal point came or the oldest unsealed event is `interval` old.
    private func step(policy: SealPolicy) async throws -> [Seal] {
        var made: [Seal] = []
        var state = try await self.loaded()
        while true {
            let events = try await self.store.readAll(after: state.after, limit: 5000)
            for event in events {
                Self.add(event, to: &state)
                if policy.isSealPoint(event) { state.sealPointPending = true }
                if state.unsealed >= UInt64(policy.everyEvents) {
                    self.state = state
                    if let seal = try await self.write(now: Date()) { made.append(seal) }
                    state = try await self.loaded()
                }
            }
            self.state = state
            if events.count < 5000 { break }
        }
        if let seal = try await self.sealIfDue(policy: policy) { made.append(seal) }
        return made
    }

    private func sealIfDue(policy: SealPolicy) async throws -> Seal? {
        guard let state = self.state, state.unsealed > 0 else { return nil }
        let due =
            state.sealPointPending || state.unsealed >= UInt64(policy.everyEvents)
            || state.unsealedSince.map { ContinuousClock.now - $0 >= policy.interval } == true
        return due ? try await self.write(now: Date()) : nil
    }

    private static func add(_ event: RecordedEvent, to state: inout State) {
        state.tree.append(leafHash: SealLeaf(event, actor: Self.actor(event.metadata)).hash)
        state.after = event.logPosition
        if state.unsealedSince == nil { state.unsealedSince = .now }
    }

    private func loaded() async throws -> State {
        if let state = self.state { return state }
        let last = try await SealRecords(store: self.store).last()
        let state = State(
            tree: try last.map { try MerkleTree(size: $0.seal.treeSize, frontier: $0.frontier) } ?? MerkleTree(),
            after: last?.lastPosition ?? .start, last: last?.seal
        )
        self.state = state
        return state
    }

    /// Seals the tree as it stands. Nothing awaits between reading the state and storing the seal
    /// in it but the insert, and the actor runs one write at a time (`writing`).
    private var writing = false

    /// Taken by the transaction that writes a seal: one seal writer at a time per schema (the store's
    /// schema is first on the search path). One key for the whole server made every schema's sealer
    /// queue behind the others in an open transaction, which held back every global reader on it.
    public static let writeLockSQL = "SELECT pg_advisory_xact_lock(hashtext('triton.seals.' || current_schema()))"

    private func write(now: Date) async throws -> Seal? {
        guard !self.writing, let state = self.state, state.unsealed > 0 else { return nil }
        self.writing = true
        defer { self.writing = false }
        let seal = try self.key.seal(
            treeSize: state.tree.size, root: state.tree.root, timeMillis: Int64((now.timeIntervalSince1970 * 1000).rounded()), after: state.last
        )
        let frontier = state.tree.frontier.map(Hex.encode).joined(separator: ",")
        let key = self.key
        let written = try await self.store.withTransaction { tx -> Bool in
            try await tx.execute(Self.writeLockSQL)
            let rows = try await tx.query("SELECT coalesce(max(sequence), 0) FROM seals")
            let current = rows.first?.first.flatMap { $0 }.flatMap { UInt64($0) } ?? 0
            guard current == seal.sequence - 1 else { return false }
            let signer = try await tx.query("SELECT key_id FROM seal_keys ORDER BY valid_from_sequence DESC LIMIT 1").first?[0] ?? nil
            if signer != key.keyID {
                try await tx.execute(
                    "INSERT INTO seal_keys (key_id, public_key, valid_from_sequence) VALUES ($1, $2, $3::bigint)",
                    [key.keyID, key.publicKeyBase64, String(seal.sequence)]
                )
            }
            try await tx.execute(
                """
                INSERT INTO seals (sequence, tree_size, root, time_millis, previous, key_id, signature, frontier, last_tx, last_position)
                VALUES ($1::bigint, $2::bigint, $3, $4::bigint, $5, $6, $7, $8, $9::text::xid8, $10::bigint)
                """,
                [
                    String(seal.sequence), String(seal.treeSize), seal.root, String(seal.timeMillis), seal.previous, seal.keyID, seal.signature,
                    frontier, String(state.after.transaction), String(state.after.position),
                ]
            )
            return true
        }
        guard written else {
            self.state = nil
            throw Reload()
        }
        // Events may have been added while the insert ran: keep them, they are the next seal's.
        if var current = self.state {
            current.last = seal
            current.sealPointPending = false
            current.unsealedSince = current.tree.size > seal.treeSize ? .now : nil
            self.state = current
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

    /// Every seal with where it ends in the log (the last sealed event's position), in sequence order.
    public func records() async throws -> [Record] {
        try await self.rows("SELECT \(Self.columns) FROM seals ORDER BY sequence").map(Self.record)
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
