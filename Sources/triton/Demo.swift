import ArgumentParser
import EventStore
import Foundation
import PostgresStore
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

        var driver = DemoDriver(handler: CommandHandler(store: store), tick: .milliseconds(self.tickMs))
        let instance = InstanceRef(namespace: "prod", name: "checkout")
        let suffix = String(UInt32.random(in: 0..<UInt32.max), radix: 36)

        print("\n== create prod/checkout: 10 pods of shop/checkout:v1, batches of 5, auto ==")
        let created = try await driver.release(
            DeployFlow.CreateFlow(
                flowID: FlowID("checkout-create-\(suffix)"), instance: instance, action: .create,
                appSpec: AppSpec(appID: 12122, groupID: 10010, appName: "checkout", image: "shop/checkout:v1"),
                currentReplicas: 0, targetReplicas: 10, strategy: Strategy(batchSize: .count(5), mode: .auto, batchIntervalSeconds: 2)
            )
        )
        print("\n== update prod/checkout to v2: canary 1, batches of 3, manual (alice approves each step) ==")
        let updated = try await driver.release(
            DeployFlow.CreateFlow(
                flowID: FlowID("checkout-update-\(suffix)"), instance: instance, action: .update,
                appSpec: AppSpec(appID: 12122, groupID: 10010, appName: "checkout", image: "shop/checkout:v2"),
                currentReplicas: 10, targetReplicas: 10, existingPods: driver.cluster.live.map(\.name),
                strategy: Strategy(batchSize: .count(3), canary: 1, mode: .manual)
            )
        )

        print("\n== replay and audit ==")
        for flow in [created, updated] {
            let (replayed, version) = try await driver.handler.load(DeployFlow.self, stream: Streams.flow(flow.id))
            let same = replayed == flow.state
            print("\(Streams.flow(flow.id)): \(version) events, phase \(replayed.phase.rawValue); replay from the log \(same ? "matches" : "DIFFERS FROM") the live state")
            if !same { throw ExitCode(1) }
        }
        let report = try await store.verify()
        if let broken = report.firstBreak {
            print("audit verify: BROKEN \(broken)")
            throw ExitCode(1)
        }
        print("audit verify: \(report.events) events in \(report.streams) streams, every hash chain intact")
        print("\nwho did what (intents in the update's log):")
        for event in try await store.readStream(Streams.flow(updated.id), afterVersion: 0)
        where ["FlowCreated", "NextRequested", "Paused", "Resumed", "Canceled", "ContinueRequested"].contains(event.type) {
            let metadata = try EventMetadata.decode(json: event.metadata)
            print("  v\(event.version) \(event.type) by \(metadata.actor) (\(metadata.source.rawValue)): \(metadata.reason ?? "-")")
        }
        if embedded != nil && !self.stopDatabase {
            print("\nthe embedded PostgreSQL keeps running: triton audit verify --database-url '\(url)'")
        }
    }
}

/// Plays executor, observer, timer worker and approver around the decider for the demo.
struct DemoDriver {
    let handler: CommandHandler
    let tick: Duration
    var cluster = DemoCluster()
    var now = Date()

    struct Finished {
        var id: FlowID
        var state: DeployFlow.State
    }

