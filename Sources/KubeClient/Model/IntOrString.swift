import TritonJSON

/// A Kubernetes `IntOrString` such as `maxSurge: 3` or `maxSurge: "60%"`.
public enum IntOrString: Sendable, Hashable {
    case int(Int)
    case string(String)

    init?(json: JSONValue?) {
        switch json {
        case .int(let value)?: self = .int(value)
        case .string(let value)?: self = .string(value)
        default: return nil
        }
    }

    var json: JSONValue {
        switch self {
        case .int(let value): .int(value)
        case .string(let value): .string(value)
        }
    }
}

extension JSONValue {
    /// A typed read of an integer field at `path`.
    func int(at path: [String]) -> Int? { self[path: path]?.intValue }
    /// A typed read of a string field at `path`.
    func string(at path: [String]) -> String? { self[path: path]?.stringValue }
}
