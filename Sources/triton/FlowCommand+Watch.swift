import ArgumentParser
import EventStore
import Foundation
import KubeClient
import PostgresStore
import TritonDomain
import TritonEngine
import TritonKubeAdapter
import TritonProjections

// Following a flow: its progress line, the final report, `triton flow watch`.

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
