import ArgumentParser
import EventStore
import Foundation
import KubeClient
import PostgresStore
import TritonDomain
import TritonEngine
import TritonKubeAdapter
import TritonProjections

// `triton flow create|update|rollback|scale|restart`: release intents appended to the event log with who and why; the running `triton serve` carries them out.

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
