import Foundation
import Hummingbird
import TritonJSON

/// A JSON object from a request body, read field by field so every error names the field (with its
/// path, e.g. `applicationSpec.replicas`) and the reason.
struct JSONBody: Sendable {
    let object: [String: JSONValue]
    let path: String

    init(object: [String: JSONValue], path: String = "") {
        self.object = object
        self.path = path
    }

    /// Parses a request body; an empty body is an empty object.
    static func parse(_ request: Request, limit: Int = 1 << 20) async throws -> JSONBody {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, code: "badRequest", "the body is larger than \(limit) bytes")
        }
        guard buffer.readableBytes > 0 else { return JSONBody(object: [:]) }
        let value: JSONValue
        do {
            value = try JSONValue.parse(buffer.readableBytesView)
        } catch {
            throw APIError.badRequest(nil, "the body is not valid JSON (\(error))")
        }
        guard case .object(let object) = value else { throw APIError.badRequest(nil, "the body must be a JSON object") }
        if let field = Self.firstNUL(in: value, path: "") {
            throw APIError.badRequest(field.isEmpty ? nil : field, "must not contain the NUL character (U+0000): the log cannot store it")
        }
        return JSONBody(object: object)
    }

    /// The path of the first string or key that holds U+0000 (PostgreSQL's text and jsonb cannot
    /// hold it, and a C string would silently cut it off), else nil.
    static func firstNUL(in value: JSONValue, path: String) -> String? {
        switch value {
        case .string(let text):
            return text.utf8.contains(0) ? path : nil
        case .array(let items):
            for (index, item) in items.enumerated() {
                if let found = Self.firstNUL(in: item, path: "\(path)[\(index)]") { return found }
            }
            return nil
        case .object(let fields):
            for key in fields.keys.sorted() {
                let child = path.isEmpty ? key : "\(path).\(key)"
                if key.utf8.contains(0) { return child }
                if let found = Self.firstNUL(in: fields[key]!, path: child) { return found }
            }
            return nil
        default:
            return nil
        }
    }

    func name(_ key: String) -> String { self.path.isEmpty ? key : "\(self.path).\(key)" }

    private func value(_ key: String) -> JSONValue? {
        guard let value = self.object[key], value != .null else { return nil }
        return value
    }

    func int(_ key: String) throws -> Int? {
        switch self.value(key) {
        case nil: return nil
        case .int(let value): return value
        case .double(let value) where value == value.rounded() && abs(value) < 1e15: return Int(value)
        default: throw APIError.badRequest(self.name(key), "must be an integer")
        }
    }

    func string(_ key: String) throws -> String? {
        switch self.value(key) {
        case nil: return nil
        case .string(let value): return value
        default: throw APIError.badRequest(self.name(key), "must be a string")
        }
    }

    /// A batch size: a number or a percent string such as "30%" (also a numeric string).
    func numberOrString(_ key: String) throws -> String? {
        switch self.value(key) {
        case nil: return nil
        case .int(let value): return String(value)
        case .string(let value): return value
        default: throw APIError.badRequest(self.name(key), "must be a number or a percent such as \"30%\"")
        }
    }

    func bool(_ key: String) throws -> Bool? {
        switch self.value(key) {
        case nil: return nil
        case .bool(let value): return value
        default: throw APIError.badRequest(self.name(key), "must be true or false")
        }
    }

    func object(_ key: String) throws -> JSONBody? {
        switch self.value(key) {
        case nil: return nil
        case .object(let value): return JSONBody(object: value, path: self.name(key))
        default: throw APIError.badRequest(self.name(key), "must be an object")
        }
    }

    func strings(_ key: String) throws -> [String]? {
        switch self.value(key) {
        case nil: return nil
        case .array(let values):
            return try values.map {
                guard case .string(let text) = $0 else { throw APIError.badRequest(self.name(key), "must be an array of strings") }
                return text
            }
        default: throw APIError.badRequest(self.name(key), "must be an array of strings")
        }
    }

    /// The JSON text of an object field (a pod template kept as given).
    func rawJSON(_ key: String) throws -> String? {
        guard let value = self.value(key) else { return nil }
        guard case .object = value else { throw APIError.badRequest(self.name(key), "must be an object") }
        return value.jsonString
    }

    /// The first container's image in a pod template object field.
    func templateImage(_ key: String) throws -> String? {
        guard case .object(let template)? = self.value(key) else { return nil }
        guard case .object(let spec)? = template["spec"], case .array(let containers)? = spec["containers"],
            case .object(let first)? = containers.first, case .string(let image)? = first["image"]
        else { return nil }
        return image
    }

    func require<T>(_ key: String, _ read: (String) throws -> T?) throws -> T {
        guard let value = try read(key) else { throw APIError.badRequest(self.name(key), "is required") }
        return value
    }

    /// Fields that are not among `known` (a typo must not be silently ignored).
    func rejectUnknown(_ known: Set<String>) throws {
        if let unknown = self.object.keys.sorted().first(where: { !known.contains($0) }) {
            throw APIError.badRequest(self.name(unknown), "is not a known field")
        }
    }
}
