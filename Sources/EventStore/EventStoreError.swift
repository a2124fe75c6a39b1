/// An error from the event store. `description` stays generic enough to show anyone; details
/// (never a password) are in `message`.
public struct EventStoreError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Sendable {
            case wrongExpectedVersion, connectionFailed, connectionLost, queryFailed, appendOnly, invalidInput,
                migrationFailed
        }
        fileprivate let base: Base
        /// Another writer appended first; reload, decide again and retry.
        public static let wrongExpectedVersion = Code(base: .wrongExpectedVersion)
        public static let connectionFailed = Code(base: .connectionFailed)
        public static let connectionLost = Code(base: .connectionLost)
        public static let queryFailed = Code(base: .queryFailed)
        /// Something tried to change or remove events.
        public static let appendOnly = Code(base: .appendOnly)
        public static let invalidInput = Code(base: .invalidInput)
        public static let migrationFailed = Code(base: .migrationFailed)
        public var description: String { self.base.rawValue }
    }

    public var code: Code
    public var message: String
    /// The SQLSTATE the server reported, if any.
    public var sqlState: String?
    public var stream: StreamID?

    public init(_ code: Code, _ message: String, sqlState: String? = nil, stream: StreamID? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.stream = stream
    }

    public var description: String {
        var text = "\(self.code): \(self.message)"
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        return text
    }
}
