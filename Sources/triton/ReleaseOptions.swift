import ArgumentParser
import EventStore
import Foundation
import KubeClient
import PostgresStore
import TritonDomain
import TritonEngine
import TritonKubeAdapter
import TritonProjections

// What every release and control intent shares: who asks and why, the strategy, the instance, where
// the log and the cluster are, and how a refused intent is printed.

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
