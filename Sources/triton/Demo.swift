import ArgumentParser
import EventStore
import Foundation
import PostgresStore
import KubeSim
import Logging
import TritonAudit
import TritonDomain
import TritonEngine
import TritonJSON
import TritonSeals
import TritonSimAdapter

/// `triton demo`: two real releases by the engine (observer, timers, executor around the decider,
/// every step in the PostgreSQL event log) against the in-process simulated cluster — a create of
/// `prod/checkout` (10 pods, auto) and the article's canary update to v2 (canary 1, batches of 3,
/// manual, with an approver's `next`) — then a replay from the log and a hash-chain verification.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a demo release on the domain and the event log (embedded PostgreSQL by default)."
    )

    @OptionGroup var database: EmbeddableDatabaseOptions

    @Option(help: "Loopback port of the simulated cluster's API (0 picks a free one).")
    var simPort: Int = 0

    @Option(help: "Real milliseconds per simulated second.")
    var tickMs: Int = 100

    @Flag(help: "Stop the embedded PostgreSQL when the demo ends.")
    var stopDatabase = false

    func run() async throws {
        let (url, embedded) = try self.database.start()
        print("event log: \(PostgresURL.redacted(url))")
        let store = try PostgresEventStore(configuration: .init(url: url, schema: self.database.schema))
        defer {
            store.shutdown()
            if self.stopDatabase { try? embedded?.stop() }
        }
        let applied = try await store.migrate()
        if !applied.isEmpty { print("migrated: \(applied.joined(separator: ", "))") }

        // The simulated cluster, in process, on a clock the demo advances one second per tick; its API
        // listens on loopback so kubectl can watch the release.
        var simConfiguration = SimConfiguration(port: self.simPort, seed: 7)
        simConfiguration.clock = .manual(ManualClock())
        var simLogger = Logger(label: "triton.sim")
        simLogger.logLevel = .warning
        let cluster = SimulatedCluster(configuration: simConfiguration, logger: simLogger)
        try cluster.create(.namespaces, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "prod"]])
        let simTask = Task { try await cluster.run() }
        defer { simTask.cancel() }
        let port = try await cluster.waitUntilListening()
        print("simulated cluster: kubectl --server http://127.0.0.1:\(port) get clone,pods -n prod -w")

        let handler = CommandHandler(store: store)
        let clusterPort = SimClusterPort(cluster: cluster)
        let worker = FlowWorker(handler: handler, cluster: clusterPort, clock: { cluster.clock.date(at: cluster.now) })
        // The people of the demo go through the intent layer like any caller of the API: dana releases,
        // alice (another person, an approver) passes each stop, as four-eyes asks.
        let intents = Intents(handler: handler, cluster: clusterPort, policy: .standard)
        let dana = Principal(name: "dana", roles: [.deployer])
        let alice = Principal(name: "alice", roles: [.deployer, .approver])
        let now = { cluster.clock.date(at: cluster.now) }
        let suffix = String(UInt32.random(in: 0..<UInt32.max), radix: 36)
        var finished: [(FlowID, DeployFlow.State)] = []
        for (title, release) in DemoReleases.releases(suffix) {
            print("\n== \(title) ==")
            let image = release.action.image ?? "?"
            var state = try await intents.release(release, Intents.Caller(dana, reason: "release \(image)", source: .cli, time: now())).state
            guard let flowID = state.spec?.flowID else { throw ValidationError("demo: the release made no flow") }
            print("flow \(flowID) by dana: plan \(state.plan.batches.map { $0.canary ? "\($0.size) (canary)" : "\($0.size)" }.joined(separator: ", "))")
            var lastLine = ""
            var waitingSince: Int?
            var second = 0
            while !state.isFinished {
                second += 1
                guard second < 900 else { throw ValidationError("demo: the release did not finish in 900 simulated seconds") }
                cluster.advance(by: 1)
                state = try await worker.step(flowID)
                if let step = DeployFlow.waitingStep(state) {
                    let since = waitingSince ?? second
                    waitingSince = since
                    if second - since >= 3 {
                        let reason: String
                        switch step {
                        case .pullIn(let batch): reason = "canary batch \(batch) smoke-tested: pull it into traffic"
                        case .startBatch(let batch): reason = "metrics healthy: start batch \(batch)"
                        }
                        print("  alice: next (\(reason))")
                        state = try await intents.control(
                            flowID, namespace: nil, Intents.Control(.next), Intents.Caller(alice, reason: reason, source: .cli, time: now())
                        ).state
                        waitingSince = nil
                    }
                }
                let pods = try await clusterPort.pods(release.instance)
                let revision = try await clusterPort.workload(release.instance)?.status.updateRevision
                let line = Self.progressLine(state, ReplicaCounts(pods.map { $0.observation(updateRevision: revision) }))
                if line != lastLine {
                    print(String(format: "  t+%3ds  ", second) + line)
                    fflush(nil)  // progress shows as it happens, even through a pipe
                    lastLine = line
                }
                if self.tickMs > 0 { try await Task.sleep(for: .milliseconds(self.tickMs)) }
            }
            finished.append((flowID, state))
        }
        let updatedID = finished[1].0

        print("\n== replay and audit ==")
        for (id, live) in finished {
            let (replayed, version) = try await handler.load(DeployFlow.self, stream: Streams.flow(id))
            let same = replayed == live
            print("\(Streams.flow(id)): \(version) events, phase \(replayed.phase.rawValue); replay from the log \(same ? "matches" : "DIFFERS FROM") the live state")
            if !same { throw ExitCode(1) }
        }
        // Sealed as serve seals (here with a key of this run), then verified as `triton audit verify` does.
        _ = try await LogSealer(store: store, key: SealKey()).seal()
        do {
            let report = try await LogAudit.verify(store)
            print(
                "audit verify: \(report.events) events in \(report.streams) streams, every hash chain intact; \(report.seals) seal(s), the last over \(report.lastSeal?.treeSize ?? 0) events, signature and root checked"
            )
        } catch let failure as AuditFailure {
            print("audit verify: BROKEN \(failure)")
            throw ExitCode(1)
        }
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

    private static func progressLine(_ state: DeployFlow.State, _ counts: ReplicaCounts) -> String {
        var line = "flow \(state.phase.rawValue)\(state.paused ? " (paused)" : "")"
        if let batch = state.current {
            line += "  batch \(batch.number)/\(state.plan.count)\(batch.canary ? " canary" : "") \(batch.phase.rawValue)"
        }
        line += "  pods P/R/Ready/F \(counts)  finished \(state.finishedReplicas)/\(state.plan.total)"
        return line
    }
}

