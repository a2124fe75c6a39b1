import EventStore
import Foundation
import Logging

/// The event log in PostgreSQL, over libpq.
///
/// Appends are one round trip (`append_events`, a server-side function that checks the expected
/// version, chains the hashes and inserts), so writers on different streams never wait for each
/// other. Readers of the global log read only below the oldest running writer (see
/// ``readAll(after:limit:)``), so they never skip a late commit.
public final class PostgresEventStore: EventStore {
    /// How readers in other processes learn of new events.
    public enum NotifyMode: String, Sendable, CaseIterable {
        /// No NOTIFY: other processes find new events by polling.
        case none
        /// `pg_notify` inside every append transaction. Simple, but NOTIFY takes a cluster-wide lock
        /// at commit that serialises committers; kept for measurement.
        case inTransaction
        /// One NOTIFY per burst of appends, sent by ``run()`` from a single place after the appends
        /// committed. Appends keep their concurrency. The default.
        case coalesced
    }

    public struct Configuration: Sendable {
        /// A libpq connection string: `postgres://user@host:port/db` or `host=… dbname=…`.
        public var url: String
        /// The schema holding Triton's tables. Defaults to `triton`.
        public var schema: String
        /// Connections in the pool. Defaults to `10`.
        public var poolSize: Int
        /// Defaults to `.coalesced`.
        public var notifyMode: NotifyMode
        /// How often a follower re-reads the log when nothing woke it. Defaults to `1` second.
        public var pollInterval: Duration
        /// Shown in `pg_stat_activity`. Defaults to `triton`.
        public var applicationName: String
        /// `.coalesced`: at most one NOTIFY per this interval. Defaults to `10` milliseconds.
        public var notifyCoalescing: Duration = .milliseconds(10)

        public init(
            url: String, schema: String = "triton", poolSize: Int = 10, notifyMode: NotifyMode = .coalesced,
            pollInterval: Duration = .seconds(1), applicationName: String = "triton"
        ) {
            self.url = url
            self.schema = schema
            self.poolSize = poolSize
            self.notifyMode = notifyMode
            self.pollInterval = pollInterval
            self.applicationName = applicationName
        }
    }

    public static let notificationChannel = "triton_events"

    public let configuration: Configuration
    let pool: PGConnectionPool
    let logger: Logger
    /// Wakes this process's followers right after an append commits, and the NOTIFY sender.
    let localAppends = WakeUpBroadcaster()
    /// Wakes this process's followers when any process appended (NOTIFY received).
    let remoteAppends = WakeUpBroadcaster()

    public init(configuration: Configuration, logger: Logger = Logger(label: "triton.store")) throws {
        guard Self.isValidSchemaName(configuration.schema) else {
            throw EventStoreError(.invalidInput, "schema: '\(configuration.schema)' is not a valid name (letters, digits, _; at most 63)")
        }
        self.configuration = configuration
        self.logger = logger
        self.pool = PGConnectionPool(
            url: configuration.url, schema: configuration.schema, applicationName: configuration.applicationName,
            maxConnections: configuration.poolSize
        )
    }

    /// Closes the pool's connections.
    public func shutdown() {
        self.pool.close()
    }

    /// Opens the pool's connections now (up to `connections`, default all of them) instead of on first
    /// use, for a process about to take a burst (`bench engine` does, before its clock starts).
    public func warmUp(connections: Int? = nil) async throws {
        try await self.pool.warmUp(connections ?? self.configuration.poolSize)
    }

    // MARK: - Appending

    public func append(to stream: StreamID, expectedVersion: ExpectedVersion, events: [NewEvent]) async throws -> AppendResult {
        try Self.validate(stream: stream, events: events)
        let result = try await self.pool.withConnection { connection in
            try await self.appendOne(StreamAppend(streamID: stream, expectedVersion: expectedVersion, events: events), on: connection)
        }
        self.localAppends.signal()
        return result
    }

