import ArgumentParser
import EventStore
import Foundation
import KubeClient
import PostgresStore
import TritonDomain
import TritonEngine
import TritonKubeAdapter
import TritonProjections

// `triton flow next|continue|pause|resume|cancel`: one intent on a running flow, with who and why.

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
