import ArgumentParser
import EventStore
import Foundation
import PostgresStore
import TritonDemo
import TritonDomain
import TritonEngine

/// `triton demo`: two real releases through the decider and the PostgreSQL event log — a create of
/// `prod/checkout` (10 pods, auto) and the article's canary update to v2 (canary 1, batches of 3,
/// manual, with an approver's `next`) — against an in-memory cluster stand-in, then a replay from the
/// log and a hash-chain verification.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a demo release on the domain and the event log (embedded PostgreSQL by default)."
    )

    @Option(help: ArgumentHelp("PostgreSQL connection string; without it an embedded PostgreSQL is started.", valueName: "url"))
    var databaseURL: String?

    @Option(help: "Schema holding Triton's tables.")
    var schema: String = "triton"

    @Option(help: "Data folder of the embedded PostgreSQL.")
    var dataDir: String = ".triton/postgres"

    @Option(help: "Port of the embedded PostgreSQL (loopback).")
    var pgPort: Int = 54320

    @Option(help: "Real milliseconds per simulated second.")
    var tickMs: Int = 40

    @Flag(help: "Stop the embedded PostgreSQL when the demo ends.")
    var stopDatabase = false

    func run() async throws {
        var embedded: EmbeddedPostgres?
        let url: String
        if let given = self.databaseURL ?? ProcessInfo.processInfo.environment["TRITON_DATABASE_URL"] {
            url = given
        } else {
            let postgres = EmbeddedPostgres(configuration: .init(dataDirectory: self.dataDir, port: self.pgPort))
            print("starting embedded PostgreSQL in \(self.dataDir) (port \(self.pgPort))…")
            url = try postgres.start()
            embedded = postgres
        }
        print("event log: \(PostgresURL.redacted(url))")
        let store = try PostgresEventStore(configuration: .init(url: url, schema: self.schema))
        defer {
            store.shutdown()
            if self.stopDatabase { try? embedded?.stop() }
        }
        let applied = try await store.migrate()
        if !applied.isEmpty { print("migrated: \(applied.joined(separator: ", "))") }

        var driver = ReleaseDriver(handler: CommandHandler(store: store), now: Date())
        let suffix = String(UInt32.random(in: 0..<UInt32.max), radix: 36)
        var finished: [(FlowID, DeployFlow.State)] = []
        let releases: [(String, (InMemoryCluster) -> DeployFlow.CreateFlow)] = [
            ("create prod/checkout: 10 pods of shop/checkout:v1, batches of 5, auto", { _ in DemoReleases.create("checkout-create-\(suffix)") }),
            (
                "update prod/checkout to v2: canary 1, batches of 3, manual (alice approves each step)",
                { DemoReleases.canaryUpdate("checkout-update-\(suffix)", existingPods: $0.live.map(\.name)) }
            ),
        ]
        for (title, make) in releases {
            print("\n== \(title) ==")
            let create = make(driver.cluster)
            var lastLine = ""
            let tick = self.tickMs
            let state = try await driver.release(create, onNext: { reason in print("  alice: next (\(reason))") }) { second, state, cluster in
                let line = Self.progressLine(state, cluster)
                if line != lastLine {
                    if lastLine.isEmpty {
                        print("flow \(create.flowID): plan \(state.plan.batches.map { $0.canary ? "\($0.size) (canary)" : "\($0.size)" }.joined(separator: ", "))")
                    }
                    print(String(format: "  t+%3ds  ", second) + line)
                    fflush(nil)  // progress shows as it happens, even through a pipe
                    lastLine = line
                }
                if tick > 0 { try await Task.sleep(for: .milliseconds(tick)) }
            }
            finished.append((create.flowID, state))
        }
        let updatedID = finished[1].0

        print("\n== replay and audit ==")
        for (id, live) in finished {
            let (replayed, version) = try await driver.handler.load(DeployFlow.self, stream: Streams.flow(id))
            let same = replayed == live
            print("\(Streams.flow(id)): \(version) events, phase \(replayed.phase.rawValue); replay from the log \(same ? "matches" : "DIFFERS FROM") the live state")
            if !same { throw ExitCode(1) }
        }
        let report = try await store.verify()
        if let broken = report.firstBreak {
            print("audit verify: BROKEN \(broken)")
            throw ExitCode(1)
        }
        print("audit verify: \(report.events) events in \(report.streams) streams, every hash chain intact")
        print("\nwho did what (intents in the update's log):")
        for event in try await store.readStream(Streams.flow(updatedID), afterVersion: 0)
        where ["FlowCreated", "NextRequested", "Paused", "Resumed", "Canceled", "ContinueRequested"].contains(event.type) {
            let metadata = try EventMetadata.decode(json: event.metadata)
            print("  v\(event.version) \(event.type) by \(metadata.actor) (\(metadata.source.rawValue)): \(metadata.reason ?? "-")")
        }
        if embedded != nil && !self.stopDatabase {
            print("\nthe embedded PostgreSQL keeps running: triton audit verify --database-url '\(url)'")
        }
    }

    private static func progressLine(_ state: DeployFlow.State, _ cluster: InMemoryCluster) -> String {
        var line = "flow \(state.phase.rawValue)\(state.paused ? " (paused)" : "")"
        if let batch = state.current {
            line += "  batch \(batch.number)/\(state.plan.count)\(batch.canary ? " canary" : "") \(batch.phase.rawValue)"
        }
        line += "  pods P/R/Ready/F \(cluster.counts)  finished \(state.finishedReplicas)/\(state.plan.total)"
        return line
    }
}
