import ArgumentParser
import EventStore
import Foundation
import KubeClient
import PostgresStore
import TritonDomain
import TritonEngine
import TritonKubeAdapter
import TritonProjections

struct InstanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instance", abstract: "List instances (CloneSets released by Triton), or delete one.",
        subcommands: [InstanceList.self, InstanceDelete.self]
    )
}

/// `triton instance list`: the instances the log knows (deleted ones left out), from the projection.
struct InstanceList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List instances: image, replicas, the flow running now.")

    @Option(name: [.short, .long], help: "Only instances in this namespace.")
    var namespace: String?
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let store = try self.database.makeStore()
        defer { store.shutdown() }
        try await store.migrate()
        _ = try await FlowProjector(store: store).catchUp()
        let instances = try await FlowQueries(store: store).instances(namespace: self.namespace)
        if self.output.isJSON {
            try self.output.printJSON(instances)
            return
        }
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
    @OptionGroup var who: ActorOptions
    @Flag(help: "Wait until the engine has deleted it.")
    var wait = false
    @Option(help: "With --wait: give up (exit 1) after this many seconds.")
    var timeout: Int = 120
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let ref = self.instance.ref
        let store = try self.database.makeStore()
        defer { store.shutdown() }
        try await store.migrate()
        let client = KubeClient(configuration: try self.cluster.configuration(namespace: ref.namespace))
        defer { client.shutdown() }
        // With --wait, each look reads only the events appended since the last.
        let handler = CommandHandler(store: store, cache: StateCache(capacity: 1))
        let metadata = self.who.metadata()
        var state: Instance.State
        do {
            state = try await handler.requestDeletion(ref, cluster: KubeClusterPort(client: client), metadata: metadata)
        } catch let rejection as DomainRejection {
            throw self.output.failure(CLIError(rejection))
        } catch let error as KubeError {
            throw self.output.failure(CLIError(code: "cluster", field: nil, message: String(reflecting: error)))
        }
        if !self.output.isJSON {
            print("instance \(ref): deletion requested (CloneSet uid \(state.deletion?.workloadUID ?? "?")); `triton serve` deletes it")
        }
        if self.wait {
            let deadline = ContinuousClock.now + .seconds(self.timeout)
            while state.pendingDeletion != nil {
                guard ContinuousClock.now < deadline else {
                    self.output.progress("instance \(ref): not deleted after \(self.timeout) s — is `triton serve` running?")
                    if self.output.isJSON { try self.output.printJSON(InstanceDeletionStatus(ref, state)) }
                    throw ExitCode(1)
                }
                try await Task.sleep(for: .milliseconds(200))
                state = try await handler.load(Instance.self, stream: Streams.instance(ref)).state
            }
            if !self.output.isJSON { print("instance \(ref): deleted") }
        }
        if self.output.isJSON { try self.output.printJSON(InstanceDeletionStatus(ref, state)) }
    }
}
