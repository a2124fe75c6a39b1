import KubeClient
import KubeSim
import ServiceLifecycle
import TritonKubeAdapter

/// The watch cache of a real cluster as a service: its watches run from the first read of a namespace
/// until the graceful shutdown, which stops them and closes the client's connections.
struct WatchCacheService: ServiceLifecycle.Service {
    let cache: KubeObjectCache
    let client: KubeClient

    func run() async throws {
        try? await gracefulShutdown()
        self.cache.stop()
        self.client.shutdown()
    }
}

/// The in-process simulated cluster as a service. Its listener is started before the service group
/// (so its port is known and printed first); the service stops it at the graceful shutdown.
struct SimulatedClusterService: ServiceLifecycle.Service {
    let listener: Task<Void, any Error>
    let output: TritonServer.Output

    func run() async throws {
        let listener = self.listener
        try await runUntilShutdown("simulated cluster", retrying: false, output: self.output) {
            try await withTaskCancellationHandler {
                _ = try await listener.value
            } onCancel: {
                listener.cancel()
            }
        }
    }
}
