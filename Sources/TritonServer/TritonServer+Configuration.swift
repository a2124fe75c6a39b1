import Foundation
import KubeClient
import KubeSim
import Logging
import TritonEngine
import TritonAPI
import TritonSeals

extension TritonServer {
    /// Everything `triton serve` decides from its flags: where the log is, which cluster to drive,
    /// where the APIs listen, who may call them, how often the flows step.
    public struct Configuration: Sendable {
        public enum Database: Sendable {
            /// An existing PostgreSQL (`postgres://…` or `key=value`).
            case url(String)
            /// A private PostgreSQL started (and stopped) by the server from the installed binaries.
            case embedded(dataDirectory: String, port: Int)
        }

        public enum Cluster: Sendable {
            /// The simulated cluster, in this process; its API listens on loopback for kubectl and the CLI.
            case simulated(SimConfiguration, namespaces: [String])
            /// A Kubernetes API server, through the Kubernetes client (kubeconfig, in-cluster, or a URL).
            case kubernetes(KubeClient.Configuration)
        }

        public var database: Database
        /// Schema holding Triton's tables.
        public var schema: String
        public var cluster: Cluster
        /// Address both APIs listen on.
        public var host: String
        /// Port of the REST API (0 picks a free one).
        public var httpPort: Int
        /// Port of the gRPC API (0 picks a free one).
        public var grpcPort: Int
        /// Certificate chain and key: REST over TLS (HTTP/2 and HTTP/1.1 by ALPN) and gRPC over TLS.
        public var tls: TritonAPI.TLSFiles?
        /// Bearer tokens and their roles; `nil` leaves the API open (every caller an admin).
        public var tokensFile: String?
        /// Time between two steps of the active flows.
        public var tickInterval: Duration
        public var logLevel: Logger.Level
        /// Serve open (no tokens) on a non-loopback address anyway.
        public var insecureOpen = false
        /// Where four-eyes applies: `{"fourEyes": {"enabled": true, "namespaces": {"dev": false},
        /// "instances": {"prod/web": true}}}`; default: everywhere with tokens, nowhere when open.
        public var policyFile: String?
        /// Seal the log (signed checkpoints, see TritonAudit): with this key, after `everyEvents`
        /// events, `interval` after the first unsealed one, and at each flow's end. `nil`: no sealing.
        public var sealing: Sealing?

        public struct Sealing: Sendable {
            public var key: SealKey
            public var everyEvents: Int
            public var interval: Duration

            public init(key: SealKey, everyEvents: Int = 1000, interval: Duration = .seconds(10)) {
                self.key = key
                self.everyEvents = everyEvents
                self.interval = interval
            }
        }

        public init(
            database: Database, schema: String = "triton", cluster: Cluster, host: String = "127.0.0.1", httpPort: Int = 8088,
            grpcPort: Int = 8099, tls: TritonAPI.TLSFiles? = nil, tokensFile: String? = nil, tickInterval: Duration = .milliseconds(100),
            logLevel: Logger.Level = .info
        ) {
            self.database = database
            self.schema = schema
            self.cluster = cluster
            self.host = host
            self.httpPort = httpPort
            self.grpcPort = grpcPort
            self.tls = tls
            self.tokensFile = tokensFile
            self.tickInterval = tickInterval
            self.logLevel = logLevel
        }
    }

    /// Where the server's lines go: what it is doing for people (standard output by default) and the
    /// problems it retries (standard error by default).
    public struct Output: Sendable {
        public var info: @Sendable (String) -> Void
        public var problem: @Sendable (String) -> Void

        public init(info: @escaping @Sendable (String) -> Void, problem: @escaping @Sendable (String) -> Void) {
            self.info = info
            self.problem = problem
        }

        public static let standard = Output(
            info: { line in
                print(line)
                fflush(nil)
            },
            problem: { line in FileHandle.standardError.write(Data("triton serve: \(line)\n".utf8)) }
        )
    }

    /// What a started server tells its caller before it runs (e.g. for the CLI's state file).
    public struct Started: Sendable {
        public var databaseURL: String
        public var schema: String
        /// The API server of the in-process simulated cluster, when the server runs one.
        public var kubeServer: String?
    }
}

extension TritonServer.Configuration {
    /// Whether `host` only accepts connections from this machine.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The authorization policy: from `policyFile`, else the default of the mode.
    func policy(open: Bool) throws -> AuthorizationPolicy {
        guard let path = self.policyFile else { return open ? .open : .standard }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TritonServer.ConfigurationError("--policy-file: cannot read \(path)")
        }
        struct File: Decodable { var fourEyes: AuthorizationPolicy.FourEyes }
        do {
            return AuthorizationPolicy(fourEyes: try JSONDecoder().decode(File.self, from: data).fourEyes)
        } catch {
            throw TritonServer.ConfigurationError(
                "--policy-file: \(path) is not {\"fourEyes\": {\"enabled\": bool, \"namespaces\": {ns: bool}, \"instances\": {\"ns/name\": bool}}}"
            )
        }
    }
}

extension TritonServer {
    /// A configuration `serve` cannot start with; the message names the option.
    public struct ConfigurationError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
