import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOSSL
import ServiceLifecycle
import TritonAPI

extension TritonServer {
    /// The REST API: HTTP/1.1, or over TLS HTTP/2 and HTTP/1.1 by ALPN.
    static func restApplication(
        _ api: TritonAPI, _ configuration: Configuration, authenticator: Authenticator, logger: Logger, output: Output,
        onListening: @escaping @Sendable (String) -> Void
    ) throws -> any ServiceLifecycle.Service {
        var server = HTTPServerBuilder.http1()
        if let files = configuration.tls {
            let chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain).map { NIOSSLCertificateSource.certificate($0) }
            let tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: files.privateKey, format: .pem))
            )
            server = try .http2Upgrade(tlsConfiguration: tls)
        }
        let host = configuration.host
        let secure = configuration.tls != nil
        return Application(
            router: api.router(),
            server: server,
            configuration: .init(address: .hostname(host, port: configuration.httpPort), serverName: "triton"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let scheme = secure ? "https" : "http"
                let protocols = secure ? " (TLS; HTTP/2 and HTTP/1.1)" : ""
                let open = authenticator.isOpen ? " (open: no --tokens-file, every caller is an admin)" : ""
                output.info("REST API: \(scheme)://\(host):\(port)/api/v1\(protocols)\(open)")
                // A wildcard address is reached on loopback from this machine.
                let reachable = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : (host.contains(":") ? "[\(host)]" : host)
                onListening("\(scheme)://\(reachable):\(port)")
            },
            logger: logger
        )
    }

    static func grpcService(_ api: TritonAPI, _ configuration: Configuration, output: Output) -> any ServiceLifecycle.Service {
        let host = configuration.host
        let secure = configuration.tls != nil
        return GRPCService(server: api.grpcServer(host: host, port: configuration.grpcPort, tls: configuration.tls)) { port in
            output.info("gRPC API: \(host):\(port)\(secure ? " (TLS)" : "") (deployflow.DeployFlow, application.Application, pod.Pod)")
        }
    }
}