    public func append(_ appends: [StreamAppend]) async throws -> [AppendResult] {
        guard !appends.isEmpty else { return [] }
        if appends.count == 1 {
            return [try await self.append(to: appends[0].streamID, expectedVersion: appends[0].expectedVersion, events: appends[0].events)]
        }
        for part in appends { try Self.validate(stream: part.streamID, events: part.events) }
        guard Set(appends.map(\.streamID)).count == appends.count else {
            throw EventStoreError(.invalidInput, "appends: a stream appears more than once in one atomic append")
        }
        let notify = self.configuration.notifyMode == .inTransaction ? "true" : "false"
        let events = appends.flatMap(\.events)
        let rows: [(stream: Int, position: LogPosition, version: Int64)]
        do {
            rows = try await self.pool.withConnection { connection in
                try await connection.query(
                    """
                    SELECT out_stream, out_position, out_tx::text, out_version
                    FROM append_streams($1::text[], $2::bigint[], $3::int[], $4::text[], $5::text[], $6::text[], $7::boolean)
                    """,
                    [
                        PGArray.text(appends.map(\.streamID.rawValue)), PGArray.text(appends.map { String($0.expectedVersion.number) }),
                        PGArray.text(appends.map { String($0.events.count) }), PGArray.text(events.map(\.type)),
                        PGArray.text(events.map(\.data)), PGArray.text(events.map(\.metadata)), notify,
                    ],
                    decode: Self.decodeStreamsAppended
                )
            }
        } catch var error as EventStoreError {
            // Name the stream when the server's message does (a stale version names it; a unique
            // violation's detail does).
            error.stream = appends.first {
                error.message.contains("stream \($0.streamID.rawValue) is not at") || error.message.contains("=(\($0.streamID.rawValue), ")
            }?.streamID
            if error.code == .wrongExpectedVersion {
                let streams = error.stream.map { [$0] } ?? appends.map(\.streamID)
                error.message =
                    streams.count == 1
                    ? "stream \(streams[0]) is no longer at \(appends.first { $0.streamID == streams[0] }!.expectedVersion): another writer appended first"
                    : "one of the streams \(streams.map(\.rawValue).joined(separator: ", ")) is no longer at its expected version: another writer appended first"
            }
            throw error
        }
        let results = appends.enumerated().map { index, part in
            let mine = rows.filter { $0.stream == index + 1 }
            return AppendResult(
                streamID: part.streamID, firstVersion: mine.first?.version ?? 0, lastVersion: mine.last?.version ?? 0,
                positions: mine.map(\.position)
            )
        }
        self.localAppends.signal()
        return results
    }

    /// One event, no NOTIFY: a single INSERT … SELECT statement that checks the expected version
    /// (the previous event must exist, or the stream must be empty for version 0), chains the hash
    /// exactly as `append_events` does, and inserts — no PL/pgSQL call and no array parameters on the
    /// hot path. No row back means the expected version was stale.
    ///
    /// `OFFSET 0` keeps the inner SELECT from being flattened into the INSERT: flattened (as the CTEs
    /// this replaced were), the planner copied its expressions to each place that used them, so every
    /// append looked up the previous event three times and parsed its data and metadata twice
    /// (`EXPLAIN VERBOSE` showed three InitPlans; `PostgresStoreTests` checks the plan has one).
    static let appendSingleSQL = """
        INSERT INTO events (stream_id, version, event_type, data, metadata, prev_hash, hash)
        SELECT $1, $2::bigint + 1, $3, x.d, x.m, x.h,
               sha256(x.h || convert_to($1 || E'\\n' || ($2::bigint + 1)::text || E'\\n' || $3 || E'\\n'
                                        || x.d::text || E'\\n' || x.m::text, 'UTF8'))
        FROM (SELECT CASE WHEN $2::bigint = 0
                          THEN '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
                          ELSE (SELECT p.hash FROM events p WHERE p.stream_id = $1 AND p.version = $2::bigint) END AS h,
                     $4::jsonb AS d, $5::jsonb AS m
              OFFSET 0) x
        WHERE x.h IS NOT NULL
        RETURNING position, tx::text, version
        """

    private func appendOne(_ part: StreamAppend, on connection: PGConnection) async throws -> AppendResult {
        do {
            let rows: [(LogPosition, Int64)]
            if part.events.count == 1, self.configuration.notifyMode != .inTransaction {
                let event = part.events[0]
                rows = try await connection.query(
                    Self.appendSingleSQL,
                    [part.streamID.rawValue, String(part.expectedVersion.number), event.type, event.data, event.metadata],
                    decode: Self.decodeAppended
                )
                guard !rows.isEmpty else {
                    throw EventStoreError(.wrongExpectedVersion, "stale expected version", sqlState: "TR001")
                }
            } else {
                let notify = self.configuration.notifyMode == .inTransaction ? "true" : "false"
                rows = try await connection.query(
                    "SELECT out_position, out_tx::text, out_version FROM append_events($1, $2::bigint, $3::text[], $4::text[], $5::text[], $6::boolean)",
                    [
                        part.streamID.rawValue, String(part.expectedVersion.number),
                        PGArray.text(part.events.map(\.type)), PGArray.text(part.events.map(\.data)),
                        PGArray.text(part.events.map(\.metadata)), notify,
                    ],
                    decode: Self.decodeAppended
                )
            }
            return AppendResult(
                streamID: part.streamID, firstVersion: rows.first?.1 ?? 0, lastVersion: rows.last?.1 ?? 0, positions: rows.map(\.0)
            )
        } catch var error as EventStoreError {
            error.stream = part.streamID
            if error.code == .wrongExpectedVersion {
                error.message = "stream \(part.streamID) is no longer at \(part.expectedVersion): another writer appended first"
            }
            throw error
        }
    }

