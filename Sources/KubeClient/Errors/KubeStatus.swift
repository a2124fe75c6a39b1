/// A Kubernetes `meta/v1` `Status` object, as the API server returns it for failed requests.
public struct KubeStatus: Codable, Sendable, Hashable {
    /// One reason a request was invalid, e.g. a field that failed validation.
    public struct Cause: Codable, Sendable, Hashable {
        /// A machine-readable reason such as `FieldValueRequired`.
        public var reason: String?
        /// A human-readable description.
        public var message: String?
        /// The field path the cause refers to, e.g. `spec.replicas`.
        public var field: String?

        /// Creates a value with the given fields.
        public init(reason: String? = nil, message: String? = nil, field: String? = nil) {
            self.reason = reason
            self.message = message
            self.field = field
        }
    }

    /// Extra data about the failure.
    public struct Details: Codable, Sendable, Hashable {
        /// The `name` field.
        public var name: String?
        /// The `group` field.
        public var group: String?
        /// The `kind` field.
        public var kind: String?
        /// The `uid` field.
        public var uid: String?
        /// The `causes` field.
        public var causes: [Cause]?
        /// The `retryAfterSeconds` field.
        public var retryAfterSeconds: Int?
    }

    /// `Success` or `Failure`.
    public var status: String?
    /// The `message` field.
    public var message: String?
    /// A machine-readable reason such as `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `Expired`.
    public var reason: String?
    /// The `details` field.
    public var details: Details?
    /// The HTTP status code the server meant.
    public var code: Int?
}
