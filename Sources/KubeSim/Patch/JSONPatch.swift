import Foundation
import TritonJSON

/// JSON patch (RFC 6902, `application/json-patch+json`): `add`, `remove`, `replace`, `move`,
/// `copy`, `test` on JSON pointers.
enum JSONPatch {
    struct Failure: Error {
        var message: String
    }

    static func apply(_ patch: JSONValue, to document: JSONValue) throws(KubeAPIError) -> JSONValue {
        guard let operations = patch.arrayValue else {
            throw KubeAPIError.badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        }
        var doc = document
        do {
            for op in operations {
                guard let name = op["op"]?.stringValue else { throw Failure(message: "Unexpected kind: unknown") }
                guard let pathText = op["path"]?.stringValue else {
                    throw Failure(message: "missing path in \(name) operation")
                }
                let path = try self.pointer(pathText)
                switch name {
                case "add":
                    guard let value = op["value"] else { throw Failure(message: "missing value for add") }
                    try self.add(&doc, path, value)
                case "remove":
                    _ = try self.remove(&doc, path)
                case "replace":
                    guard let value = op["value"] else { throw Failure(message: "missing value for replace") }
                    _ = try self.remove(&doc, path)
                    try self.add(&doc, path, value)
                case "move":
                    guard let from = op["from"]?.stringValue else { throw Failure(message: "missing from for move") }
                    let value = try self.remove(&doc, try self.pointer(from))
                    try self.add(&doc, path, value)
                case "copy":
                    guard let from = op["from"]?.stringValue else { throw Failure(message: "missing from for copy") }
                    try self.add(&doc, path, try self.get(doc, try self.pointer(from)))
                case "test":
                    let actual = try? self.get(doc, path)
                    if actual != (op["value"] ?? .null) {
                        throw Failure(message: "testing value \(pathText) failed: test failed")
                    }
                default:
                    throw Failure(message: "Unexpected kind: \(name)")
                }
            }
        } catch let failure as Failure {
            throw KubeAPIError(
                code: 422, reason: .invalid, message: failure.message, details: .emptyObject)
        } catch {
            throw KubeAPIError.internalError("\(error)")
        }
        return doc
    }

    private static func pointer(_ text: String) throws -> [String] {
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else { throw Failure(message: "JSON pointer must be empty or start with a \"/\": \(text)") }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    private static func get(_ doc: JSONValue, _ path: [String]) throws -> JSONValue {
        var current = doc
        for token in path {
            switch current {
            case .object(let o):
                guard let next = o[token] else { throw Failure(message: "missing value at \(token)") }
                current = next
            case .array(let a):
                guard let i = Int(token), a.indices.contains(i) else { throw Failure(message: "invalid index \(token)") }
                current = a[i]
            default:
                throw Failure(message: "cannot descend into a scalar at \(token)")
            }
        }
        return current
    }

    private static func add(_ doc: inout JSONValue, _ path: [String], _ value: JSONValue) throws {
        guard let last = path.last else {
            doc = value
            return
        }
        try self.modifyContainer(&doc, Array(path.dropLast())) { container in
            switch container {
            case .object(var o):
                o[last] = value
                container = .object(o)
            case .array(var a):
                if last == "-" {
                    a.append(value)
                } else if let i = Int(last), i >= 0, i <= a.count {
                    a.insert(value, at: i)
                } else {
                    throw Failure(message: "add operation does not apply: index \(last) out of bounds")
                }
                container = .array(a)
            default:
                throw Failure(message: "add operation does not apply: doc is missing path: /\(path.joined(separator: "/"))")
            }
        }
    }

    private static func remove(_ doc: inout JSONValue, _ path: [String]) throws -> JSONValue {
        guard let last = path.last else { throw Failure(message: "cannot remove the whole document") }
        var removed: JSONValue = .null
        try self.modifyContainer(&doc, Array(path.dropLast())) { container in
            switch container {
            case .object(var o):
                guard let v = o.removeValue(forKey: last) else {
                    throw Failure(message: "Unable to remove nonexistent key: \(last): missing value")
                }
                removed = v
                container = .object(o)
            case .array(var a):
                guard let i = Int(last), a.indices.contains(i) else {
                    throw Failure(message: "Unable to access invalid index: \(last): invalid index referenced")
                }
                removed = a.remove(at: i)
                container = .array(a)
            default:
                throw Failure(message: "remove operation does not apply: doc is missing path: /\(path.joined(separator: "/"))")
            }
        }
        return removed
    }

    private static func modifyContainer(
        _ doc: inout JSONValue, _ path: [String], _ body: (inout JSONValue) throws -> Void
    ) throws {
        guard let first = path.first else {
            try body(&doc)
            return
        }
        let rest = Array(path.dropFirst())
        switch doc {
        case .object(var o):
            guard var child = o[first] else {
                throw Failure(message: "doc is missing path: /\(path.joined(separator: "/")): missing value")
            }
            o[first] = nil
            try self.modifyContainer(&child, rest, body)
            o[first] = child
            doc = .object(o)
        case .array(var a):
            guard let i = Int(first), a.indices.contains(i) else { throw Failure(message: "invalid index \(first)") }
            var child = a[i]
            try self.modifyContainer(&child, rest, body)
            a[i] = child
            doc = .array(a)
        default:
            throw Failure(message: "doc is missing path: /\(path.joined(separator: "/"))")
        }
    }
}