/// The demo's two releases: a create of `prod/checkout` (10 pods, batches of 5, auto) and the
/// article's canary update to v2 (canary 1, batches of 3, manual).
enum DemoReleases {
    static let instance = InstanceRef(namespace: "prod", name: "checkout")

    static func releases(_ suffix: String) -> [(String, Intents.Release)] {
        [
            (
                "create prod/checkout: 10 pods of shop/checkout:v1, batches of 5, auto",
                Intents.Release(
                    instance: Self.instance,
                    action: .create(AppSpec(appID: 12122, groupID: 10010, appName: "checkout", image: "shop/checkout:v1"), replicas: 10),
                    strategy: StrategyInput(batchSize: "5", mode: "auto", batchIntervalSeconds: 2), flowID: FlowID("checkout-create-\(suffix)")
                )
            ),
            (
                "update prod/checkout to v2: canary 1, batches of 3, manual (alice approves each step)",
                Intents.Release(
                    instance: Self.instance, action: .update(image: "shop/checkout:v2", appSpec: nil),
                    strategy: StrategyInput(batchSize: "3", canary: 1, mode: "manual"), flowID: FlowID("checkout-update-\(suffix)")
                )
            ),
        ]
    }
}

extension ReleaseRequest.Action {
    /// The image a create or update rolls out.
    var image: String? {
        switch self {
        case .create(let spec, _): spec.image
        case .update(let image, _): image
        default: nil
        }
    }
}
