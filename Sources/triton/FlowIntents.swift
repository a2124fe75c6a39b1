import ArgumentParser
import EventStore
import Foundation
import KubeClient
import PostgresStore
import TritonDomain
import TritonEngine
import TritonKubeAdapter
import TritonProjections

// `triton flow create|update|rollback|scale|restart` and `next|continue|pause|resume|cancel`: intents
// appended to the event log with who and why; the running `triton serve` carries them out.

/// Who asks and why, on every intent.
struct ActorOptions: ParsableArguments {
    @Option(help: "Why (recorded with the intent in the audit trail).")
    var reason: String?

    @Option(help: "Who asks (default: $TRITON_ACTOR, else $USER).")
    var actor: String?

    func metadata() -> EventMetadata {
        let environment = ProcessInfo.processInfo.environment
        let actor = self.actor ?? environment["TRITON_ACTOR"] ?? environment["USER"] ?? "cli"
        return EventMetadata(actor: actor, reason: self.reason, source: .cli, time: Date())
    }
}

/// Who asks and why on an intent about a flow, and whether to follow the flow after it.
struct IntentOptions: ParsableArguments {
    @OptionGroup var who: ActorOptions

    @Flag(help: "Follow the flow after the intent, printing its progress until it finishes or waits.")
    var watch = false

    func metadata() -> EventMetadata { self.who.metadata() }
}

/// The strategy flags of every release action.
struct StrategyOptions: ParsableArguments {
    @Option(help: "Pods per batch: a number, or a percent of the pods to process (e.g. 30%).")
    var batchSize: String?

    @Option(help: "Number of batches after the canary (instead of --batch-size).")
    var batches: Int?

    @Option(help: "Size of a first, canary batch (create, update, rollback).")
    var canary: Int = 0

    @Option(help: "manual (stop for `triton flow next` before pulling a batch in and before the next batch) or auto.")
    var mode: String = "manual"

    @Option(help: "Auto mode: seconds between one batch finishing and the next starting.")
    var batchInterval: Int = 0

    @Option(help: "Seconds a batch's pods have to become ContainersReady before the batch fails (0: no limit).")
    var startupTimeout: Int = 600

    @Option(help: "Seconds between pulling pods out of traffic and deleting them.")
    var pullOutWait: Int = 30

    @Flag(help: "Pull pods into traffic as soon as they are smoke-tested, without stopping.")
    var noPullIn = false

    func strategy(podsToDelete: [String] = []) throws -> Strategy {
        var batchSize: BatchSize?
        if let text = self.batchSize {
            guard let parsed = BatchSize(parsing: text) else {
                throw ValidationError("--batch-size: '\(text)' is neither a number nor a percent like 30%")
            }
            batchSize = parsed
        }
        guard let mode = Mode(rawValue: self.mode) else {
            throw ValidationError("--mode: '\(self.mode)' is not one of manual, auto")
        }
        return Strategy(
            batchSize: batchSize, batches: self.batches, canary: self.canary, mode: mode,
            batchIntervalSeconds: self.batchInterval, startupTimeoutSeconds: self.startupTimeout,
            pullOutWaitSeconds: self.pullOutWait, noPullIn: self.noPullIn, podsToDelete: podsToDelete
        )
    }
}

/// The instance a release acts on.
struct InstanceOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Kubernetes namespace of the instance.")
    var namespace: String = "default"

    @Option(help: "The instance (CloneSet) name.")
    var instance: String

    var ref: InstanceRef { InstanceRef(namespace: self.namespace, name: self.instance) }
}

/// Everything a release command shares: where the log and the cluster are, and how to print.
struct ReleaseContext: ParsableArguments {
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var intent: IntentOptions

    @Option(help: "Id of the new flow (default: <instance>-<action>-<random>).")
    var flowID: String?

