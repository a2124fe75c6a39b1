import Foundation

extension KubeClient {
    /// Everything a ``KubeClient`` needs: where the API server is, how to trust it, who to be, and how hard
    /// to push it.
    public struct Configuration: Sendable {
        /// The API server's base URL, e.g. `https://10.0.0.1:6443` or `http://127.0.0.1:8001`.
        public var server: String
        /// How to verify the server and present a client certificate.
        public var tls: TLS
        /// How to authenticate.
        public var credentials: Credentials
        /// The namespace used when a call names none. Defaults to `default`.
        public var namespace: String
        /// Sustained requests per second of the client-side rate limit; `0` disables it. Defaults to `5`,
        /// like client-go.
        public var qps: Double = 5
        /// Requests allowed in a burst above ``qps``. Defaults to `10`, like client-go.
        public var burst: Int = 10
        /// The timeout of one request attempt (not of watches). Defaults to `30` seconds.
        public var requestTimeout: Duration = .seconds(30)
        /// The timeout for establishing a connection. Defaults to `10` seconds.
        public var connectTimeout: Duration = .seconds(10)
        /// The server-side timeout of one watch request; each watch picks a random value between this and
        /// twice this, then resumes. Defaults to `300` seconds.
        public var watchTimeout: Duration = .seconds(300)
        /// Retries for transient failures.
        public var retry: RetryPolicy = .init()
        /// The `User-Agent` header. Defaults to `triton-kubeclient`.
        public var userAgent: String = "triton-kubeclient"
        /// A proxy URL (`http://`, `https://` or `socks5://`), or `nil` for none.
        public var proxy: String?

        /// Creates a configuration.
        public init(
            server: String,
            tls: TLS = TLS(),
            credentials: Credentials = .none,
            namespace: String = "default"
        ) {
            self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
            self.tls = tls
            self.credentials = credentials
            self.namespace = namespace
        }
    }

    /// TLS settings: the trust anchor, verification, and an optional client certificate.
    public struct TLS: Sendable, Hashable {
        /// The CA bundle to verify the server against; `nil` uses the system store.
        public var certificateAuthority: PEMSource?
        /// Skip verifying the server certificate. Defaults to `false`.
        /// > Warning: Only for test clusters.
        public var insecureSkipVerify: Bool
        /// The name to verify the server certificate against and send as SNI, instead of the URL's host.
        public var serverName: String?
        /// A client certificate (PEM); needs ``clientKey``.
        public var clientCertificate: PEMSource?
        /// The client certificate's private key (PEM).
        public var clientKey: PEMSource?

        /// Creates TLS settings.
        public init(
            certificateAuthority: PEMSource? = nil,
            insecureSkipVerify: Bool = false,
            serverName: String? = nil,
            clientCertificate: PEMSource? = nil,
            clientKey: PEMSource? = nil
        ) {
            self.certificateAuthority = certificateAuthority
            self.insecureSkipVerify = insecureSkipVerify
            self.serverName = serverName
            self.clientCertificate = clientCertificate
            self.clientKey = clientKey
        }
    }

    /// PEM material, from a file (re-read by libcurl for each new connection) or in memory.
    ///
    /// Printing or dumping it shows the path or the size, never the bytes (a key may be in there).
    public enum PEMSource: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
        CustomReflectable
    {
        case file(String)
        case data(Data)

        public var description: String {
            switch self {
            case .file(let path): "file \(path)"
            case .data(let data): "<\(data.count) bytes of PEM>"
            }
        }

        public var debugDescription: String { self.description }

        public var customMirror: Mirror { Mirror(self, children: ["redacted": self.description]) }
    }
}
