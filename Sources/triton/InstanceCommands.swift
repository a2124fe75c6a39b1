import ArgumentParser
import EventStore
import Foundation
import KubeClient
import PostgresStore
import TritonDomain
import TritonEngine
import TritonKubeAdapter

struct InstanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instance", abstract: "Act on an instance (a CloneSet) as a whole.", subcommands: [InstanceDelete.self]
    )
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
        let handler = CommandHandler(store: store)
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
