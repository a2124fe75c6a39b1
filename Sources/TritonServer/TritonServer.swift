import EventStore
import Foundation
import Logging
import PostgresStore
import ServiceLifecycle
import TritonAPI
import TritonAudit
import TritonSeals
import TritonDomain
import TritonEngine
import TritonProjections
import UnixSignals

/// The engine in one process, as `triton serve` runs it: the flow runner (observer, timers, executor
/// for every active flow this process owns), the projector, the store's wake-ups, the REST and gRPC
/// APIs, and the cluster (simulated in process, or a real one behind a watch cache) — each a service of
/// one service group that stops gracefully on SIGINT / SIGTERM.
public enum TritonServer {
    /// Starts the database (when embedded) and migrates it, brings up the cluster, calls `onStarted`
    /// (the caller records where the server is), then runs every service until a signal stops them,
    /// and releases what it started — also when a step fails.
    /// `onRESTListening` is called with the REST API's base URL (`http[s]://host:port`) once it listens
    /// (with `httpPort` 0, the port it was given).
    public static func run(
        _ configuration: Configuration, output: Output = .standard, onStarted: @Sendable (Started) throws -> Void = { _ in },
        onRESTListening: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws {
        var logger = Logger(label: "triton.serve")
        logger.logLevel = configuration.logLevel
        if configuration.tokensFile == nil {
            guard Configuration.isLoopback(configuration.host) || configuration.insecureOpen else {
                throw ConfigurationError(
                    "--http-host \(configuration.host): refusing to serve an OPEN API (no --tokens-file) on a non-loopback address; "
                        + "give --tokens-file, or --insecure-open if you really mean it"
                )
            }
            output.problem(
                "WARNING: the API is OPEN (no --tokens-file): every caller is an admin and names itself (X-Triton-User); "
                    + "four-eyes is off. For the local demo only."
            )
        }

        let (url, embedded) = try configuration.database.start(output: output)
        defer { if let embedded { try? embedded.stop() } }
        let store = try PostgresEventStore(
            configuration: .init(url: url, schema: configuration.schema, applicationName: "triton serve \(configuration.schema)"), logger: logger)
        defer { store.shutdown() }
        let applied = try await store.migrate()
        if !applied.isEmpty { output.info("migrated: \(applied.joined(separator: ", "))") }

        let cluster = try await Self.startCluster(configuration.cluster, logger: logger, output: output)
        let handler = CommandHandler(store: store, cache: StateCache())
        let locks = PostgresAdvisoryLocks(store: store)
        let runner = FlowRunner(
            worker: FlowWorker(handler: handler, cluster: cluster.port, clock: cluster.clock),
            tickInterval: configuration.tickInterval, ownership: locks,
            onStartDriving: { flows in output.info("driving \(flows.map(\.rawValue).sorted().joined(separator: ", "))") },
            onProblem: { problem in output.problem("\(problem) (retrying every tick)") },
            // From the flows projection's checkpoint: a long log is not read again at every start.
            start: { try await FlowQueries(store: store).runnerStart() }
        )
        let authenticator = try configuration.tokensFile.map { try Authenticator(tokensFile: $0) } ?? .open
        let policy = try configuration.policy(open: authenticator.isOpen)
        let api = TritonAPI(store: store, handler: handler, cluster: cluster.port, authenticator: authenticator, policy: policy)

        var services = cluster.services
        services.append(try Self.restApplication(api, configuration, authenticator: authenticator, logger: logger, output: output, onListening: onRESTListening))
        services.append(Self.grpcService(api, configuration, output: output))
        services.append(StoreWakeUpsService(store: store, output: output))
        services.append(ProjectorService(projector: FlowProjector(store: store), output: output))
        services.append(FlowRunnerService(runner: runner, locks: locks, output: output))
        if let sealing = configuration.sealing {
            services.append(SealerService(sealer: LogSealer(store: store, key: sealing.key), sealing: sealing, output: output))
            output.info(
                "sealing the log with key \(sealing.key.keyID): every \(sealing.everyEvents) events or \(sealing.interval), and at each flow's end"
            )
        } else {
            output.problem("WARNING: the log is not sealed (no --seal-key-file or TRITON_SEAL_KEY): a cut or rewritten tail would go unnoticed")
        }

        output.info("event log: \(PostgresURL.redacted(url)) (schema \(configuration.schema))")
        try onStarted(Started(databaseURL: url, schema: configuration.schema, kubeServer: cluster.kubeServer))

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
        defer { output.info("triton serve: stopping…") }
        try await group.run()
    }
}

extension TritonServer.Configuration.Database {
    /// The connection string, and the embedded server when one was started (its caller stops it).
    public func start(output: TritonServer.Output = .standard) throws -> (url: String, embedded: EmbeddedPostgres?) {
        switch self {
        case .url(let url):
            return (url, nil)
        case .embedded(let directory, let port):
            let postgres = EmbeddedPostgres(configuration: .init(dataDirectory: directory, port: port))
            output.info("starting embedded PostgreSQL in \(directory) (port \(port))…")
            return (try postgres.start(), postgres)
        }
    }
}
