import Foundation

/// metadata of every event the command produced. `time` is the only clock the domain ever sees.
public struct EventMetadata: Sendable, Hashable, Codable {
    /// Where a command came from.
    public enum Source: String, Sendable, Hashable, Codable, CaseIterable {
        case api, cli, executor, observer, timer, system
    }

    public var actor: String
    public var reason: String?
    public var requestID: String?
    public var correlationID: String?
    public var causationID: String?
    public var clientAddress: String?
    public var source: Source
    /// When the command was issued; timers and timestamps in events are computed from it.
    public var time: Date

    public init(
        actor: String, reason: String? = nil, requestID: String? = nil, correlationID: String? = nil,
        causationID: String? = nil, clientAddress: String? = nil, source: Source, time: Date
    ) {
        self.actor = actor
        self.reason = reason
        self.requestID = requestID
        self.correlationID = correlationID
        self.causationID = causationID
        self.clientAddress = clientAddress
        self.source = source
        self.time = time
    }
}