    mutating func release(_ create: DeployFlow.CreateFlow) async throws -> Finished {
        var state = try await self.handler.createFlow(create, metadata: self.meta("alice", .cli, "release \(create.appSpec.image)"))
        print("flow \(create.flowID): plan \(state.plan.batches.map { $0.canary ? "\($0.size) (canary)" : "\($0.size)" }.joined(separator: ", "))")
        var lastLine = ""
        var waitingSince: Int?
        var seconds = 0
        while !state.isFinished {
            seconds += 1
            guard seconds < 600 else { throw ValidationError("demo: the release did not finish in 600 simulated seconds") }
            self.now += 1
            self.cluster.tick()
            // Observer.
            let (workload, pods) = self.cluster.observe()
            state = try await self.send(.observeWorkload(workload), create.flowID, "observer", .observer, state)
            for pod in pods { state = try await self.send(.observePod(pod), create.flowID, "observer", .observer, state) }
            // Timer worker.
            for timer in state.pendingTimers where timer.dueAt <= self.now {
                state = try await self.send(.timerFired(id: timer.id), create.flowID, "timer", .timer, state)
            }
            // Executor.
            state = try await self.execute(state, create)
            // Approver: looks for a few seconds, then says next.
            if let step = DeployFlow.waitingStep(state) {
                let since = waitingSince ?? seconds
                waitingSince = since
                if seconds - since >= 3 {
                    let reason: String
                    switch step {
                    case .pullIn(let batch): reason = "canary batch \(batch) smoke-tested: pull it into traffic"
                    case .startBatch(let batch): reason = "metrics healthy: start batch \(batch)"
                    }
                    print("  alice: next (\(reason))")
                    state = try await self.send(.next, create.flowID, "alice", .cli, state, reason: reason)
                    waitingSince = nil
                }
            }
            let line = self.progressLine(state)
            if line != lastLine {
                print(String(format: "  t+%3ds  ", seconds) + line)
                fflush(nil)  // progress shows as it happens, even through a pipe
                lastLine = line
            }
            if self.tick > .zero { try await Task.sleep(for: self.tick) }
        }
        try await self.handler.endFlow(state, metadata: self.meta("executor", .executor, nil))
        return Finished(id: create.flowID, state: state)
    }

    private mutating func execute(_ state: DeployFlow.State, _ create: DeployFlow.CreateFlow) async throws -> DeployFlow.State {
        var state = state
        if state.phase == .initializing, !state.workloadPrepared {
            let rv = self.cluster.prepare(image: create.appSpec.image)
            state = try await self.send(.mutationApplied(key: "prepare", kind: .prepareWorkload, resourceVersion: rv), create.flowID, "executor", .executor, state)
        }
        guard let intent = DeployFlow.desiredWorkload(state) else { return state }
        let key = "workload r=\(intent.replicas) p=\(intent.partition.map(String.init) ?? "-") paused=\(intent.paused) delete=\(intent.podsToDelete.sorted())"
        if !state.appliedMutations.contains(key) {
            let rv = self.cluster.apply(intent)
            let kind: MutationKind = intent.podsToDelete.isEmpty ? .scaleWorkload : .deletePods
            state = try await self.send(.mutationApplied(key: key, kind: kind, resourceVersion: rv), create.flowID, "executor", .executor, state)
        }
        for (pod, gate) in intent.gates.sorted(by: { $0.key < $1.key }) {
            let key = "gate \(pod)=\(gate.rawValue)"
            guard !state.appliedMutations.contains(key) else { continue }
            let rv = self.cluster.setGate(pod, gate)
            state = try await self.send(.mutationApplied(key: key, kind: .setGate, resourceVersion: rv), create.flowID, "executor", .executor, state)
        }
        return state
    }

    private func send(
        _ kind: DeployFlow.Command.Kind, _ flow: FlowID, _ actor: String, _ source: EventMetadata.Source, _ state: DeployFlow.State,
        reason: String? = nil
    ) async throws -> DeployFlow.State {
        let outcome = try await self.handler.send(kind, to: flow, metadata: self.meta(actor, source, reason))
        return outcome.state
    }

    private func meta(_ actor: String, _ source: EventMetadata.Source, _ reason: String?) -> EventMetadata {
        EventMetadata(actor: actor, reason: reason, requestID: UUID().uuidString, source: source, time: self.now)
    }

    private func progressLine(_ state: DeployFlow.State) -> String {
        var line = "flow \(state.phase.rawValue)\(state.paused ? " (paused)" : "")"
        if let batch = state.current {
            line += "  batch \(batch.number)/\(state.plan.count)\(batch.canary ? " canary" : "") \(batch.phase.rawValue)"
        }
        line += "  pods P/R/Ready/F \(self.cluster.counts)  finished \(state.finishedReplicas)/\(state.plan.total)"
        return line
    }
}
