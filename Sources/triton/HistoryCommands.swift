import ArgumentParser
import Foundation
import TritonEngine
import TritonProjections

/// `triton replay FLOW`: the flow re-folded from the log, step by step, checked against the projection.
struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-fold a flow from the log: each event, who and why, and the state after it; the final fold checked against the projection."
    )

    @OptionGroup var api: APIOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The flow id.")
    var flow: String

    @Option(help: "Stop at this global log position.")
    var at: Int64?

    func run() async throws {
        try await self.api.calling(self.output) { client in
            let status = try await FlowLookup.flow(self.flow, client)
            let replay = try await client.get(FlowReplay.self, TritonClient.flowPath(status) + "/replay" + (self.at.map { "?at=\($0)" } ?? ""))
            if self.output.isJSON {
                FlowReport.printJSON(replay)
            } else {
                print("replay of \(replay.flow): \(replay.steps.count) events\(replay.stoppedAt.map { ", stopped at position \($0.position) (\($0.type))" } ?? "")")
                print("POSITION  TIME                      EVENT                 BY            PHASE           BATCH            PODS P/R/R/F  WHY")
                for step in replay.steps {
                    let batch = step.batch == 0 ? "-" : "\(step.batch)/\(step.batches)\(step.batchPhase.map { " \($0)" } ?? "")"
                    let counts = step.podCounts
                    print(
                        [
                            Self.pad(String(step.position), 10), Self.pad(FlowReport.time(step.recordedAt), 26), Self.pad(step.type, 22),
                            Self.pad(step.actor, 14), Self.pad(step.phase + (step.paused ? "*" : ""), 16), Self.pad(batch, 17),
                            Self.pad("\(counts.pending)/\(counts.running)/\(counts.ready)/\(counts.failed)", 14), step.reason ?? "",
                        ].joined()
                    )
                }
                if let check = replay.projection {
                    if check.matches {
                        print("the final fold equals the projection")
                    } else {
                        print("the final fold DIFFERS from the projection (\(check.differences.count) fields):")
                        for line in check.differences { print("  \(line)") }
                    }
                }
            }
            if replay.projection?.matches == false { throw ExitCode(1) }
        }
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text.padding(toLength: width, withPad: " ", startingAt: 0)
    }
}

/// `triton timeline -n NS`: an incident timeline across every flow of a namespace.
struct TimelineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline",
        abstract: "Every flow's intents, observations, mutations and failures in a namespace, in global log order."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, jsonl, csv
    }

    @OptionGroup var api: APIOptions

    @Option(name: .shortAndLong, help: "The namespace.")
    var namespace: String

    @Option(help: "Only this instance (CloneSet).")
    var instance: String?

    @Option(help: ArgumentHelp("From this time (RFC 3339, e.g. 2026-12-07T14:00:00Z).", valueName: "time"))
    var from: String?

    @Option(help: ArgumentHelp("Until this time (RFC 3339).", valueName: "time"))
    var to: String?

    @Option(help: "text (for people), jsonl (one JSON object per line) or csv.")
    var format: Format = .text

    @OptionGroup var output: OutputOptions

    func validate() throws {
        for (flag, value) in [("--from", self.from), ("--to", self.to)] {
            guard let value else { continue }
            guard case .time = LogPoint(value) else { throw ValidationError("\(flag): '\(value)' is not an RFC 3339 time (2026-12-07T14:03:12Z)") }
        }
    }

    func run() async throws {
        try await self.api.calling(self.output) { client in
            var query = ["format=\(self.format == .csv ? "csv" : "jsonl")"]
            if let instance = self.instance { query.append("instance=\(TritonClient.escape(instance))") }
            if let from = self.from { query.append("from=\(TritonClient.escape(from).replacingOccurrences(of: "+", with: "%2B"))") }
            if let to = self.to { query.append("to=\(TritonClient.escape(to).replacingOccurrences(of: "+", with: "%2B"))") }
            let body = try await client.request("GET", "/api/v1/namespaces/\(TritonClient.escape(self.namespace))/timeline?" + query.joined(separator: "&"))
            if self.format != .text || self.output.isJSON {
                FileHandle.standardOutput.write(body)
                return
            }
            let decoder = FlowStatus.makeDecoder()
            var count = 0
            print("POSITION  TIME                      FLOW                  KIND          EVENT                 BY            STATE                     WHY")
            for line in body.split(separator: 0x0A) where !line.isEmpty {
                let entry = try decoder.decode(TimelineEntry.self, from: Data(line))
                count += 1
                print(
                    [
                        Replay.pad(String(entry.position), 10), Replay.pad(FlowReport.time(entry.recordedAt), 26), Replay.pad(entry.flow, 22),
                        Replay.pad(entry.kind.rawValue, 14), Replay.pad(entry.type, 22), Replay.pad(entry.actor, 14), Replay.pad(entry.state, 26),
                        entry.reason ?? "",
                    ].joined()
                )
            }
            if count == 0 { print("(no events in \(self.namespace) in that window)") }
        }
    }
}
