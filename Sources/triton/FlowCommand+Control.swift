import ArgumentParser
import Foundation
import TritonDomain
import TritonEngine
import TritonProjections

// `triton flow next|continue|pause|resume|cancel|review`: one intent on a flow, sent to the API; the
// server decides who asks and whether they may.

/// One control intent on a flow.
struct FlowControl {
    struct Body: Encodable {
        var reason: String?
        var batch: Int?
        var emergency: String?
    }

    static func send(
        _ intent: String, id: String, api: APIOptions, output: OutputOptions, options: IntentOptions, batch: Int? = nil,
        emergency: String? = nil
    ) async throws {
        try await api.calling(output) { client in
            let flow = try await FlowLookup.flow(id, client)
            let status = try await client.send(
                FlowStatus.self, "POST", TritonClient.flowPath(flow) + "/\(intent)",
                body: Body(reason: options.reason, batch: batch, emergency: emergency)
            )
            if output.isJSON {
                FlowReport.printJSON(status)
            } else {
                let who = status.lastIntent.map { "\($0.intent) by \($0.actor)" } ?? intent
                print("flow \(id): \(who) — \(FlowProgress.line(status))")
                if let emergency = status.emergency, emergency.reviewedBy == nil {
                    print("  EMERGENCY CHANGE by \(emergency.declaredBy): \(emergency.justification) — needs a review by another approver")
                }
            }
            if options.watch {
                try await FlowWatcher(client: client, output: output).watch(status, stopWhenWaiting: true)
            }
        }
    }
}

/// The justification of an admin who overrides four-eyes: the intent goes through, flagged as an
/// emergency change that another approver must review.
struct EmergencyOption: ParsableArguments {
    @Option(help: ArgumentHelp("Admins only: override four-eyes as an emergency change, with this justification.", valueName: "why"))
    var emergency: String?
}

struct FlowNext: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next", abstract: "Pull the smoke-tested batch into traffic (the canary, in either mode), or start the next batch (manual mode)."
    )
    @Argument(help: "The flow id.") var id: String
    @OptionGroup var emergency: EmergencyOption
    @OptionGroup var api: APIOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var intent: IntentOptions
    func run() async throws {
        try await FlowControl.send("next", id: self.id, api: self.api, output: self.output, options: self.intent, emergency: self.emergency.emergency)
    }
}

struct FlowContinue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "continue", abstract: "Run on without stopping until batch N is Baked (default: the last batch)."
    )
    @Argument(help: "The flow id.") var id: String
    @Option(help: "The 1-based batch to run to (default: the last).") var batch: Int?
    @OptionGroup var emergency: EmergencyOption
    @OptionGroup var api: APIOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var intent: IntentOptions
    func run() async throws {
        try await FlowControl.send(
            "continue", id: self.id, api: self.api, output: self.output, options: self.intent, batch: self.batch,
            emergency: self.emergency.emergency
        )
    }
}

struct FlowPause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Stop making progress (the CloneSet is paused) until resume.")
    @Argument(help: "The flow id.") var id: String
    @OptionGroup var api: APIOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var intent: IntentOptions
    func run() async throws { try await FlowControl.send("pause", id: self.id, api: self.api, output: self.output, options: self.intent) }
}

struct FlowResume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Continue a paused flow.")
    @Argument(help: "The flow id.") var id: String
    @OptionGroup var api: APIOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var intent: IntentOptions
    func run() async throws { try await FlowControl.send("resume", id: self.id, api: self.api, output: self.output, options: self.intent) }
}

struct FlowCancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Stop a flow for good (Canceled); nothing more is applied.")
    @Argument(help: "The flow id.") var id: String
    @OptionGroup var api: APIOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var intent: IntentOptions
    func run() async throws { try await FlowControl.send("cancel", id: self.id, api: self.api, output: self.output, options: self.intent) }
}

struct FlowReview: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review", abstract: "Approvers: review an emergency change after the fact (--reason is required; not by who declared it)."
    )
    @Argument(help: "The flow id.") var id: String
    @OptionGroup var api: APIOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var intent: IntentOptions
    func run() async throws { try await FlowControl.send("review", id: self.id, api: self.api, output: self.output, options: self.intent) }
}
