import TritonJSON

/// `metadata` of an object, over its JSON tree (unknown fields are kept).
public struct ObjectMeta: Sendable, Hashable {
    /// The raw tree.
    public var json: JSONValue

    /// Creates a value with the given fields.
    public init(json: JSONValue = .object([:])) { self.json = json }

    private func string(_ key: String) -> String? { self.json[key]?.stringValue }
    private mutating func set(_ key: String, _ value: String?) { self.json[key] = value.map(JSONValue.string) }

    /// The `name` field.
    public var name: String? {
        get { self.string("name") }
        set { self.set("name", newValue) }
    }
    /// The `generateName` field.
    public var generateName: String? {
        get { self.string("generateName") }
        set { self.set("generateName", newValue) }
    }
    /// The `namespace` field.
    public var namespace: String? {
        get { self.string("namespace") }
        set { self.set("namespace", newValue) }
    }
    /// The `uid` field.
    public var uid: String? {
        get { self.string("uid") }
        set { self.set("uid", newValue) }
    }
    /// The optimistic-concurrency token; `update` sends it back and gets `Conflict` if it is stale.
    public var resourceVersion: String? {
        get { self.string("resourceVersion") }
        set { self.set("resourceVersion", newValue) }
    }
    /// The `generation` field.
    public var generation: Int? { self.json["generation"]?.intValue }
    /// The `creationTimestamp` field.
    public var creationTimestamp: String? { self.string("creationTimestamp") }
    /// The `deletionTimestamp` field.
    public var deletionTimestamp: String? { self.string("deletionTimestamp") }

    /// The `labels` field.
    public var labels: [String: String] {
        get { self.json["labels"]?.stringMap ?? [:] }
        set { self.json["labels"] = newValue.isEmpty ? nil : JSONValue(stringMap: newValue) }
    }
    /// The `annotations` field.
    public var annotations: [String: String] {
        get { self.json["annotations"]?.stringMap ?? [:] }
        set { self.json["annotations"] = newValue.isEmpty ? nil : JSONValue(stringMap: newValue) }
    }
    /// The `finalizers` field.
    public var finalizers: [String] {
        get { self.json["finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        set { self.json["finalizers"] = newValue.isEmpty ? nil : .array(newValue.map(JSONValue.string)) }
    }
    /// `ownerReferences` as raw trees.
    public var ownerReferences: [JSONValue] {
        get { self.json["ownerReferences"]?.arrayValue ?? [] }
        set { self.json["ownerReferences"] = newValue.isEmpty ? nil : .array(newValue) }
    }
}
