import ArgumentParser
import Foundation
import KubeClient
import PostgresStore
import TritonServer

/// `--output text|json` on every command.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json
}

struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: "Output format: text (for people) or json (for scripts).")
    var output: OutputFormat = .text

    var isJSON: Bool { self.output == .json }

    /// Prints a value as pretty JSON on standard output.
    func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Progress for people goes to standard error, so standard output stays parseable.
    func progress(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "PostgreSQL connection string (postgres://… or key=value). Defaults to $TRITON_DATABASE_URL.",
            valueName: "url"
        )
    )
    var databaseURL: String?

    @Option(name: .long, help: "Schema holding Triton's tables (default: triton).")
    var schema: String?

    /// The flag, else `$TRITON_DATABASE_URL`, else the database of the `triton serve` running here.
    func resolvedURL() throws -> String {
        if let url = self.databaseURL ?? ProcessInfo.processInfo.environment["TRITON_DATABASE_URL"], !url.isEmpty {
            return url
        }
        if let serve = ServeState.current() { return serve.databaseURL }
        throw ValidationError("--database-url: missing (set it or TRITON_DATABASE_URL, or start triton serve here)")
    }

    /// `--schema` when given, else the running server's, else `triton`.
    var resolvedSchema: String {
        if let schema = self.schema { return schema }
        if self.databaseURL == nil, ProcessInfo.processInfo.environment["TRITON_DATABASE_URL"] == nil,
            let serve = ServeState.current()
        {
            return serve.schema
        }
        return "triton"
    }

    func makeStore(notifyMode: PostgresEventStore.NotifyMode = .coalesced) throws -> PostgresEventStore {
        try PostgresEventStore(configuration: .init(url: try self.resolvedURL(), schema: self.resolvedSchema, notifyMode: notifyMode))
    }
}

/// Which cluster a command talks to: `--server`, else `--kubeconfig`/`--context`, else the cluster of
/// the `triton serve` running here (its simulated cluster, or the kubeconfig it was given), else
/// `$KUBECONFIG` / `~/.kube/config` / in-cluster.
struct ClusterOptions: ParsableArguments {
    @Option(help: "API server URL, e.g. triton sim's http://127.0.0.1:6443 (instead of a kubeconfig).")
    var server: String?

    @Option(help: "Path of a kubeconfig (default: $KUBECONFIG or ~/.kube/config).")
    var kubeconfig: String?

    @Option(help: "kubeconfig context (default: the current one).")
    var context: String?

    func configuration(namespace: String? = nil) throws -> KubeClient.Configuration {
        if self.server == nil, self.kubeconfig == nil, let serve = ServeState.current() {
            return try KubeClient.Configuration.commandLine(
                server: serve.kubeServer, kubeconfig: serve.kubeconfig, context: self.context ?? serve.context, namespace: namespace
            )
        }
        return try KubeClient.Configuration.commandLine(
            server: self.server, kubeconfig: self.kubeconfig, context: self.context, namespace: namespace
        )
    }
}

/// Where the event log is for a long-running command (`serve`, `demo`): `--database-url` (or
/// `$TRITON_DATABASE_URL`), else a private PostgreSQL started from the installed server binaries.
struct EmbeddableDatabaseOptions: ParsableArguments {
    @Option(help: ArgumentHelp("PostgreSQL connection string; without it an embedded PostgreSQL is started.", valueName: "url"))
    var databaseURL: String?

    @Option(help: "Schema holding Triton's tables.")
    var schema: String = "triton"

    @Option(help: "Data folder of the embedded PostgreSQL.")
    var dataDir: String = ".triton/postgres"

    @Option(help: "Port of the embedded PostgreSQL (loopback).")
    var pgPort: Int = 54320

    /// The flag (or `$TRITON_DATABASE_URL`), else the embedded PostgreSQL of `--data-dir`.
    var database: TritonServer.Configuration.Database {
        if let given = self.databaseURL ?? ProcessInfo.processInfo.environment["TRITON_DATABASE_URL"] { return .url(given) }
        return .embedded(dataDirectory: self.dataDir, port: self.pgPort)
    }

    /// The connection string, and the embedded server when one was started.
    func start() throws -> (url: String, embedded: EmbeddedPostgres?) {
        try self.database.start()
    }
}
