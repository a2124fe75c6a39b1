/// An error from the Kubernetes client: an API `Status`, a transport failure, or a configuration problem.
///
/// `description` is deliberately generic so that errors shown to end users leak nothing; use
/// `String(reflecting: error)` for the details. No variant ever carries a token, password, key or
/// certificate: configuration errors name the field and file, never the value.
public struct KubeError: Error, Sendable {
    /// What went wrong. Extensible: switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case badRequest, unauthorized, forbidden, notFound, methodNotAllowed, conflict, alreadyExists, gone
            case invalid, unsupportedMediaType, tooManyRequests, internalError, serviceUnavailable, serverTimeout
            case unexpectedResponse, decodingFailed
            case connectionFailed, requestTimedOut, tlsFailure, transport
            case noCurrentContext, contextNotFound, clusterNotFound, userNotFound, invalidConfiguration
            case fileUnreadable, invalidBase64, credentialExpired, execPluginFailed, unsupportedAuthentication
            case notInCluster
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        public var description: String { self.base.rawValue }

        // MARK: API errors (a `Status` from the server)
        /// HTTP 400 `BadRequest`.
        public static let badRequest = Code(.badRequest)
        /// HTTP 401: the credentials were missing, wrong or expired.
        public static let unauthorized = Code(.unauthorized)
        /// HTTP 403: authenticated, but RBAC denies the request.
        public static let forbidden = Code(.forbidden)
        /// HTTP 404 `NotFound`.
        public static let notFound = Code(.notFound)
        /// HTTP 405.
        public static let methodNotAllowed = Code(.methodNotAllowed)
        /// HTTP 409 `Conflict`: the `resourceVersion` (or a precondition) did not match.
        public static let conflict = Code(.conflict)
        /// HTTP 409 `AlreadyExists` on create.
        public static let alreadyExists = Code(.alreadyExists)
        /// HTTP 410 `Gone` / `Expired`: the requested resourceVersion is too old.
        public static let gone = Code(.gone)
        /// HTTP 422 `Invalid`; see ``KubeError/causes``.
        public static let invalid = Code(.invalid)
        /// HTTP 415, e.g. a strategic-merge patch on a custom resource.
        public static let unsupportedMediaType = Code(.unsupportedMediaType)
        /// HTTP 429; see ``KubeError/retryAfter``.
        public static let tooManyRequests = Code(.tooManyRequests)
        /// HTTP 500 and other 5xx without a more specific code.
        public static let internalError = Code(.internalError)
        /// HTTP 503.
        public static let serviceUnavailable = Code(.serviceUnavailable)
        /// HTTP 504 or reason `Timeout`.
        public static let serverTimeout = Code(.serverTimeout)
        /// A response that was neither the expected object nor a `Status`.
        public static let unexpectedResponse = Code(.unexpectedResponse)
        /// A response body that did not decode.
        public static let decodingFailed = Code(.decodingFailed)

        // MARK: Transport errors
        /// The server could not be resolved or connected to (the request was never sent).
        public static let connectionFailed = Code(.connectionFailed)
        /// The per-request timeout elapsed.
        public static let requestTimedOut = Code(.requestTimedOut)
        /// TLS failed: the server certificate did not verify, or the client certificate was refused.
        public static let tlsFailure = Code(.tlsFailure)
        /// Another transport failure (connection reset, partial response, ...).
        public static let transport = Code(.transport)

        // MARK: Configuration errors
        /// The kubeconfig names no current context and none was given.
        public static let noCurrentContext = Code(.noCurrentContext)
        /// The named context does not exist.
        public static let contextNotFound = Code(.contextNotFound)
        /// The context names a cluster that does not exist.
        public static let clusterNotFound = Code(.clusterNotFound)
        /// The context names a user that does not exist.
        public static let userNotFound = Code(.userNotFound)
        /// The kubeconfig could not be parsed or is missing a required field.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// A file (kubeconfig, certificate, key, token) could not be read.
        public static let fileUnreadable = Code(.fileUnreadable)
        /// A `*-data` field is not valid base64.
        public static let invalidBase64 = Code(.invalidBase64)
        /// A credential (e.g. from an exec plugin) has expired.
        public static let credentialExpired = Code(.credentialExpired)
        /// An exec credential plugin failed or returned something unusable.
        public static let execPluginFailed = Code(.execPluginFailed)
        /// An authentication method this client does not support (e.g. the legacy `auth-provider`).
        public static let unsupportedAuthentication = Code(.unsupportedAuthentication)
        /// In-cluster configuration was requested outside a pod.
        public static let notInCluster = Code(.notInCluster)
    }

    /// What went wrong.
    public var code: Code
    /// A human-readable explanation; names the thing that is wrong, never a secret.
    public var message: String
    /// The HTTP status code, for API errors.
    public var httpStatus: Int?
    /// The decoded `Status`, when the server sent one.
    public var status: KubeStatus?
    /// How long the server asked the client to wait (`Retry-After` or `details.retryAfterSeconds`).
    public var retryAfter: Duration?
    /// The request that failed, as `METHOD /path` (no query string, no headers).
    public var request: String?
    /// The underlying error, e.g. a file-system error.
    public var underlying: (any Error & Sendable)?

    /// Creates an error.
    public init(
        _ code: Code,
        _ message: String,
        httpStatus: Int? = nil,
        status: KubeStatus? = nil,
        retryAfter: Duration? = nil,
        request: String? = nil,
        underlying: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.status = status
        self.retryAfter = retryAfter
        self.request = request
        self.underlying = underlying
    }

    /// The validation causes of an `Invalid` (422) error.
    public var causes: [KubeStatus.Cause] { self.status?.details?.causes ?? [] }

    /// The Kubernetes `reason` of an API error (e.g. `NotFound`, `Expired`).
    public var reason: String? { self.status?.reason }
}

extension KubeError: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "KubeError.\(self.code) – Generic description to prevent accidental leakage of details. "
            + "For debugging details, use `String(reflecting: error)`."
    }

    public var debugDescription: String {
        var text = "KubeError.\(self.code): \(self.message)"
        if let request = self.request { text += " [\(request)]" }
        if let httpStatus = self.httpStatus { text += " (HTTP \(httpStatus))" }
        for cause in self.causes {
            text += "\n  - \(cause.field ?? "?"): \(cause.message ?? cause.reason ?? "")"
        }
        if let retryAfter = self.retryAfter { text += " retry after \(retryAfter)" }
        if let underlying = self.underlying { text += " underlying: \(String(reflecting: underlying))" }
        return text
    }
}
