import TritonJSON

/// An error of the simulated API server, returned to clients as a `kind: Status` object shaped like
/// the real Kubernetes API server's.
public struct KubeAPIError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The `reason` of a Status object.
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { self.rawValue }

        public static let notFound = Reason("NotFound")
        public static let alreadyExists = Reason("AlreadyExists")
        public static let conflict = Reason("Conflict")
        public static let invalid = Reason("Invalid")
        public static let badRequest = Reason("BadRequest")
        public static let methodNotAllowed = Reason("MethodNotAllowed")
        public static let expired = Reason("Expired")
        public static let gone = Reason("Gone")
        public static let unauthorized = Reason("Unauthorized")
        public static let forbidden = Reason("Forbidden")
        public static let unsupportedMediaType = Reason("UnsupportedMediaType")
        public static let notAcceptable = Reason("NotAcceptable")
        public static let internalError = Reason("InternalError")
        public static let timeout = Reason("Timeout")
    }

    /// One field error of an `Invalid` status.
    public struct Cause: Sendable, Hashable {
        /// e.g. `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`, `FieldValueForbidden`.
        public var reason: String
        public var message: String
        public var field: String

        public init(reason: String, message: String, field: String) {
            self.reason = reason
            self.message = message
            self.field = field
        }

        static func required(_ field: String) -> Cause {
            Cause(reason: "FieldValueRequired", message: "Required value", field: field)
        }

        static func invalid(_ field: String, _ value: JSONValue, _ detail: String) -> Cause {
            Cause(reason: "FieldValueInvalid", message: "Invalid value: \(value): \(detail)", field: field)
        }

        static func forbidden(_ field: String, _ detail: String) -> Cause {
            Cause(reason: "FieldValueForbidden", message: "Forbidden: \(detail)", field: field)
        }
    }

    public var code: Int
    public var reason: Reason
    public var message: String
    /// `details` of the Status object, when the real server sends one.
    public var details: JSONValue?

    public init(code: Int, reason: Reason, message: String, details: JSONValue? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    public var description: String { "KubeAPIError(\(self.code) \(self.reason))" }
    public var debugDescription: String { "KubeAPIError(\(self.code) \(self.reason)): \(self.message)" }

    /// The `kind: Status` object for this error.
    public var status: JSONValue {
        var status: JSONValue = [
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": .emptyObject,
            "status": "Failure",
            "message": .string(self.message),
            "reason": .string(self.reason.rawValue),
            "code": .int(self.code),
        ]
        if let details = self.details { status["details"] = details }
        return status
    }

    // MARK: - Constructors shaped like k8s.io/apimachinery/pkg/api/errors

    static func details(_ type: ResourceType, name: String, kind: String? = nil) -> JSONValue {
        var d: JSONValue = ["name": .string(name), "kind": .string(kind ?? type.plural)]
        if !type.group.isEmpty { d["group"] = .string(type.group) }
        return d
    }

    static func notFound(_ type: ResourceType, _ name: String) -> KubeAPIError {
        KubeAPIError(
            code: 404, reason: .notFound, message: "\(type.groupResource) \"\(name)\" not found",
            details: self.details(type, name: name))
    }

    static func alreadyExists(_ type: ResourceType, _ name: String) -> KubeAPIError {
        KubeAPIError(
            code: 409, reason: .alreadyExists, message: "\(type.groupResource) \"\(name)\" already exists",
            details: self.details(type, name: name))
    }

    static func conflict(_ type: ResourceType, _ name: String, _ detail: String) -> KubeAPIError {
        KubeAPIError(
            code: 409, reason: .conflict,
            message: "Operation cannot be fulfilled on \(type.groupResource) \"\(name)\": \(detail)",
            details: self.details(type, name: name))
    }

    static func modified(_ type: ResourceType, _ name: String) -> KubeAPIError {
        self.conflict(
            type, name,
            "the object has been modified; please apply your changes to the latest version and try again")
    }

    static func invalid(_ type: ResourceType, _ name: String, _ causes: [Cause]) -> KubeAPIError {
        let summary = causes.map { "\($0.field): \($0.message)" }
        let joined = summary.count == 1 ? summary[0] : "[" + summary.joined(separator: ", ") + "]"
        var details = self.details(type, name: name, kind: type.kind)
        details["causes"] = .array(
            causes.map { ["reason": .string($0.reason), "message": .string($0.message), "field": .string($0.field)] })
        return KubeAPIError(
            code: 422, reason: .invalid, message: "\(type.kind) \"\(name)\" is invalid: \(joined)", details: details)
    }

    static func badRequest(_ message: String) -> KubeAPIError {
        KubeAPIError(code: 400, reason: .badRequest, message: message)
    }

    static func methodNotAllowed() -> KubeAPIError {
        KubeAPIError(
            code: 405, reason: .methodNotAllowed, message: "the server does not allow this method on the requested resource",
            details: .emptyObject)
    }

    static func expired(_ message: String) -> KubeAPIError {
        KubeAPIError(code: 410, reason: .expired, message: message)
    }

    static func unsupportedPatch(_ contentType: String) -> KubeAPIError {
        KubeAPIError(
            code: 415, reason: .unsupportedMediaType,
            message:
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
        )
    }

    static func pathNotFound() -> KubeAPIError {
        KubeAPIError(code: 404, reason: .notFound, message: "the server could not find the requested resource", details: .emptyObject)
    }

    static func unauthorized() -> KubeAPIError {
        KubeAPIError(code: 401, reason: .unauthorized, message: "Unauthorized")
    }

    static func forbidden(_ type: ResourceType, _ name: String, _ detail: String) -> KubeAPIError {
        let subject = name.isEmpty ? "\(type.groupResource)" : "\(type.groupResource) \"\(name)\""
        return KubeAPIError(
            code: 403, reason: .forbidden, message: "\(subject) is forbidden: \(detail)",
            details: self.details(type, name: name))
    }

    static func internalError(_ message: String) -> KubeAPIError {
        KubeAPIError(code: 500, reason: .internalError, message: "Internal error occurred: \(message)")
    }
}
