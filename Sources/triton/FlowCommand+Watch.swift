import ArgumentParser
import Foundation
import TritonEngine
import TritonProjections

// Following a flow through the API: its progress line, the report of a new flow, `triton flow watch`.

enum FlowProgress {
    /// One line: phase, current batch and its phase, pod counts, finished replicas, the stop it waits at.
    static func line(_ status: FlowStatus) -> String {
        var line = "\(status.phase)\(status.paused ? " (paused)" : "")"
        if let batch = status.conditions.last {
            line += "  batch \(batch.batch)/\(status.batches)\(batch.canary ? " canary" : "") \(batch.phase)"
        }
        if let counts = status.podCounts {
            line += "  pods pending \(counts.pending) running \(counts.running) ready \(counts.ready) failed \(counts.failed)"
        }
        let total = status.plan?.reduce(0) { $0 + $1.size } ?? status.finishedReplicas
        line += "  finished \(status.finishedReplicas)/\(total)"
        if let waiting = status.waiting {
            switch waiting.step {
            case "pullIn": line += "  — waiting: `next` pulls batch \(waiting.batch) into traffic"
            default: line += "  — waiting: `next` starts batch \(waiting.batch)"
            }
        }
        if let reason = status.failureReason { line += "  — \(reason)" }
        return line
    }

    static func plan(_ status: FlowStatus) -> String {
        (status.plan ?? []).map { $0.canary ? "\($0.size) (canary)" : "\($0.size)" }.joined(separator: ", ")
    }
}

enum FlowReport {
    /// The flow a release created: its id on standard output (the JSON status with --output json), what
    /// it does on standard error.
    static func created(_ status: FlowStatus, output: OutputOptions) {
        if output.isJSON {
            FlowReport.printJSON(status)
            return
        }
        print(status.name)
        fflush(nil)
        output.progress("created: \(status.action) of \(status.namespace)/\(status.instanceName), \(status.mode) mode, batches \(FlowProgress.plan(status))")
        output.progress("follow it: triton flow watch \(status.name)")
    }

    /// A time as the CLI prints it: RFC 3339 UTC with milliseconds.
    static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    static func printJSON(_ value: some Encodable) {
        let encoder = FlowStatus.makeEncoder()
        encoder.outputFormatting.insert(.prettyPrinted)
        if let data = try? encoder.encode(value) { print(String(decoding: data, as: UTF8.self)) }
        fflush(nil)
    }
}

/// Follows one flow through the API's Server-Sent Events and prints each change (a line for people; a
/// status JSON line with --output json) until it finishes, or, with `stopWhenWaiting`, until it waits
/// for a person. A dropped connection (the server restarting) is resumed for up to a minute.
struct FlowWatcher {
    let client: TritonClient
    let output: OutputOptions

    func watch(_ flow: FlowStatus, stopWhenWaiting: Bool) async throws {
        let path = TritonClient.flowPath(flow) + "/watch"
        var last = ""
        // Where the stream was: a reconnect (the server restarted) resumes after it; the first
        // connection gets the flow as it is.
        var position: Int64?
        var unreachableSince: ContinuousClock.Instant?
        while true {
            do {
                for try await data in self.client.events(path, lastEventID: position) {
                    unreachableSince = nil
                    let status = try TritonClient.decode(FlowStatus.self, data)
                    position = status.position ?? position
                    let line = FlowProgress.line(status)
                    if line != last {
                        if self.output.isJSON {
                            print(String(decoding: try FlowStatus.makeEncoder().encode(status), as: UTF8.self))
                        } else {
                            print(Self.timestamp() + "  " + line)
                        }
                        fflush(nil)
                        last = line
                    }
                    if status.finished {
                        if status.phase != "Success" { throw ExitCode(1) }
                        return
                    }
                    if stopWhenWaiting, status.waiting != nil { return }
                }
            } catch let error as CLIError where error.code == "unreachable" {
                let since = unreachableSince ?? .now
                unreachableSince = since
                if ContinuousClock.now - since > .seconds(60) { throw error }
            }
            // The stream ended before the flow did (the server stopped): look again shortly.
            try await Task.sleep(for: .milliseconds(500))
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
    @OptionGroup var api: APIOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await self.api.calling(self.output) { client in
            let flow = try await FlowLookup.flow(self.id, client)
            try await FlowWatcher(client: client, output: self.output).watch(flow, stopWhenWaiting: self.untilWaiting)
        }
    }
}

enum FlowLookup {
    /// A flow by its id, whatever its namespace (ids are unique across namespaces).
    static func flow(_ id: String, _ client: TritonClient) async throws -> FlowStatus {
        do {
            return try await client.get(FlowStatus.self, "/api/v1/deployflows/\(TritonClient.escape(id))")
        } catch var error as CLIError where error.code == "notFound" {
            error.field = "id"
            error.message = "no flow named '\(id)'"
            throw error
        }
    }
}