    private static func validate(stream: StreamID, events: [NewEvent]) throws {
        guard !stream.rawValue.isEmpty, stream.rawValue.utf8.count <= 512 else {
            throw EventStoreError(.invalidInput, "stream: must be 1 to 512 bytes long")
        }
        guard !events.isEmpty else {
            throw EventStoreError(.invalidInput, "events: an append needs at least one event", stream: stream)
        }
        guard !stream.rawValue.utf8.contains(0) else {
            throw EventStoreError(.invalidInput, "stream: must not contain the NUL character (U+0000)")
        }
        for (index, event) in events.enumerated() {
            if event.type.isEmpty || event.type.utf8.count > 200 || event.type.utf8.contains(0) {
                throw EventStoreError(.invalidInput, "events[\(index)].type: must be 1 to 200 bytes long, without U+0000", stream: stream)
            }
            if Self.holdsNUL(event.data) {
                throw EventStoreError(.invalidInput, "events[\(index)].data: must not contain the NUL character (U+0000)", stream: stream)
            }
            if Self.holdsNUL(event.metadata) {
                throw EventStoreError(.invalidInput, "events[\(index)].metadata: must not contain the NUL character (U+0000)", stream: stream)
            }
        }
    }

    /// Whether JSON text holds U+0000, raw or as the escape `\u0000`: PostgreSQL's jsonb refuses it, and
    /// libpq's text parameters are C strings that would silently end at it.
    static func holdsNUL(_ json: String) -> Bool {
        var json = json
        return json.withUTF8 { bytes in
            var index = 0
            let backslash = UInt8(ascii: "\\"), zero = UInt8(ascii: "0")
            while index < bytes.count {
                let byte = bytes[index]
                if byte == 0 { return true }
                if byte == backslash {
                    if index + 5 < bytes.count, bytes[index + 1] == UInt8(ascii: "u"), bytes[index + 2] == zero, bytes[index + 3] == zero,
                        bytes[index + 4] == zero, bytes[index + 5] == zero
                    {
                        return true
                    }
                    index += 2
                    continue
                }
                index += 1
            }
            return false
        }
    }

    // MARK: - Reading

    /// The columns `decodeEvents` reads, from `events e`. Output names differ from the table's
    /// columns on purpose: `ORDER BY tx` would otherwise sort by the *text* output column.
    static let eventColumns = """
        e.position AS out_position, e.tx::text AS out_tx, e.stream_id AS out_stream, e.version AS out_version,
        e.event_type AS out_type, e.data::text AS out_data, e.metadata::text AS out_metadata,
        extract(epoch from e.recorded_at)::float8 AS out_recorded_at, encode(e.hash, 'hex') AS out_hash
        """

    public func readStream(_ stream: StreamID, afterVersion: Int64 = 0) async throws -> [RecordedEvent] {
        try await self.withRetryOnLostConnection {
            try await self.pool.withConnection { connection in
                try await connection.query(
                    "SELECT \(Self.eventColumns) FROM events e WHERE e.stream_id = $1 AND e.version > $2::bigint ORDER BY e.version",
                    [stream.rawValue, String(afterVersion)],
                    decode: Self.decodeEvents
                )
            }
        }
    }

