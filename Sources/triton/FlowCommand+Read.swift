import ArgumentParser
import Foundation
import TritonDomain
import TritonEngine
import TritonProjections

struct Flow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Release with DeployFlows and follow them (the Triton status shape with --output json).",
        subcommands: [
            FlowCreate.self, FlowUpdate.self, FlowRollback.self, FlowScale.self, FlowRestart.self,
            FlowList.self, FlowGet.self, FlowWatch.self,
            FlowNext.self, FlowContinue.self, FlowPause.self, FlowResume.self, FlowCancel.self, FlowReview.self,
            FlowInbox.self, FlowEmergencies.self,
        ]
    )
}

struct FlowList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List flows, newest first.")

    @OptionGroup var api: APIOptions
    @OptionGroup var output: OutputOptions

    @Option(name: [.short, .long], help: "Only flows in this namespace.")
    var namespace: String?

    @Option(help: "Only flows of this instance.")
    var instance: String?

    struct Reply: Decodable { var deploys: [FlowStatus] }

    func run() async throws {
        try await self.api.calling(self.output) { client in
            var query = ["consistent=true", "pageSize=1000"]
            if let namespace = self.namespace { query.append("namespace=\(TritonClient.escape(namespace))") }
            if let instance = self.instance { query.append("instanceName=\(TritonClient.escape(instance))") }
            let flows = try await client.get(Reply.self, "/api/v1/deployflows?" + query.joined(separator: "&")).deploys
            FlowTable.print(flows, output: self.output)
        }
    }
}

enum FlowTable {
    static func print(_ flows: [FlowStatus], output: OutputOptions) {
        if output.isJSON {
            FlowReport.printJSON(flows)
            return
        }
        func column(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count + 1), withPad: " ", startingAt: 0) }
        Swift.print(column("NAMESPACE", 12) + column("FLOW", 36) + column("ACTION", 12) + column("PHASE", 15) + column("BATCHES", 9) + "REPLICAS")
        for flow in flows {
            Swift.print(
                column(flow.namespace, 12) + column(flow.name, 36) + column(flow.action, 12)
                    + column(flow.phase + (flow.paused ? " (paused)" : ""), 15) + column("\(flow.finishedBatches)/\(flow.batches)", 9)
                    + "\(flow.finishedReplicas)" + (flow.emergency.map { $0.reviewedBy == nil ? "  EMERGENCY (unreviewed)" : "  emergency (reviewed)" } ?? "")
            )
        }
    }
}

struct FlowGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "One flow with its batches and pods, and who did what.")

    @OptionGroup var api: APIOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The flow id.")
    var id: String

    @Option(help: ArgumentHelp("The flow as it was at this global log position or RFC 3339 time (2026-12-07T14:03:12Z).", valueName: "position|time"))
    var asOf: String?

    func validate() throws {
        if let asOf = self.asOf, LogPoint(asOf) == nil {
            throw ValidationError("--as-of: '\(asOf)' is neither a log position (an integer) nor an RFC 3339 time (2026-12-07T14:03:12Z)")
        }
    }

    func run() async throws {
        try await self.api.calling(self.output) { client in
            var flow = try await FlowLookup.flow(self.id, client)
            if let asOf = self.asOf {
                let query = TritonClient.escape(asOf).replacingOccurrences(of: "+", with: "%2B")
                flow = try await client.get(FlowStatus.self, "/api/v1/deployflows/\(TritonClient.escape(self.id))?asOf=\(query)")
            }
            if self.output.isJSON {
                FlowReport.printJSON(flow)
                return
            }
            func who(_ intent: Attribution?) -> String {
                guard let intent else { return "" }
                return " — \(intent.intent) by \(intent.actor)\(intent.reason.map { ": \($0)" } ?? "")"
            }
            if let stopped = flow.asOf {
                print("as of log position \(stopped.position) (\(FlowReport.time(stopped.recordedAt))): the flow's event \(stopped.version), \(stopped.type)")
            }
            print("flow \(flow.name) in \(flow.namespace): \(flow.action) of \(flow.instanceName), phase \(flow.phase)\(flow.paused ? " (paused)" : "")")
            print("created by \(flow.createdBy ?? "?")\(flow.lastIntent.map { "; last intent: \($0.intent) by \($0.actor)\($0.reason.map { " (\($0))" } ?? "")" } ?? "")")
            print("batches \(flow.finishedBatches)/\(flow.batches), replicas finished \(flow.finishedReplicas), failed \(flow.failedReplicas), mode \(flow.mode)")
            for batch in flow.conditions {
                let pods = batch.pods.map { "\($0.name) \($0.phase)\($0.pullInStatus.isEmpty ? "" : " " + $0.pullInStatus)" }
                print("  batch \(batch.batch)\(batch.canary ? " (canary)" : ""): \(batch.phase), \(batch.batchSize) pods: \(pods.joined(separator: ", "))\(who(batch.lastIntent))")
            }
            if let emergency = flow.emergency {
                let review = emergency.reviewedBy.map { "reviewed by \($0)" } ?? "NOT REVIEWED"
                print("EMERGENCY CHANGE by \(emergency.declaredBy): \(emergency.justification) (\(review))")
            }
            if let allowed = flow.allowedActions {
                print("you may: \(allowed.isEmpty ? "nothing" : allowed.joined(separator: ", "))")
            }
        }
    }
}

/// `triton flow inbox`: the flows waiting for a decision the caller may take.
struct FlowInbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inbox", abstract: "Flows across namespaces waiting for a decision you may take (a stop to pass, an emergency to review)."
    )
    @OptionGroup var api: APIOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await self.api.calling(self.output) { client in
            FlowTable.print(try await client.get(FlowList.Reply.self, "/api/v1/inbox").deploys, output: self.output)
        }
    }
}

/// `triton flow emergencies`: emergency changes not reviewed yet (`--all`: every one).
struct FlowEmergencies: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "emergencies", abstract: "Emergency changes waiting for their review.")
    @Flag(help: "Reviewed ones too.") var all = false
    @OptionGroup var api: APIOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await self.api.calling(self.output) { client in
            let path = "/api/v1/emergencies" + (self.all ? "?reviewed=any" : "")
            FlowTable.print(try await client.get(FlowList.Reply.self, path).deploys, output: self.output)
        }
    }
}
