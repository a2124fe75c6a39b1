import ArgumentParser
import EventStore
import Foundation
import KubeClient
import KubeSim
import Logging
import PostgresStore
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import NIOSSL
import ServiceLifecycle
import TritonAPI
import GRPCCore
import TritonDomain
import TritonEngine
import TritonJSON
import TritonKubeAdapter
import TritonProjections
import TritonSimAdapter
import UnixSignals

/// `triton serve`: the engine in one process — the flow runner (observer, timers, executor for every
/// active flow this process owns), the projector, and the store's wake-ups; by default on an embedded
/// PostgreSQL and the in-process simulated cluster. Stops gracefully on SIGINT / SIGTERM.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the engine: drive every active flow, keep the projections current.",
        discussion: """
            Without --database-url a private PostgreSQL is started in --data-dir; without --kubeconfig or \
            --server the simulated cluster runs in this process, its API on --sim-port (loopback). \
            Several serve processes may share one database: each flow is driven by one of them at a time, \
            and a dead process's flows are taken over within a tick.
            """
    )

    @OptionGroup var database: EmbeddableDatabaseOptions

    @Option(help: "Drive the cluster of this kubeconfig instead of the simulated one.")
    var kubeconfig: String?

    @Option(help: "kubeconfig context (default: the current one).")
    var context: String?

    @Option(help: "Drive the cluster whose API server is at this URL (e.g. a standalone triton sim).")
    var server: String?

    @Option(help: "Port of the REST API (loopback unless --http-host says otherwise; 0 picks a free one).")
    var httpPort: Int = 8088

    @Option(help: "Address the REST API listens on.")
    var httpHost: String = "127.0.0.1"

    @Option(help: ArgumentHelp("PEM certificate chain: serve the REST API over TLS (HTTP/2 and HTTP/1.1 by ALPN), and gRPC over TLS.", valueName: "path"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("PEM private key of --tls-cert.", valueName: "path"))
    var tlsKey: String?

    @Option(help: "Port of the gRPC API (HTTP/2; over TLS with --tls-cert, else plaintext; 0 picks a free one).")
    var grpcPort: Int = 8099

    @Option(help: ArgumentHelp(
        "Bearer tokens of the API: {\"tokens\": [{\"token\", \"user\", \"roles\": [viewer|deployer|approver|admin]}]}; without it the API is open.",
        valueName: "path"))
    var tokensFile: String?

    @Flag(help: "Drive the cluster this process runs in (its service account), instead of the simulated one.")
    var inCluster = false

    @Option(help: "Requests per second to the Kubernetes API (a real cluster), sustained.")
    var kubeQps: Double = 50

    @Option(help: "Requests to the Kubernetes API allowed in a burst above --kube-qps.")
    var kubeBurst: Int = 100

    @Option(help: "Loopback port of the in-process simulated cluster's API (0 picks a free one).")
    var simPort: Int = 6443

    @Option(help: "In-process simulated cluster: simulated seconds per real second.")
    var timeScale: Double = 1

    @Option(help: "In-process simulated cluster: seed for names and timing jitter.")
    var seed: UInt64?

    @Option(help: "Milliseconds between two steps of the active flows.")
    var tickMs: Int = 100

    @Option(help: "Where to tell the CLI how to reach this server.")
    var stateFile: String = ServeState.path

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard (0...65535).contains(self.simPort) else { throw ValidationError("--sim-port: must be 0...65535") }
        guard self.timeScale > 0 else { throw ValidationError("--time-scale: must be greater than 0") }
        guard self.kubeQps > 0, self.kubeBurst > 0 else { throw ValidationError("--kube-qps, --kube-burst: must be greater than 0") }
        guard self.tickMs > 0 else { throw ValidationError("--tick-ms: must be greater than 0") }
        guard Logger.Level(rawValue: self.logLevel) != nil else {
            throw ValidationError("--log-level: '\(self.logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        if [self.server != nil, self.kubeconfig != nil, self.inCluster].filter({ $0 }).count > 1 {
            throw ValidationError("--server, --kubeconfig, --in-cluster: give one of them at most")
        }
        guard (0...65535).contains(self.httpPort) else { throw ValidationError("--http-port: must be 0...65535") }
        if (self.tlsCert == nil) != (self.tlsKey == nil) { throw ValidationError("--tls-cert, --tls-key: give both, or neither") }
        guard (0...65535).contains(self.grpcPort) else { throw ValidationError("--grpc-port: must be 0...65535") }
    }

    func run() async throws {
        var logger = Logger(label: "triton.serve")
        logger.logLevel = Logger.Level(rawValue: self.logLevel) ?? .info

        let (url, embedded) = try self.database.start()
        let store = try PostgresEventStore(
            configuration: .init(url: url, schema: self.database.schema, applicationName: "triton serve \(self.database.schema)"), logger: logger)
        let applied = try await store.migrate()
        if !applied.isEmpty { print("migrated: \(applied.joined(separator: ", "))") }

        // The cluster: a real one through the Kubernetes client, or the simulated one in process.
        let port: any ClusterPort
        let clock: EngineClock
        var services: [any ServiceLifecycle.Service] = []
        var kubeServer: String?
        var client: KubeClient?
        var cache: KubeObjectCache?
        if self.kubeconfig != nil || self.server != nil || self.inCluster {
            var configuration =
                self.inCluster
                ? try KubeClient.Configuration.inCluster()
                : try KubeClient.Configuration.commandLine(server: self.server, kubeconfig: self.kubeconfig, context: self.context)
            configuration.qps = self.kubeQps
            configuration.burst = self.kubeBurst
            let kube = KubeClient(configuration: configuration, logger: logger)
            client = kube
            let watches = KubeObjectCache(client: kube)
            cache = watches
            port = KubeClusterPort(client: kube, cache: watches)
            clock = { Date() }
            print("cluster: \(configuration.server)")
        } else {
            var simLogger = Logger(label: "triton.sim")
            simLogger.logLevel = .critical  // its HTTP server logs an error for every connection cut at shutdown
            let cluster = SimulatedCluster(
                configuration: SimConfiguration(port: self.simPort, timeScale: self.timeScale, seed: self.seed),
                logger: simLogger
            )
            for namespace in ["default", "prod"] where cluster.get(.namespaces, name: namespace) == nil {
                try cluster.create(.namespaces, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
            }
            port = SimClusterPort(cluster: cluster)
            clock = { cluster.clock.date(at: cluster.now) }
            let listening = try await Self.startedListening(cluster, services: &services)
            kubeServer = "http://127.0.0.1:\(listening)"
            print("simulated cluster: kubectl --server \(kubeServer!) get clone,pods -n prod -w")
        }

        let handler = CommandHandler(store: store, cache: StateCache())
        let locks = PostgresAdvisoryLocks(store: store)
        let runner = FlowRunner(
            worker: FlowWorker(handler: handler, cluster: port, clock: clock),
            tickInterval: .milliseconds(self.tickMs), ownership: locks,
            onStartDriving: { flows in
                print("driving \(flows.map(\.rawValue).sorted().joined(separator: ", "))")
                fflush(nil)
            },
            onProblem: { problem in
                FileHandle.standardError.write(Data("triton serve: \(problem) (retrying every tick)\n".utf8))
            },
            // From the flows projection's checkpoint: a long log is not read again at every start.
            start: { try await FlowQueries(store: store).runnerStart() }
        )
        let projector = FlowProjector(store: store)
        let authenticator = try self.tokensFile.map { try Authenticator(tokensFile: $0) } ?? .open
        let api = TritonAPI(store: store, handler: handler, cluster: port, authenticator: authenticator)
        let httpHost = self.httpHost
        var server = HTTPServerBuilder.http1()
        let scheme = self.tlsCert == nil ? "http" : "https"
        if let certificate = self.tlsCert, let key = self.tlsKey {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            let tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            )
            server = try .http2Upgrade(tlsConfiguration: tls)
        }
        let application = Application(
            router: api.router(),
            server: server,
            configuration: .init(address: .hostname(httpHost, port: self.httpPort), serverName: "triton"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let protocols = scheme == "https" ? " (TLS; HTTP/2 and HTTP/1.1)" : ""
                print("REST API: \(scheme)://\(httpHost):\(port)/api/v1\(protocols)\(authenticator.isOpen ? " (open: no --tokens-file, every caller is an admin)" : "")")
                fflush(nil)
            },
            logger: logger
        )
        services.append(application)
        let grpcTLS = self.tlsCert.flatMap { cert in self.tlsKey.map { TritonAPI.TLSFiles(certificateChain: cert, privateKey: $0) } }
        let grpc = api.grpcServer(host: httpHost, port: self.grpcPort, tls: grpcTLS)
        services.append(TaskService("gRPC API", cancelOnShutdown: false) {
            try await withGracefulShutdownHandler {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await grpc.serve() }
                    if let port = try await TritonAPI.listeningPort(grpc) {
                        print("gRPC API: \(httpHost):\(port)\(grpcTLS == nil ? "" : " (TLS)") (deployflow.DeployFlow, application.Application, pod.Pod)")
                        fflush(nil)
                    }
                    try await group.waitForAll()
                }
            } onGracefulShutdown: {
                grpc.beginGracefulShutdown()
            }
        })
        services.append(TaskService("store wake-ups") { await store.run() })
        // A failing projector or runner (the database went away, an event it cannot project) must not
        // stop the server and every release with it: each says why and tries again, backing off.
        services.append(TaskService("projector", retrying: true) { try await projector.run() })
        services.append(TaskService("flow runner", retrying: true) { try await runner.run() })

        let pid = getpid()
        if !self.inCluster {  // in a cluster there is no local CLI to tell (and the filesystem is read-only)
            try ServeState(
                pid: pid, processStart: ServeState.processStart(pid), databaseURL: url, schema: self.database.schema, kubeServer: kubeServer,
                kubeconfig: self.kubeconfig.map { URL(fileURLWithPath: $0).standardizedFileURL.path }, context: self.context
            ).write(to: self.stateFile)
        }
        print("event log: \(PostgresURL.redacted(url)) (schema \(self.database.schema))")
        print("triton serve running (pid \(pid)); stop with Ctrl-C. Try: triton flow list")
        fflush(nil)

        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                // Every service stops on the graceful shutdown; none cancels the others by returning.
                services: services.map {
                    ServiceGroupConfiguration.ServiceConfiguration(
                        service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup
                    )
                },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        var failure: (any Error)?
        do {
            try await group.run()
        } catch {
            failure = error
        }
        print("triton serve: stopping…")
        fflush(nil)
        await locks.releaseAll()
        cache?.stop()
        client?.shutdown()
        store.shutdown()
        ServeState.remove(at: self.stateFile, ifOwnedBy: pid)
        if let embedded { try? embedded.stop() }
        print("triton serve: stopped")
        if let failure { throw failure }
    }

    /// Starts the simulated cluster's listener ahead of the service group, so its port is known (and
    /// printed) before anything else runs.
    private static func startedListening(
        _ cluster: SimulatedCluster, services: inout [any ServiceLifecycle.Service]
    ) async throws -> Int {
        let task = Task { try await cluster.run() }
        services.append(TaskService("simulated cluster") { try await withTaskCancellationHandler {
            _ = try await task.value
        } onCancel: {
            task.cancel()
        } })
        return try await cluster.waitUntilListening()
    }
}

