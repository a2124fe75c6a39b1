import Foundation
import KubeClient
import KubeSim
import Logging
import ServiceLifecycle
import TritonEngine
import TritonJSON
import TritonKubeAdapter
import TritonSimAdapter

extension TritonServer {
    /// The cluster the engine drives: its port, its clock, and the services that keep it running.
    struct RunningCluster {
        var port: any ClusterPort
        var clock: EngineClock
        var services: [any ServiceLifecycle.Service]
        /// The simulated cluster's API server, when it runs in this process.
        var kubeServer: String?
    }

    static func startCluster(_ cluster: Configuration.Cluster, logger: Logger, output: Output) async throws -> RunningCluster {
        switch cluster {
        case .kubernetes(let configuration):
            let client = KubeClient(configuration: configuration, logger: logger)
            let cache = KubeObjectCache(client: client)
            output.info("cluster: \(configuration.server)")
            return RunningCluster(
                port: KubeClusterPort(client: client, cache: cache), clock: { Date() },
                services: [WatchCacheService(cache: cache, client: client)]
            )
        case .simulated(let configuration, let namespaces):
            var simLogger = Logger(label: "triton.sim")
            simLogger.logLevel = .critical  // its HTTP server logs an error for every connection cut at shutdown
            let sim = SimulatedCluster(configuration: configuration, logger: simLogger)
            for namespace in namespaces where sim.get(.namespaces, name: namespace) == nil {
                try sim.create(.namespaces, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
            }
            let listener = Task { try await sim.run() }
            let listening: Int
            do {
                listening = try await sim.waitUntilListening()
            } catch {
                listener.cancel()
                throw error
            }
            let server = "http://127.0.0.1:\(listening)"
            output.info("simulated cluster: kubectl --server \(server) get clone,pods -n prod -w")
            return RunningCluster(
                port: SimClusterPort(cluster: sim), clock: { sim.clock.date(at: sim.now) },
                services: [SimulatedClusterService(listener: listener, output: output)], kubeServer: server
            )
        }
    }
}
