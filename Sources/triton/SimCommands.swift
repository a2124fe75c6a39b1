import ArgumentParser
import Foundation
import KubeSim
import Logging

struct Sim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the simulated Kubernetes cluster (API server, CloneSet controller, pod lifecycle) standalone.",
        discussion: "kubectl works against it: kubectl --server http://127.0.0.1:PORT get clone,pods"
    )

    @Option(help: "Port to listen on (0 picks a free one).")
    var port: Int = 6443

    @Option(help: "Address to listen on. Loopback unless you mean otherwise.")
    var host: String = "127.0.0.1"

    @Option(help: "Simulated seconds per real second (e.g. 20 for tests).")
    var timeScale: Double = 1

    @Option(help: "Seed for names and timing jitter, for reproducible runs.")
    var seed: UInt64?

    @Option(help: "Require this bearer token on every request.")
    var token: String?

    func validate() throws {
        guard (0...65535).contains(self.port) else { throw ValidationError("--port: must be 0...65535") }
        guard self.timeScale > 0 else { throw ValidationError("--time-scale: must be greater than 0") }
    }

    func run() async throws {
        let cluster = SimulatedCluster(
            configuration: SimConfiguration(
                host: self.host, port: self.port, timeScale: self.timeScale, seed: self.seed, token: self.token
            ),
            logger: Logger(label: "triton.sim")
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await cluster.run() }
            let port = try await cluster.waitUntilListening()
            print("simulated cluster listening on http://\(self.host):\(port) (time scale \(self.timeScale)\(self.token == nil ? "" : ", bearer token required"))")
            print("try: kubectl --server http://\(self.host):\(port) get clone,pods -A")
            fflush(nil)
            try await group.waitForAll()
        }
    }
}
