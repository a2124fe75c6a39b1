import GRPCCore
import GRPCNIOTransportHTTP2
import ServiceLifecycle
import TritonAPI

/// The gRPC API as a service: serves until the graceful shutdown, then lets the calls in flight end.
struct GRPCService: ServiceLifecycle.Service {
    let server: GRPCServer<HTTP2ServerTransport.Posix>
    let onListening: @Sendable (Int) -> Void

    func run() async throws {
        let server = self.server
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.serve() }
                if let port = try await TritonAPI.listeningPort(server) { self.onListening(port) }
                try await group.waitForAll()
            }
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
    }
}
