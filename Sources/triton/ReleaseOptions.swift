import ArgumentParser
import Foundation
import TritonEngine
import TritonProjections

// What every release and control intent shares: why, the strategy, the instance, which API to ask,
// and how a refused intent is printed. Who asks is decided by the server (the token's user).

/// Why, on every intent (recorded with it in the audit trail), and whether to follow the flow after it.
struct IntentOptions: ParsableArguments {
    @Option(help: "Why (recorded with the intent in the audit trail).")
    var reason: String?

    @Flag(help: "Follow the flow after the intent, printing its progress until it finishes or waits.")
    var watch = false
}

/// The strategy flags of every release action, sent as the request's `strategy`: the server parses and
/// checks them (the one strategy parser), and a refusal names the flag.
struct StrategyOptions: ParsableArguments {
    @Option(help: "Pods per batch: a number, or a percent of the pods to process (e.g. 30%).")
    var batchSize: String?

    @Option(help: "Number of batches after the canary (instead of --batch-size).")
    var batches: Int?

    @Option(help: "Size of a first, canary batch (create, update, rollback; default 0: none).")
    var canary: Int?

    @Option(help: "manual (stop for `triton flow next` before pulling a batch in and before the next batch; the default) or auto.")
    var mode: String?

    @Option(help: "Auto mode: seconds between one batch finishing and the next starting (default 0).")
    var batchInterval: Int?

    @Option(help: "Seconds a batch's pods have to become ContainersReady before the batch fails (0: no limit; default 600).")
    var startupTimeout: Int?

    @Option(help: "Seconds between pulling pods out of traffic and deleting them (default 30).")
    var pullOutWait: Int?

    @Flag(help: "Pull pods into traffic as soon as they are smoke-tested, without stopping.")
    var noPullIn = false

    func input(podsToDelete: [String]? = nil) -> StrategyInput {
        StrategyInput(
            batchSize: self.batchSize, batches: self.batches, canary: self.canary, mode: self.mode, batchIntervalSeconds: self.batchInterval,
            startupTimeoutSeconds: self.startupTimeout, pullOutWaitSeconds: self.pullOutWait, noPullIn: self.noPullIn ? true : nil,
            podsToDelete: podsToDelete
        )
    }
}

/// The instance a release acts on.
struct InstanceOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Kubernetes namespace of the instance.")
    var namespace: String = "default"

    @Option(help: "The instance (CloneSet) name.")
    var instance: String
}

/// A release as `POST /api/v1/namespaces/{namespace}/releases` takes it.
struct ReleaseBody: Encodable {
    var action: String
    var instance: String
    var image: String?
    var replicas: Int?
    var appID: Int?
    var groupID: Int?
    var appName: String?
    var rollbackTo: String?
    var flowID: String?
    var strategy: StrategyInput
    var reason: String?
}

/// Everything a release command shares: which API, how to print, why, and the new flow's id.
struct ReleaseContext: ParsableArguments {
    @OptionGroup var api: APIOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var intent: IntentOptions

    @Option(help: "Id of the new flow (default: <instance>-<random>).")
    var flowID: String?

    /// Asks the server for the release, reports the flow it created, and follows it with --watch.
    func release(_ instance: InstanceOptions, _ body: ReleaseBody) async throws {
        try await self.api.calling(self.output) { client in
            var body = body
            body.flowID = self.flowID
            body.reason = self.intent.reason
            let status = try await client.send(
                FlowStatus.self, "POST", "/api/v1/namespaces/\(TritonClient.escape(instance.namespace))/releases", body: body
            )
            FlowReport.created(status, output: self.output)
            if self.intent.watch {
                try await FlowWatcher(client: client, output: self.output).watch(status, stopWhenWaiting: true)
            }
        }
    }
}

extension OutputOptions {
    /// With --output json, prints the error as `{"code","field","message","rule"}` on standard output and
    /// returns exit code 1; otherwise returns the error for the argument parser to print (exit 1).
    func failure(_ error: CLIError) -> any Error {
        guard self.isJSON else { return error }
        struct Body: Encodable {
            var code: String
            var field: String?
            var message: String
            var rule: String?
        }
        try? self.printJSON(Body(code: error.code, field: error.field, message: error.message, rule: error.rule))
        return ExitCode(1)
    }

    /// Runs a command's body; a refusal (``CLIError``) is printed as ``failure(_:)`` prints it.
    func reporting<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as CLIError {
            throw self.failure(error)
        }
    }
}

/// A refused intent, printed as `field: reason` (and as `{"code","field","message","rule"}` with
/// --output json). A refusal of the server's authorization policy names its rule.
struct CLIError: Error, CustomStringConvertible {
    var code: String
    var field: String?
    var message: String
    var rule: String?

    init(code: String, field: String?, message: String, rule: String? = nil) {
        self.code = code
        self.field = field
        self.message = message
        self.rule = rule
    }

    /// The API names fields as its requests do; on the command line they are flags.
    static let flags: [String: String] = [
        "instance": "--instance", "image": "--image", "replicas": "--replicas", "appID": "--app-id", "groupID": "--group-id",
        "appName": "--app-name", "rollbackTo": "--to", "flowID": "--flow-id", "reason": "--reason", "batch": "--batch",
        "strategy.batchSize": "--batch-size", "strategy.batches": "--batches", "strategy.canary": "--canary", "strategy.mode": "--mode",
        "strategy.batchIntervalSeconds": "--batch-interval", "strategy.startupTimeoutSeconds": "--startup-timeout",
        "strategy.pullOutWaitSeconds": "--pull-out-wait", "strategy.noPullIn": "--no-pull-in", "strategy.podsToDelete": "--pods-to-delete",
        "asOf": "--as-of", "at": "--at", "from": "--from", "to": "--to", "format": "--format", "actor": "--actor",
    ]

    var description: String {
        guard let field = self.field else { return self.message }
        return "\(Self.flags[field] ?? field): \(self.message)"
    }
}
