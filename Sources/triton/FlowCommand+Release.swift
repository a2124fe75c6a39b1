import ArgumentParser
import Foundation

// `triton flow create|update|rollback|scale|restart`: release intents sent to the API of `triton serve`,
// which decides who asks (the token's user), records the intent with why, and carries it out.

struct FlowCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an instance: a new CloneSet, released in batches.")

    @OptionGroup var instance: InstanceOptions
    @Option(help: "Container image, e.g. shop/checkout:v1.")
    var image: String
    @Option(help: "Replicas when the flow is done.")
    var replicas: Int
    @Option(help: "Application id (Triton's appID; default 0).")
    var appId: Int?
    @Option(help: "Group id (Triton's groupID; default 0).")
    var groupId: Int?
    @Option(help: "Application name (default: the instance name).")
    var appName: String?
    @OptionGroup var strategy: StrategyOptions
    @OptionGroup var context: ReleaseContext

    func run() async throws {
        try await self.context.release(
            self.instance,
            ReleaseBody(
                action: "create", instance: self.instance.instance, image: self.image, replicas: self.replicas, appID: self.appId,
                groupID: self.groupId, appName: self.appName, strategy: self.strategy.input()
            )
        )
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
        try await self.context.release(
            self.instance, ReleaseBody(action: "update", instance: self.instance.instance, image: self.image, strategy: self.strategy.input())
        )
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
        try await self.context.release(
            self.instance, ReleaseBody(action: "rollback", instance: self.instance.instance, rollbackTo: self.to, strategy: self.strategy.input())
        )
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
        try await self.context.release(
            self.instance,
            ReleaseBody(
                action: "scale", instance: self.instance.instance, replicas: self.replicas,
                strategy: self.strategy.input(podsToDelete: pods.isEmpty ? nil : pods)
            )
        )
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
        try await self.context.release(
            self.instance,
            ReleaseBody(action: "restart", instance: self.instance.instance, strategy: self.strategy.input(podsToDelete: PodList.parse(self.podsToDelete)))
        )
    }
}

enum PodList {
    static func parse(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