    /// Prepares the flow from the cluster and the log, appends its creation, and reports it.
    func release(_ instance: InstanceRef, _ action: ReleaseRequest.Action, strategy: Strategy) async throws {
        let store = try self.database.makeStore()
        defer { store.shutdown() }
        try await store.migrate()
        let client = KubeClient(configuration: try self.cluster.configuration(namespace: instance.namespace))
        defer { client.shutdown() }
        let handler = CommandHandler(store: store)
        let request = ReleaseRequest(instance: instance, action: action, strategy: strategy, flowID: self.flowID.map { FlowID($0) })
        let state: DeployFlow.State
        do {
            state = try await handler.create(request, cluster: KubeClusterPort(client: client), metadata: self.intent.metadata())
        } catch let rejection as DomainRejection {
            throw self.output.failure(CLIError(rejection))
        } catch let error as KubeError {
            throw self.output.failure(CLIError(code: "cluster", field: nil, message: String(reflecting: error)))
        }
        guard let spec = state.spec else { return }
        try await FlowReport.created(state, spec, store: store, output: self.output)
        if self.intent.watch {
            try await FlowWatcher(store: store, output: self.output).watch(spec.flowID, stopWhenWaiting: true)
        }
    }
}

extension OutputOptions {
    /// With --output json, prints the error as `{"code","field","message"}` on standard output and
    /// returns exit code 1; otherwise returns the error for the argument parser to print.
    func failure(_ error: CLIError) -> any Error {
        guard self.isJSON else { return error }
        struct Body: Encodable {
            var code: String
            var field: String?
            var message: String
        }
        try? self.printJSON(Body(code: error.code, field: error.field, message: error.message))
        return ExitCode(1)
    }
}

/// A refused intent, printed as `field: reason` (and as `{"code","field","message"}` with --output json).
struct CLIError: Error, CustomStringConvertible {
    var code: String
    var field: String?
    var message: String

    init(code: String, field: String?, message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    init(_ rejection: DomainRejection) {
        self.init(code: rejection.code.rawValue, field: rejection.field, message: rejection.reason)
    }

    var description: String { self.field.map { "\($0): \(self.message)" } ?? self.message }
}

struct FlowCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an instance: a new CloneSet, released in batches.")

    @OptionGroup var instance: InstanceOptions
    @Option(help: "Container image, e.g. shop/checkout:v1.")
    var image: String
    @Option(help: "Replicas when the flow is done.")
    var replicas: Int
    @Option(help: "Application id (Triton's appID).")
    var appId: Int = 0
    @Option(help: "Group id (Triton's groupID).")
    var groupId: Int = 0
    @Option(help: "Application name (default: the instance name).")
    var appName: String?
    @OptionGroup var strategy: StrategyOptions
    @OptionGroup var context: ReleaseContext

    func run() async throws {
        let spec = AppSpec(appID: self.appId, groupID: self.groupId, appName: self.appName ?? self.instance.instance, image: self.image)
        try await self.context.release(self.instance.ref, .create(spec, replicas: self.replicas), strategy: try self.strategy.strategy())
    }
}

struct FlowUpdate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Roll a new image out to an instance, in batches.")

    @OptionGroup var instance: InstanceOptions
    @Option(help: "The new container image.")
    var image: String
    @OptionGroup var strategy: StrategyOptions
    @OptionGroup var context: ReleaseContext

    func run() async throws {
        try await self.context.release(self.instance.ref, .update(image: self.image, appSpec: nil), strategy: try self.strategy.strategy())
    }
}

struct FlowRollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback", abstract: "Roll an instance back to the template of an earlier successful flow, in batches."
    )

    @OptionGroup var instance: InstanceOptions
    @Option(help: "The flow to go back to (default: the successful release before the current one).")
    var to: String?
    @OptionGroup var strategy: StrategyOptions
    @OptionGroup var context: ReleaseContext

    func run() async throws {
        try await self.context.release(self.instance.ref, .rollback(to: self.to.map { FlowID($0) }), strategy: try self.strategy.strategy())
    }
}

struct FlowScale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale", abstract: "Scale an instance out (new pods in batches) or in (named pods first, each pulled out before it goes)."
    )

    @OptionGroup var instance: InstanceOptions
    @Option(help: "Replicas when the flow is done.")
    var replicas: Int
    @Option(help: "Scale in: the pods to remove, comma-separated.")
    var podsToDelete: String?
    @OptionGroup var strategy: StrategyOptions
    @OptionGroup var context: ReleaseContext

    func run() async throws {
        let pods = PodList.parse(self.podsToDelete)
        try await self.context.release(self.instance.ref, .scale(replicas: self.replicas), strategy: try self.strategy.strategy(podsToDelete: pods))
    }
}