    /// Up to `limit` events after `position`, in (transaction, position) order, read only below
    /// `pg_snapshot_xmin(pg_current_snapshot())`: every transaction below that horizon has ended, and
    /// any transaction that writes later gets a larger id, so nothing can ever appear behind a
    /// position already handed out.
    public func readAll(after position: LogPosition, limit: Int = 1000) async throws -> [RecordedEvent] {
        try await self.withRetryOnLostConnection {
            try await self.pool.withConnection { connection in
                try await connection.query(
                    """
                    SELECT \(Self.eventColumns) FROM events e
                    WHERE (e.tx, e.position) > ($1::text::xid8, $2::bigint)
                      AND e.tx < pg_snapshot_xmin(pg_current_snapshot())
                    ORDER BY e.tx, e.position LIMIT $3::int
                    """,
                    [String(position.transaction), String(position.position), String(max(1, limit))],
                    decode: Self.decodeEvents
                )
            }
        }
    }

    /// Where the event at global `position` is in the log's order (its transaction and position);
    /// `nil` when no event has that position. Lets a reader that kept only a position (an SSE client's
    /// `Last-Event-ID`) resume exactly after it.
    public func logPosition(of position: Int64) async throws -> LogPosition? {
        try await self.withRetryOnLostConnection {
            try await self.pool.withConnection { connection in
                try await connection.query("SELECT tx::text FROM events WHERE position = $1::bigint", [String(position)]) { reader in
                    reader.rowCount == 0 ? nil : UInt64(reader.string(0, 0)).map { LogPosition(transaction: $0, position: position) }
                }
            }
        }
    }

    /// The last event a reader of ``readAll(after:limit:)`` can see now (``LogPosition/start`` when the
    /// log is empty): where a follower that wants only what comes next starts.
    public func head() async throws -> LogPosition {
        try await self.withRetryOnLostConnection {
            try await self.pool.withConnection { connection in
                try await connection.query(
                    """
                    SELECT tx::text, position FROM events WHERE tx < pg_snapshot_xmin(pg_current_snapshot())
                    ORDER BY tx DESC, position DESC LIMIT 1
                    """
                ) { reader in
                    reader.rowCount == 0
                        ? LogPosition.start
                        : LogPosition(transaction: UInt64(reader.string(0, 0)) ?? 0, position: reader.int64(0, 1))
                }
            }
        }
    }

    /// Whether the database answers (one round trip, no table read): for readiness probes.
    public func ping() async throws {
        try await self.pool.withConnection { connection in try await connection.execute("SELECT 1") }
    }

    /// The current head: the position of the last event a reader could see now, and the number of
    /// events in the log.
    public func statistics() async throws -> (events: Int64, streams: Int64) {
        try await self.pool.withConnection { connection in
            try await connection.query("SELECT count(*), count(DISTINCT stream_id) FROM events") { reader in
                (reader.int64(0, 0), reader.int64(0, 1))
            }
        }
    }

    static func decodeAppended(_ reader: PGResultReader) -> [(LogPosition, Int64)] {
        (0..<reader.rowCount).map { row in
            (LogPosition(transaction: reader.uint64(row, 1), position: reader.int64(row, 0)), reader.int64(row, 2))
        }
    }

    static func decodeStreamsAppended(_ reader: PGResultReader) -> [(stream: Int, position: LogPosition, version: Int64)] {
        (0..<reader.rowCount).map { row in
            (Int(reader.int64(row, 0)), LogPosition(transaction: reader.uint64(row, 2), position: reader.int64(row, 1)), reader.int64(row, 3))
        }
    }

    static func decodeEvents(_ reader: PGResultReader) -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        events.reserveCapacity(reader.rowCount)
        for row in 0..<reader.rowCount {
            events.append(
                RecordedEvent(
                    logPosition: LogPosition(transaction: reader.uint64(row, 1), position: reader.int64(row, 0)),
                    streamID: StreamID(reader.string(row, 2)),
                    version: reader.int64(row, 3),
                    type: reader.string(row, 4),
                    data: reader.string(row, 5),
                    metadata: reader.string(row, 6),
                    recordedAt: Date(timeIntervalSince1970: reader.double(row, 7)),
                    hash: reader.string(row, 8)
                )
            )
        }
        return events
    }

    func withRetryOnLostConnection<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as EventStoreError where error.code == .connectionLost {
            self.logger.warning("PostgreSQL connection lost; retrying on a new connection", metadata: ["error": "\(error.message)"])
            return try await body()
        }
    }

    static func isValidSchemaName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !name.isEmpty, name.utf8.count <= 63 else { return false }
        guard first == "_" || ("a"..."z").contains(first) || ("A"..."Z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }
}

/// PostgreSQL array literals for text parameters.
enum PGArray {
    static func text(_ values: [String]) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(values.reduce(2) { $0 + $1.utf8.count + 3 })
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }
}
