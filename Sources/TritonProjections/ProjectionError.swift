import EventStore

/// Why a projector or a projection query failed. `message` names the stream, table or column and
/// the reason.
public struct ProjectionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure.
    public enum Code: String, Sendable, Equatable {
        /// An event of a projected stream could not be decoded (unknown type or bad data).
        case undecodableEvent
        /// Another projector advanced the checkpoint meanwhile; this one re-reads it and goes on.
        case checkpointMoved
        /// A value read from a query table does not have the expected form.
        case badColumn
        /// `run`, `catchUp` or `rebuild` was called while another of them was running.
        case busy
    }

    public var code: Code
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code.rawValue): \(self.message)" }

    static func undecodable(_ event: RecordedEvent, _ error: any Error) -> ProjectionError {
        ProjectionError(
            .undecodableEvent,
            "\(event.streamID) v\(event.version) (\(event.type)) at \(event.logPosition): cannot be decoded: \(error)"
        )
    }

    static func badColumn(_ table: String, _ column: String, _ value: String?, _ reason: String) -> ProjectionError {
        ProjectionError(.badColumn, "\(table).\(column): \(reason) (got \(value.map { "\"\($0)\"" } ?? "NULL"))")
    }
}
