extension JSONValue {
    /// The member `key` of an object; `nil` for a missing key or a non-object. Setting `nil` removes the key;
    /// setting on a non-object turns it into an object.
    public subscript(key: String) -> JSONValue? {
        get {
            guard case .object(let members) = self else { return nil }
            return members[key]
        }
        set {
            var members: [String: JSONValue]
            if case .object(let existing) = self { members = existing } else { members = [:] }
            members[key] = newValue
            self = .object(members)
        }
    }

    /// The element at `index` of an array, or `nil`.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// The value at a path of object keys, creating intermediate objects when set.
    public subscript(path path: [String]) -> JSONValue? {
        get {
            var current: JSONValue? = self
            for key in path { current = current?[key] }
            return current
        }
        set {
            guard let first = path.first else {
                self = newValue ?? .null
                return
            }
            if path.count == 1 {
                self[first] = newValue
            } else {
                var child = self[first] ?? .object([:])
                child[path: Array(path.dropFirst())] = newValue
                self[first] = child
            }
        }
    }

    /// The string, or `nil` for any other kind.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// An integer, also from an integral double.
    public var intValue: Int? {
        switch self {
        case .int(let value): return Int(exactly: value)
        case .double(let value): return Int(exactly: value)
        default: return nil
        }
    }

    /// The boolean, or `nil` for any other kind.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The elements of an array, or `nil`.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The members of an object, or `nil`.
    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
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

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
    public init(floatLiteral value: Double) { self = .double(value) }
}
