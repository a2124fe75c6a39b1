import ArgumentParser
import Foundation
import KubeClient
import KubeSim
import Logging
import TritonAPI
import TritonSeals
import TritonServer

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

    @Flag(help: "Serve an open API (no --tokens-file) on a non-loopback --http-host anyway.")
    var insecureOpen = false

    @Option(help: ArgumentHelp(
        "Where four-eyes applies: {\"fourEyes\": {\"enabled\": true, \"namespaces\": {\"dev\": false}, \"instances\": {\"prod/web\": true}}} (default: everywhere with tokens, off when open).",
        valueName: "path"))
    var policyFile: String?

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

    @Option(help: "Where to tell the CLI's operator commands where the log and the cluster are.")
    var stateFile: String = ServeState.path

    @Option(help: ArgumentHelp(
        "Ed25519 seed (64 hex digits or base64) that signs the log's seals; else $TRITON_SEAL_KEY; with the embedded PostgreSQL and neither, one is made beside --data-dir (seal.key). Never printed.",
        valueName: "path"))
    var sealKeyFile: String?

    @Option(help: "Seal after this many events.")
    var sealEvery: Int = 1000

    @Option(help: "Seal this many seconds after the first unsealed event at the latest.")
    var sealIntervalSeconds: Double = 10

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
        guard self.sealEvery > 0 else { throw ValidationError("--seal-every: must be greater than 0") }
        guard self.sealIntervalSeconds > 0 else { throw ValidationError("--seal-interval-seconds: must be greater than 0") }
    }

    /// The seal key: the file, else `$TRITON_SEAL_KEY`, else (embedded database only) the key beside the
    /// data folder, made on first use. `nil`: no sealing.
    func sealKey() throws -> SealKey? {
        if let path = self.sealKeyFile {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("--seal-key-file \(path): cannot be read")
            }
            do { return try SealKey(seedText: text) } catch { throw ValidationError("--seal-key-file \(path): \(error)") }
        }
        if let text = ProcessInfo.processInfo.environment["TRITON_SEAL_KEY"] {
            do { return try SealKey(seedText: text) } catch { throw ValidationError("TRITON_SEAL_KEY: \(error)") }
        }
        guard case .embedded(let directory, _) = self.database.database else { return nil }
        let path = URL(fileURLWithPath: directory).deletingLastPathComponent().appendingPathComponent("seal.key").path
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            do { return try SealKey(seedText: text) } catch { throw ValidationError("\(path): \(error)") }
        }
        let key = SealKey()
        try SealKeyFile.write(key, to: path)
        print("made a seal key for the embedded log: \(path) (key id \(key.keyID); keep it private)")
        return key
    }

    func run() async throws {
        let cluster: TritonServer.Configuration.Cluster
        if self.kubeconfig != nil || self.server != nil || self.inCluster {
            var kube =
                self.inCluster
                ? try KubeClient.Configuration.inCluster()
                : try KubeClient.Configuration.commandLine(server: self.server, kubeconfig: self.kubeconfig, context: self.context)
            kube.qps = self.kubeQps
            kube.burst = self.kubeBurst
            cluster = .kubernetes(kube)
        } else {
            cluster = .simulated(SimConfiguration(port: self.simPort, timeScale: self.timeScale, seed: self.seed), namespaces: ["default", "prod"])
        }
        var configuration = TritonServer.Configuration(
            database: self.database.database, schema: self.database.schema, cluster: cluster, host: self.httpHost, httpPort: self.httpPort,
            grpcPort: self.grpcPort, tls: self.tlsCert.flatMap { cert in self.tlsKey.map { TritonAPI.TLSFiles(certificateChain: cert, privateKey: $0) } },
            tokensFile: self.tokensFile, tickInterval: .milliseconds(self.tickMs), logLevel: Logger.Level(rawValue: self.logLevel) ?? .info
        )
        configuration.insecureOpen = self.insecureOpen
        configuration.policyFile = self.policyFile
        configuration.sealing = try self.sealKey().map {
            .init(key: $0, everyEvents: self.sealEvery, interval: .milliseconds(Int64(self.sealIntervalSeconds * 1000)))
        }

        let pid = getpid()
        let stateFile = self.stateFile
        let recordsState = !self.inCluster  // in a cluster there is no local CLI to tell (and the filesystem is read-only)
        let kubeconfig = self.kubeconfig.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        let context = self.context
        defer {
            if recordsState { ServeState.remove(at: stateFile, ifOwnedBy: pid) }
            print("triton serve: stopped")
        }
        let certificate = self.tlsCert.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        try await TritonServer.run(configuration) { started in
            if recordsState {
                try ServeState(
                    pid: pid, processStart: ServeState.processStart(pid), databaseURL: started.databaseURL, schema: started.schema,
                    kubeServer: started.kubeServer, kubeconfig: kubeconfig, context: context
                ).write(to: stateFile)
            }
        } onRESTListening: { url in
            // The CLI on this machine reaches this server through the context `local` (its CA: our
            // certificate, when it is self-signed).
            var recorded = ""
            if recordsState {
                do {
                    try ContextsFile.recordLocal(server: url, certificateAuthority: certificate)
                    recorded = " The CLI's context \(ContextsFile.localName) points here (\(ContextsFile.path))."
                } catch {
                    FileHandle.standardError.write(Data("triton serve: could not record the CLI context: \(error)\n".utf8))
                }
            }
            print("triton serve running (pid \(pid)); stop with Ctrl-C.\(recorded) Try: triton flow list")
            fflush(nil)
        }
    }
}
