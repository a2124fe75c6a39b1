import ArgumentParser
import Foundation
import TritonEngine
import TritonProjections

struct InstanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instance", abstract: "List instances (CloneSets released by Triton), look at one now or as it was, or delete one.",
        subcommands: [InstanceList.self, InstanceGet.self, InstanceDelete.self]
    )
}

/// `triton instance list`: the instances the log knows (deleted ones left out), from the projection.
/// `triton instance get`: one instance now (from the cluster and the projection), or as it was (`--as-of`, from the log).
struct InstanceGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "One instance now, or --as-of a log position or time: its releases, image, active flow.")

    @Option(name: [.short, .long], help: "The namespace.")
    var namespace: String
    @Option(help: "The instance (CloneSet).")
    var instance: String
    @Option(help: ArgumentHelp("The instance as it was at this global log position or RFC 3339 time.", valueName: "position|time"))
    var asOf: String?
    @OptionGroup var api: APIOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let asOf = self.asOf, LogPoint(asOf) == nil {
            throw ValidationError("--as-of: '\(asOf)' is neither a log position (an integer) nor an RFC 3339 time (2026-12-07T14:03:12Z)")
        }
    }

    func run() async throws {
        try await self.api.calling(self.output) { client in
            let path = "/api/v1/namespaces/\(TritonClient.escape(self.namespace))/instances/\(TritonClient.escape(self.instance))"
            guard let asOf = self.asOf else {
                let data = try await client.request("GET", path)
                let value = try JSONSerialization.jsonObject(with: data)
                print(String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
                return
            }
            let past = try await client.get(InstanceAsOf.self, path + "?asOf=" + TritonClient.escape(asOf).replacingOccurrences(of: "+", with: "%2B"))
            if self.output.isJSON {
                FlowReport.printJSON(past)
                return
            }
            print("instance \(past.namespace)/\(past.name) as of log position \(past.stoppedAt.position) (\(FlowReport.time(past.stoppedAt.recordedAt)), \(past.stoppedAt.type))")
            print("image: \(past.currentImage ?? "-"); active flow: \(past.activeFlow ?? "none")\(past.deletion.map { "; deletion \($0)" } ?? "")")
            for release in past.releases {
                print("  \(release.flow): \(release.action) \(release.image ?? "") began \(FlowReport.time(release.beganAt)) \(release.outcome ?? "running")")
            }
        }
    }
}

struct InstanceList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List instances: image, replicas, the flow running now.")

    @Option(name: [.short, .long], help: "Only instances in this namespace.")
    var namespace: String?
    @OptionGroup var api: APIOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        struct Reply: Decodable { var instances: [InstanceSummary] }
        try await self.api.calling(self.output) { client in
            let query = "?consistent=true" + (self.namespace.map { "&namespace=\(TritonClient.escape($0))" } ?? "")
            let instances = try await client.get(Reply.self, "/api/v1/instances" + query).instances
            if self.output.isJSON {
                FlowReport.printJSON(instances)
                return
            }
            Self.table(instances)
        }
    }

    static func table(_ instances: [InstanceSummary]) {
        func column(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count + 1), withPad: " ", startingAt: 0) }
        print(column("NAMESPACE", 12) + column("INSTANCE", 28) + column("IMAGE", 28) + column("REPLICAS", 10) + "STATUS")
        for instance in instances {
            let status: String
            if instance.isDeleting {
                status = "Deleting"
            } else if let active = instance.activeFlowID {
                status = "\(instance.activeAction ?? "release") \(active)"
            } else {
                status = "Idle"
            }
            let replicas = instance.replicas.map { "\(instance.availableReplicas ?? 0)/\($0)" } ?? "-"
            print(column(instance.namespace, 12) + column(instance.name, 28) + column(instance.currentImage ?? "-", 28) + column(replicas, 10) + status)
        }
    }
}

/// `triton instance delete`: an intent like the others. The log records who asked, why and which CloneSet;
/// the running `triton serve` deletes it (its pods go with it) and records that it did.
struct InstanceDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete an instance's CloneSet and its pods (refused while a flow runs on it); `triton serve` carries it out."
    )

    @OptionGroup var instance: InstanceOptions
    @Option(help: "Why (recorded with the intent in the audit trail).")
    var reason: String?
    @Flag(help: "Wait until the engine has deleted it.")
    var wait = false
    @Option(help: "With --wait: give up (exit 1) after this many seconds.")
    var timeout: Int = 120
    @OptionGroup var api: APIOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await self.api.calling(self.output) { client in
            let name = "\(self.instance.namespace)/\(self.instance.instance)"
            let path = "/api/v1/namespaces/\(TritonClient.escape(self.instance.namespace))/instances/\(TritonClient.escape(self.instance.instance))"
            let query = self.reason.map { "?reason=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" } ?? ""
            var status = try TritonClient.decode(InstanceDeletionStatus.self, try await client.request("DELETE", path + query))
            if !self.output.isJSON {
                print("instance \(name): deletion requested (CloneSet uid \(status.workloadUID ?? "?")); `triton serve` deletes it")
            }
            if self.wait {
                let deadline = ContinuousClock.now + .seconds(self.timeout)
                while status.status != "Deleted" {
                    guard ContinuousClock.now < deadline else {
                        self.output.progress("instance \(name): not deleted after \(self.timeout) s — is `triton serve` running?")
                        if self.output.isJSON { FlowReport.printJSON(status) }
                        throw ExitCode(1)
                    }
                    try await Task.sleep(for: .milliseconds(200))
                    status = try await client.get(InstanceDeletionStatus.self, path + "/deletion")
                }
                if !self.output.isJSON { print("instance \(name): deleted") }
            }
            if self.output.isJSON { FlowReport.printJSON(status) }
        }
    }
}