/// A long-running task as a service: cancelled on graceful shutdown.
struct TaskService: ServiceLifecycle.Service {
    let name: String
    /// Cancel the body on graceful shutdown (else the body handles the shutdown itself).
    let cancelOnShutdown: Bool
    /// When the body fails, say why on standard error and run it again after a pause (1 s, doubling up
    /// to 30 s; back to 1 s after a run of a minute or more) instead of stopping the server.
    let retrying: Bool
    let body: @Sendable () async throws -> Void

    init(_ name: String, cancelOnShutdown: Bool = true, retrying: Bool = false, _ body: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.cancelOnShutdown = cancelOnShutdown
        self.retrying = retrying
        self.body = body
    }

    func run() async throws {
        guard self.cancelOnShutdown else { return try await self.body() }
        do {
            try await cancelWhenGracefulShutdown {
                try await self.retrying ? self.runRetrying() : self.body()
            }
        } catch is CancellationError {
            // Stopped by the shutdown, as asked.
        }
    }

    private func runRetrying() async throws {
        var pause: Duration = .seconds(1)
        while true {
            let started = ContinuousClock.now
            do {
                try await self.body()
                return
            } catch let error where !(error is CancellationError) && !Task.isCancelled {
                if ContinuousClock.now - started >= .seconds(60) { pause = .seconds(1) }
                FileHandle.standardError.write(Data("triton serve: \(self.name) failed: \(error); trying again in \(pause)\n".utf8))
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(30))
            }
        }
    }
}