struct FlowRestart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart", abstract: "Replace named pods safely: replacements start and bake first, then the named pods go."
    )

    @OptionGroup var instance: InstanceOptions
    @Option(help: "The pods to restart, comma-separated.")
    var podsToDelete: String
    @OptionGroup var strategy: StrategyOptions
    @OptionGroup var context: ReleaseContext

    func run() async throws {
        let pods = PodList.parse(self.podsToDelete)
        guard !pods.isEmpty else { throw ValidationError("--pods-to-delete: name at least one pod") }
        try await self.context.release(self.instance.ref, .restart, strategy: try self.strategy.strategy(podsToDelete: pods))
    }
}

enum PodList {
    static func parse(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

// MARK: - Controls

/// `next`, `continue`, `pause`, `resume`, `cancel`: one intent on a running flow.
struct FlowControl {
    static func send(
        _ kind: DeployFlow.Command.Kind, id: String, database: DatabaseOptions, output: OutputOptions, intent: IntentOptions
    ) async throws {
        let store = try database.makeStore()
        defer { store.shutdown() }
        try await store.migrate()
        let handler = CommandHandler(store: store)
        let flow = FlowID(id)
        let (existing, _) = try await handler.load(DeployFlow.self, stream: Streams.flow(flow))
        guard existing.isCreated else {
            throw output.failure(CLIError(code: "unknownFlow", field: "id", message: "no flow named '\(id)'"))
        }
        let outcome: CommandHandler.Outcome<DeployFlow>
        do {
            outcome = try await handler.send(kind, to: flow, metadata: intent.metadata())
        } catch let rejection as DomainRejection {
            throw output.failure(CLIError(rejection))
        }
        if output.isJSON {
            _ = try await FlowProjector(store: store).catchUp()
            if let status = try await FlowQueries(store: store).status(id: flow) {
                print(String(decoding: try FlowStatus.makeEncoder().encode(status), as: UTF8.self))
            }
        } else {
            let what = outcome.events.map { $0.typeName }.joined(separator: ", ")
            print("flow \(id): \(what.isEmpty ? "nothing to record" : what) — \(FlowProgress.line(outcome.state))")
        }
        if intent.watch {
            try await FlowWatcher(store: store, output: output).watch(flow, stopWhenWaiting: true)
        }
    }
}

struct FlowNext: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next", abstract: "Manual mode: pull the smoke-tested batch into traffic, or start the next batch."
    )
    @Argument(help: "The flow id.") var id: String
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var intent: IntentOptions
    func run() async throws { try await FlowControl.send(.next, id: self.id, database: self.database, output: self.output, intent: self.intent) }
}

struct FlowContinue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "continue", abstract: "Run on without stopping until batch N is Baked (default: the last batch)."
    )
    @Argument(help: "The flow id.") var id: String
    @Option(help: "The 1-based batch to run to (default: the last).") var batch: Int?
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var intent: IntentOptions
    func run() async throws {
        var target = self.batch
        if target == nil {
            let store = try self.database.makeStore()
            defer { store.shutdown() }
            let (state, _) = try await CommandHandler(store: store).load(DeployFlow.self, stream: Streams.flow(FlowID(self.id)))
            target = state.plan.count
        }
        try await FlowControl.send(
            .continueTo(batch: target ?? 0), id: self.id, database: self.database, output: self.output, intent: self.intent
        )
    }
}

struct FlowPause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Stop making progress (the CloneSet is paused) until resume.")
    @Argument(help: "The flow id.") var id: String
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var intent: IntentOptions
    func run() async throws { try await FlowControl.send(.pause, id: self.id, database: self.database, output: self.output, intent: self.intent) }
}

struct FlowResume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Continue a paused flow.")
    @Argument(help: "The flow id.") var id: String
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var intent: IntentOptions
    func run() async throws { try await FlowControl.send(.resume, id: self.id, database: self.database, output: self.output, intent: self.intent) }
}

