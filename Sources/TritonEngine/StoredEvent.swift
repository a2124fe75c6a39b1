import EventStore
import Foundation
import TritonDomain

/// A domain event that has a stored form: a type name and JSON data.
public protocol StoredEvent: Sendable {
    var typeName: String { get }
    func encodedData() throws -> Data
    static func decode(type: String, data: Data) throws -> Self
}

extension DeployFlow.Event: StoredEvent {}
extension Instance.Event: StoredEvent {}

/// Stream names.
public enum Streams {
    /// `deployflow-<id>`: one release action.
    public static func flow(_ id: FlowID) -> StreamID { StreamID("deployflow-\(id.rawValue)") }
    /// `instance-<namespace>/<name>`: serialises releases of one CloneSet.
    public static func instance(_ ref: InstanceRef) -> StreamID { StreamID("instance-\(ref.namespace)/\(ref.name)") }
}

extension EventMetadata {
    /// The stored metadata JSON; the time is kept to the millisecond, as event payloads are, so a
    /// replay folds to exactly the state the live run had.
    public func encodedJSON() throws -> String {
        var copy = self
        copy.time = Date(timeIntervalSince1970: (self.time.timeIntervalSince1970 * 1000).rounded() / 1000)
        return String(decoding: try EventJSON.makeEncoder().encode(copy), as: UTF8.self)
    }

    public static func decode(json: String) throws -> EventMetadata {
        try EventJSON.makeDecoder().decode(EventMetadata.self, from: Data(json.utf8))
    }

    /// The same metadata with the time truncated to what the log keeps.
    public var storedPrecision: EventMetadata {
        var copy = self
        copy.time = Date(timeIntervalSince1970: (self.time.timeIntervalSince1970 * 1000).rounded() / 1000)
        return copy
    }
}

extension StoredEvent {
    /// The event ready to append, with its metadata.
    public func newEvent(metadata: EventMetadata) throws -> NewEvent {
        NewEvent(type: self.typeName, data: String(decoding: try self.encodedData(), as: UTF8.self), metadata: try metadata.encodedJSON())
    }
}
