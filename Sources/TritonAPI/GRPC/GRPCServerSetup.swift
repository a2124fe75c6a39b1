import GRPCCore
import GRPCNIOTransportHTTP2

extension TritonAPI {
    /// PEM files of a server certificate chain and its private key.
    public struct TLSFiles: Sendable {
        public var certificateChain: String
        public var privateKey: String
        public init(certificateChain: String, privateKey: String) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
        }
    }

    /// The gRPC server (HTTP/2; over TLS with `tls`, else plaintext) with the three Triton services and the
    /// same tokens as REST.
    public func grpcServer(host: String, port: Int, tls: TLSFiles? = nil) -> GRPCServer<HTTP2ServerTransport.Posix> {
        let security: HTTP2ServerTransport.Posix.TransportSecurity =
            if let tls {
                .tls(certificateChain: [.file(path: tls.certificateChain, format: .pem)], privateKey: .file(path: tls.privateKey, format: .pem))
            } else {
                .plaintext
            }
        return GRPCServer(
            transport: .http2NIOPosix(address: .ipv4(host: host, port: port), transportSecurity: security),
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