struct FlowCancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Stop a flow for good (Canceled); nothing more is applied.")
    @Argument(help: "The flow id.") var id: String
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var intent: IntentOptions
    func run() async throws { try await FlowControl.send(.cancel, id: self.id, database: self.database, output: self.output, intent: self.intent) }
}

// MARK: - Reports and watching

enum FlowProgress {
    /// One line: phase, current batch and its phase, pod counts, finished replicas.
    static func line(_ state: DeployFlow.State) -> String {
        var line = "\(state.phase.rawValue)\(state.paused ? " (paused)" : "")"
        if let batch = state.current {
            line += "  batch \(batch.number)/\(state.plan.count)\(batch.canary ? " canary" : "") \(batch.phase.rawValue)"
        }
        let counts = ReplicaCounts(state.pods)
        line += "  pods pending \(counts.pending) running \(counts.running) ready \(counts.ready) failed \(counts.failed)"
        line += "  finished \(state.finishedReplicas)/\(state.plan.total)"
        if let step = DeployFlow.waitingStep(state), !state.paused {
            switch step {
            case .pullIn(let batch): line += "  — waiting: `next` pulls batch \(batch) into traffic"
            case .startBatch(let batch): line += "  — waiting: `next` starts batch \(batch)"
            }
        }
        if let reason = state.failureReason { line += "  — \(reason)" }
        return line
    }

    static func plan(_ state: DeployFlow.State) -> String {
        state.plan.batches.map { $0.canary ? "\($0.size) (canary)" : "\($0.size)" }.joined(separator: ", ")
    }
}

enum FlowReport {
    static func created(_ state: DeployFlow.State, _ spec: DeployFlow.Spec, store: PostgresEventStore, output: OutputOptions) async throws {
        if output.isJSON {
            _ = try await FlowProjector(store: store).catchUp()
            if let status = try await FlowQueries(store: store).status(id: spec.flowID) {
                print(String(decoding: try FlowStatus.makeEncoder().encode(status), as: UTF8.self))
            }
            return
        }
        print(spec.flowID.rawValue)
        fflush(nil)
        output.progress(
            "created: \(spec.action.rawValue) of \(spec.instance) to \(spec.appSpec.image), \(spec.strategy.mode.rawValue) mode, batches \(FlowProgress.plan(state))"
        )
        output.progress("follow it: triton flow watch \(spec.flowID)")
    }
}

/// Follows one flow's stream and prints each change (a line for people; a status JSON line with
/// --output json) until it finishes, or, with `stopWhenWaiting`, until it waits for a person.
struct FlowWatcher {
    let store: PostgresEventStore
    let output: OutputOptions

    func watch(_ flow: FlowID, stopWhenWaiting: Bool) async throws {
        // With a state cache, each look reads only the events appended since the last.
        let handler = CommandHandler(store: self.store, cache: StateCache(capacity: 1))
        var last = ""
        while true {
            let state = try await handler.load(DeployFlow.self, stream: Streams.flow(flow)).state
            guard state.isCreated else { throw CLIError(code: "unknownFlow", field: "id", message: "no flow named '\(flow)'") }
            let line = FlowProgress.line(state)
            if line != last {
                if self.output.isJSON {
                    print(String(decoding: try FlowStatus.makeEncoder().encode(FlowStatus(state: state)), as: UTF8.self))
                } else {
                    print(Self.timestamp() + "  " + line)
                }
                fflush(nil)
                last = line
            }
            if state.isFinished {
                if state.phase != .success { throw ExitCode(1) }
                return
            }
            if stopWhenWaiting, !state.paused, DeployFlow.waitingStep(state) != nil { return }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: Date())
    }
}

struct FlowWatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Print a flow's progress as it moves, until it finishes (exit 1 unless it succeeds)."
    )
    @Argument(help: "The flow id.") var id: String
    @Flag(help: "Return as soon as the flow waits for `next`.") var untilWaiting = false
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let store = try self.database.makeStore()
        defer { store.shutdown() }
        try await FlowWatcher(store: store, output: self.output).watch(FlowID(self.id), stopWhenWaiting: self.untilWaiting)
    }
}
