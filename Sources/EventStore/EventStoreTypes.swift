import Foundation

/// The name of one event stream, e.g. `deployflow-7f3c…` or `instance-prod/demo`.
public struct StreamID: Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { self.rawValue }
}

/// What the writer believes the stream's current version to be. Versions start at 1; an empty
/// stream is at version 0.
public enum ExpectedVersion: Hashable, Sendable, CustomStringConvertible {
    /// The stream must not exist yet.
    case noStream
    /// The stream's last event must have exactly this version.
    case exact(Int64)

    public var number: Int64 {
        switch self {
        case .noStream: 0
        case .exact(let v): v
        }
    }

    public var description: String {
        switch self {
        case .noStream: "no stream"
        case .exact(let v): "version \(v)"
        }
    }
}

/// An event to be appended: its type name and its JSON-encoded data and metadata.
public struct NewEvent: Sendable, Equatable {
    public var type: String
    /// JSON object text.
    public var data: String
    /// JSON object text: actor, reason, request / correlation / causation ids, source, time.
    public var metadata: String

    public init(type: String, data: String, metadata: String = "{}") {
        self.type = type
        self.data = data
        self.metadata = metadata
    }
}

/// A place in the global log. Events are ordered by the id of the transaction that wrote them and
/// then by their position; a reader checkpoints the last pair it has handled.
public struct LogPosition: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    /// The writing transaction's id (`xid8`).
    public var transaction: UInt64
    /// The global position (unique, increasing within a transaction).
    public var position: Int64

    public init(transaction: UInt64, position: Int64) {
        self.transaction = transaction
        self.position = position
    }

    /// Before every event.
    public static let start = LogPosition(transaction: 0, position: 0)

    public static func < (lhs: LogPosition, rhs: LogPosition) -> Bool {
        (lhs.transaction, lhs.position) < (rhs.transaction, rhs.position)
    }

    public var description: String { "\(self.transaction)/\(self.position)" }
}

/// An event as stored in the log.
public struct RecordedEvent: Sendable, Equatable {
    public var logPosition: LogPosition
    public var streamID: StreamID
    public var version: Int64
    public var type: String
    /// The data as the database renders it (canonical `jsonb` text).
    public var data: String
    public var metadata: String
    public var recordedAt: Date
    /// Hex SHA-256 of this event's link in its stream's hash chain.
    public var hash: String

    public init(
        logPosition: LogPosition, streamID: StreamID, version: Int64, type: String, data: String,
        metadata: String, recordedAt: Date, hash: String
    ) {
        self.logPosition = logPosition
        self.streamID = streamID
        self.version = version
        self.type = type
        self.data = data
        self.metadata = metadata
        self.recordedAt = recordedAt
        self.hash = hash
    }

    public var position: Int64 { self.logPosition.position }
}

/// The outcome of an append: the stream's new version and where the events landed.
public struct AppendResult: Sendable, Equatable {
    public var streamID: StreamID
    public var firstVersion: Int64
    public var lastVersion: Int64
    public var positions: [LogPosition]

    public init(streamID: StreamID, firstVersion: Int64, lastVersion: Int64, positions: [LogPosition]) {
        self.streamID = streamID
        self.firstVersion = firstVersion
        self.lastVersion = lastVersion
        self.positions = positions
    }
}

/// One stream's part of an atomic, possibly multi-stream, append.
public struct StreamAppend: Sendable, Equatable {
    public var streamID: StreamID
    public var expectedVersion: ExpectedVersion
    public var events: [NewEvent]

    public init(streamID: StreamID, expectedVersion: ExpectedVersion, events: [NewEvent]) {
        self.streamID = streamID
        self.expectedVersion = expectedVersion
        self.events = events
    }
}

/// The append-only event log.
public protocol EventStore: Sendable {
    /// Appends events to one stream atomically, if the stream is at `expectedVersion`.
    /// - Throws: ``EventStoreError`` with code `.wrongExpectedVersion` when another writer got there
    ///   first; nothing is written then.
    func append(to stream: StreamID, expectedVersion: ExpectedVersion, events: [NewEvent]) async throws -> AppendResult

    /// Appends to several streams in one transaction: all of it lands or none of it.
    func append(_ appends: [StreamAppend]) async throws -> [AppendResult]

    /// The events of one stream, in version order, starting after `afterVersion`.
    func readStream(_ stream: StreamID, afterVersion: Int64) async throws -> [RecordedEvent]

    /// Up to `limit` events of the global log after `position`, in log order. Never skips an event:
    /// events whose writing transaction may still commit behind them are held back until it has.
    func readAll(after position: LogPosition, limit: Int) async throws -> [RecordedEvent]
}
