/// A parsed Kubernetes API URL: which resource, namespace, name and subresource it addresses.
struct RequestTarget {
    var resource: ResourceType
    var namespace: String?
    var name: String?
    var subresource: String?
    /// The legacy `/watch/` path prefix.
    var watchPrefix = false

    /// Parses `/api/v1/...` and `/apis/{group}/{version}/...` paths.
    /// - Returns: nil when the path is not a resource path (the caller answers 404).
    static func parse(_ components: [String]) -> RequestTarget? {
        var rest: [String]
        let group: String
        let version: String
        if components.count >= 3, components[0] == "api" {
            group = ""
            version = components[1]
            rest = Array(components.dropFirst(2))
        } else if components.count >= 4, components[0] == "apis" {
            group = components[1]
            version = components[2]
            rest = Array(components.dropFirst(3))
        } else {
            return nil
        }
        var watch = false
        if rest.first == "watch" {
            watch = true
            rest.removeFirst()
        }
        func find(_ plural: String) -> ResourceType? { ResourceType.find(group: group, version: version, plural: plural) }
        if rest.count >= 3, rest[0] == "namespaces", let type = find(rest[2]), type.namespaced {
            guard rest.count <= 5 else { return nil }
            return RequestTarget(
                resource: type, namespace: rest[1], name: rest.count > 3 ? rest[3] : nil, subresource: rest.count > 4 ? rest[4] : nil,
                watchPrefix: watch)
        }
        guard let first = rest.first, let type = find(first), rest.count <= 3 else { return nil }
        return RequestTarget(
            resource: type, namespace: nil, name: rest.count > 1 ? rest[1] : nil, subresource: rest.count > 2 ? rest[2] : nil,
            watchPrefix: watch)
    }
}

/// Query parameters, percent-decoded (`+` reads as a space, as in Go's url.ParseQuery).
struct QueryParameters {
    private var values: [String: String] = [:]

    init(_ query: String?) {
        guard let query else { return }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.decode(String(parts[0]))
            let value = parts.count > 1 ? Self.decode(String(parts[1])) : ""
            if self.values[key] == nil { self.values[key] = value }
        }
    }

    subscript(_ key: String) -> String? { self.values[key] }

    func bool(_ key: String) -> Bool {
        guard let v = self.values[key] else { return false }
        return v == "1" || v.lowercased() == "true" || v.isEmpty
    }

    func int(_ key: String) -> Int? { self.values[key].flatMap { Int($0) } }

    static func decode(_ s: String) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(s.utf8)[...]
        while let c = utf8.popFirst() {
            if c == UInt8(ascii: "+") {
                bytes.append(0x20)
            } else if c == UInt8(ascii: "%"), utf8.count >= 2,
                let v = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(v)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(c)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
