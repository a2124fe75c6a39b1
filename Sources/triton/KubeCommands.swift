import ArgumentParser
import Foundation
import KubeClient

struct Kube: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Diagnostics against a cluster (a kubeconfig's, the in-cluster one, or --server).",
        subcommands: [KubeGet.self]
    )
}

struct KubeGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "List pods, like kubectl get pods.")

    @Argument(help: "What to list: pods.")
    var resource: String

    @Option(name: [.short, .long], help: "Namespace (default: the context's, else default).")
    var namespace: String?

    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        guard ["pods", "pod", "po"].contains(self.resource) else {
            throw ValidationError("resource: '\(self.resource)' is not supported (only pods)")
        }
        let configuration = try self.cluster.configuration(namespace: self.namespace)
        let client = KubeClient(configuration: configuration)
        defer { client.shutdown() }
        do {
            let pods = try await client.pods()
            print(pods.isEmpty ? "No resources found in \(configuration.namespace) namespace." : PodTable.render(pods))
        } catch let error as KubeError {
            FileHandle.standardError.write(Data((String(reflecting: error) + "\n").utf8))
            throw ExitCode.failure
        }
    }
}
