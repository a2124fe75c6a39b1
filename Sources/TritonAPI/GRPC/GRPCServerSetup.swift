import GRPCCore
import GRPCNIOTransportHTTP2

extension TritonAPI {
    /// The gRPC server (HTTP/2, plaintext) with the three Triton services and the same tokens as REST.
    public func grpcServer(host: String, port: Int) -> GRPCServer<HTTP2ServerTransport.Posix> {
        GRPCServer(
            transport: .http2NIOPosix(address: .ipv4(host: host, port: port), transportSecurity: .plaintext),
            services: [DeployFlowService(api: self), ApplicationService(api: self), PodService(api: self)],
            interceptors: [GRPCAuthInterceptor(authenticator: self.authenticator)]
        )
    }
}

extension TritonAPI {
    /// The port a started gRPC server listens on.
    public static func listeningPort(_ server: GRPCServer<HTTP2ServerTransport.Posix>) async throws -> Int? {
        guard let address = try await server.listeningAddress else { return nil }
        return address.ipv4?.port ?? address.ipv6?.port
    }
}
