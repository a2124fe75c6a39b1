import TritonJSON

/// A patch, in one of the three formats the API server accepts.
public enum KubePatch: Sendable, Hashable {
    /// RFC 7386 JSON merge patch (`application/merge-patch+json`): objects merge, lists are replaced.
    case merge(JSONValue)
    /// Strategic merge patch (`application/strategic-merge-patch+json`): lists such as pod conditions merge
    /// by key. Built-in types only; custom resources such as CloneSets answer `415`.
    case strategicMerge(JSONValue)
    /// RFC 6902 JSON patch (`application/json-patch+json`).
    case json([JSONPatchOperation])

    var contentType: String {
        switch self {
        case .merge: "application/merge-patch+json"
        case .strategicMerge: "application/strategic-merge-patch+json"
        case .json: "application/json-patch+json"
        }
    }

    var body: JSONValue {
        switch self {
        case .merge(let value), .strategicMerge(let value): value
        case .json(let operations): .array(operations.map(\.json))
        }
    }
}

/// One RFC 6902 operation.
public struct JSONPatchOperation: Sendable, Hashable {
    /// `add`, `remove`, `replace`, `move`, `copy` or `test`.
    public var op: String
    /// A JSON pointer, e.g. `/spec/replicas`.
    public var path: String
    /// The `value` field.
    public var value: JSONValue?
    /// The `from` field.
    public var from: String?

    /// Creates a value with the given fields.
    public init(op: String, path: String, value: JSONValue? = nil, from: String? = nil) {
        self.op = op
        self.path = path
        self.value = value
        self.from = from
    }

    /// `add` `value` at `path`.
    public static func add(_ path: String, _ value: JSONValue) -> Self { Self(op: "add", path: path, value: value) }
    /// `replace` the value at `path` (it must exist).
    public static func replace(_ path: String, _ value: JSONValue) -> Self {
        Self(op: "replace", path: path, value: value)
    }
    /// `remove` the value at `path`.
    public static func remove(_ path: String) -> Self { Self(op: "remove", path: path) }
    /// `test` that `path` holds `value`; the whole patch fails otherwise.
    public static func test(_ path: String, _ value: JSONValue) -> Self { Self(op: "test", path: path, value: value) }
    /// `move` a value from one path to another.
    public static func move(from: String, to path: String) -> Self { Self(op: "move", path: path, from: from) }
    /// `copy` a value from one path to another.
    public static func copy(from: String, to path: String) -> Self { Self(op: "copy", path: path, from: from) }

    var json: JSONValue {
        var tree: JSONValue = ["op": .string(self.op), "path": .string(self.path)]
        if let value { tree["value"] = value }
        if let from { tree["from"] = .string(from) }
        return tree
    }
}
