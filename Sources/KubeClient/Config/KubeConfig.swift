/// A kubeconfig: clusters, users and contexts, possibly merged from several files as kubectl does.
///
/// Load one with ``load(environment:homeDirectory:)`` (honours `KUBECONFIG`), ``load(paths:)`` or
/// ``init(text:path:)``, then turn a context into a client configuration with
/// ``KubeClient/Configuration/init(kubeConfig:context:)``. Relative file paths are resolved against the
/// directory of the file they were read from. `*-data` fields stay base64 text until resolution, so a
/// bad value is reported for the context actually used.
public struct KubeConfig: Sendable, Hashable {
    /// A `clusters[].cluster` entry.
    public struct Cluster: Sendable, Hashable {
        /// The API server URL, e.g. `https://10.0.0.1:6443`.
        public var server: String?
        /// An absolute path to a PEM CA bundle.
        public var certificateAuthority: String?
        /// A base64-encoded PEM CA bundle.
        public var certificateAuthorityData: String?
        /// Skip server certificate verification. Defaults to `false`.
        public var insecureSkipTLSVerify: Bool = false
        /// The name to verify the server certificate against (and send as SNI) instead of the URL's host.
        public var tlsServerName: String?
        /// An HTTP(S) or SOCKS proxy URL.
        public var proxyURL: String?

        /// An empty entry.
        public init() {}
    }

    /// A `users[].user` entry (called `AuthInfo` in client-go).
    public struct User: Sendable, Hashable {
        /// A static bearer token.
        public var token: String?
        /// An absolute path to a file holding a bearer token; re-read when it changes.
        public var tokenFile: String?
        /// An absolute path to a PEM client certificate.
        public var clientCertificate: String?
        /// A base64-encoded PEM client certificate.
        public var clientCertificateData: String?
        /// An absolute path to a PEM private key.
        public var clientKey: String?
        /// A base64-encoded PEM private key.
        public var clientKeyData: String?
        /// The basic-auth user name.
        public var username: String?
        /// The basic-auth password.
        public var password: String?
        /// An exec credential plugin.
        public var exec: ExecConfig?
        /// The name of a legacy `auth-provider` (unsupported; reported when used).
        public var authProvider: String?

        /// An empty entry.
        public init() {}
    }

    /// A `contexts[].context` entry.
    public struct Context: Sendable, Hashable {
        /// The cluster's name.
        public var cluster: String
        /// The user's name; empty for anonymous access.
        public var user: String
        /// The default namespace; `nil` means `default`.
        public var namespace: String?

        /// Creates a value with the given fields.
        public init(cluster: String, user: String, namespace: String? = nil) {
            self.cluster = cluster
            self.user = user
            self.namespace = namespace
        }
    }

    /// Clusters by name.
    public var clusters: [String: Cluster] = [:]
    /// Users by name.
    public var users: [String: User] = [:]
    /// Contexts by name.
    public var contexts: [String: Context] = [:]
    /// The `current-context`.
    public var currentContext: String?
    /// The files this configuration was read from, in merge order.
    public var sources: [String] = []

    /// An empty configuration.
    public init() {}

    /// Merges `other` into a copy of `self` the way kubectl merges `KUBECONFIG` files: for every cluster,
    /// user and context name, and for `current-context`, the first file to define it wins.
    public func merging(_ other: KubeConfig) -> KubeConfig {
        var result = self
        result.clusters.merge(other.clusters) { first, _ in first }
        result.users.merge(other.users) { first, _ in first }
        result.contexts.merge(other.contexts) { first, _ in first }
        if result.currentContext == nil || result.currentContext == "" {
            result.currentContext = other.currentContext
        }
        result.sources += other.sources
        return result
    }
}
