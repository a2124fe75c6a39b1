import Synchronization
import TritonJSON

/// The type of a watch event, as sent on the wire.
public enum WatchEventType: String, Sendable {
    case added = "ADDED"
    case modified = "MODIFIED"
    case deleted = "DELETED"
    case bookmark = "BOOKMARK"
    case error = "ERROR"
}

/// One committed change in the store: the object after the change (for a deletion, its last
/// state) and, for modifications and deletions, the object before.
public final class StoreChange: Sendable {
    public let type: WatchEventType
    public let resource: ResourceType
    public let object: JSONValue
    public let previous: JSONValue?
    public let revision: Int
    /// The object's JSON text, computed once and shared by every watcher that sends it.
    private let encoded: Mutex<[UInt8]?>

    init(type: WatchEventType, resource: ResourceType, object: JSONValue, previous: JSONValue?, revision: Int) {
        self.type = type
        self.resource = resource
        self.object = object
        self.previous = previous
        self.revision = revision
        self.encoded = Mutex(nil)
    }

    var namespace: String { self.object.namespace }
    var name: String { self.object.name }

    var encodedObject: [UInt8] {
        if let cached = self.encoded.withLock({ $0 }) { return cached }
        let bytes = self.object.serialized()
        self.encoded.withLock { $0 = bytes }
        return bytes
    }
}

/// What a watcher receives.
enum WatchItem: Sendable {
    /// A change, with the type this watcher sees (a change that moves an object out of a
    /// watcher's selection is a `DELETED` for that watcher).
    case change(WatchEventType, StoreChange)
    /// A bookmark at a resource version the watcher has seen everything up to.
    case bookmark(Int)
}

/// Which objects a watch or list selects.
struct ObjectFilter: Sendable {
    var resource: ResourceType
    var namespace: String?
    var labels: LabelSelector = .everything
    var fields: FieldSelector = .everything

    func matches(_ object: JSONValue) -> Bool {
        if let namespace, object.namespace != namespace { return false }
        if !self.labels.isEmpty, !self.labels.matches(object.labels) { return false }
        if !self.fields.isEmpty, !self.fields.matches(object) { return false }
        return true
    }
}
