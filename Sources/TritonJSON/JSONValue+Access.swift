extension JSONValue {
    /// The member `key` of an object; `nil` when this is not an object or has no such member.
    /// Setting `nil` removes the member; setting on a non-object turns it into an object.
    public subscript(key: String) -> JSONValue? {
        get {
            if case .object(let o) = self { return o[key] }
            return nil
        }
        set {
            var o: [String: JSONValue]
            if case .object(let existing) = self {
                o = existing
                self = .null  // release the reference so the dictionary is mutated in place
            } else {
                o = [:]
            }
            o[key] = newValue
            self = .object(o)
        }
    }

    /// The value at a path of object members, e.g. `["metadata", "name"]`.
    public subscript(path path: [String]) -> JSONValue? {
        get {
            var current: JSONValue? = self
            for key in path {
                current = current?[key]
                if current == nil { return nil }
            }
            return current
        }
        set {
            guard let first = path.first else {
                self = newValue ?? .null
                return
            }
            if path.count == 1 {
                self[first] = newValue
                return
            }
            var child = self[first] ?? .emptyObject
            if child.objectValue == nil { child = .emptyObject }
            self[first] = nil
            child[path: Array(path.dropFirst())] = newValue
            self[first] = child
        }
    }

    /// Looks a dotted path up, e.g. `"metadata.name"`.
    public func lookup(_ dotted: String) -> JSONValue? {
        self[path: dotted.split(separator: ".").map(String.init)]
    }

    /// The element at `index` of an array, or `nil`.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// A scalar rendered as text (strings, numbers, booleans), as YAML readers expect for string fields.
    public var scalarText: String? {
        switch self {
        case .string(let value): return value
        case .int(let value): return String(value)
        case .double(let value): return String(value)
        case .bool(let value): return value ? "true" : "false"
        default: return nil
        }
    }

    /// A string-to-string map from an object whose values are strings; other members are skipped.
    public var stringMap: [String: String]? {
        guard case .object(let members) = self else { return nil }
        return members.compactMapValues(\.scalarText)
    }

    /// A tree from a string-to-string map.
    public init(stringMap: [String: String]) {
        self = .object(stringMap.mapValues(JSONValue.string))
    }
}
