import TritonJSON

/// A Kubernetes object kept as its full JSON tree, with typed accessors on top.
///
/// Because the tree is the storage, fields this client does not model (or that a newer cluster adds) survive
/// a get → modify → update round trip.
public protocol KubeObject: Codable, Sendable, Hashable {
    /// Where objects of this type live in the API.
    static var resource: KubeResource { get }
    /// The whole object.
    var json: JSONValue { get set }
    /// Wraps a JSON tree without validating it.
    init(json: JSONValue)
}

extension KubeObject {
    public init(from decoder: any Decoder) throws {
        self.init(json: try JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try self.json.encode(to: encoder)
    }

    /// A new object with `apiVersion`, `kind` and `metadata.name` / `namespace` set.
    public init(name: String, namespace: String? = nil) {
        self.init(json: ["apiVersion": .string(Self.resource.apiVersion), "kind": .string(Self.resource.kind)])
        self.metadata.name = name
        self.metadata.namespace = namespace
    }

    /// `apiVersion`.
    public var apiVersion: String? {
        get { self.json["apiVersion"]?.stringValue }
        set { self.json["apiVersion"] = newValue.map(JSONValue.string) }
    }

    /// `kind`.
    public var kind: String? {
        get { self.json["kind"]?.stringValue }
        set { self.json["kind"] = newValue.map(JSONValue.string) }
    }

    /// `metadata`.
    public var metadata: ObjectMeta {
        get { ObjectMeta(json: self.json["metadata"] ?? .object([:])) }
        set { self.json["metadata"] = newValue.json }
    }

    /// `spec` as a raw tree.
    public var spec: JSONValue {
        get { self.json["spec"] ?? .object([:]) }
        set { self.json["spec"] = newValue }
    }

    /// `status` as a raw tree.
    public var status: JSONValue {
        get { self.json["status"] ?? .object([:]) }
        set { self.json["status"] = newValue }
    }
}

/// An object of any kind, for resources without a typed model; pass its ``KubeResource`` explicitly.
public struct DynamicObject: KubeObject {
    /// A placeholder: calls on dynamic objects take the resource as an argument.
    public static var resource: KubeResource { KubeResource(group: "", version: "v1", kind: "", plural: "") }
    /// The whole object as a JSON tree; unknown fields are kept.
    public var json: JSONValue
    /// Wraps a JSON tree without validating it.
    public init(json: JSONValue) { self.json = json }
}
