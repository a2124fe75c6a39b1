import Foundation

/// Plain HTTP over the same libcurl transport the Kubernetes client uses, for other JSON APIs (the
/// Triton CLI talks to `triton serve` with it): buffered requests and streamed responses (Server-Sent
/// Events), with TLS settings as for a cluster. Transport failures are ``KubeError`` with code
/// `.transport` (or `.timeout`); an HTTP status is returned, never thrown.
public final class CurlHTTPClient: Sendable {
    public struct Response: Sendable {
        public var status: Int
        /// Header names lower-cased.
        public var headers: [String: String]
        public var body: Data
    }

    private let transport = CurlTransport()
    private let tls: KubeClient.TLS

    public init(tls: KubeClient.TLS = KubeClient.TLS()) {
        self.tls = tls
    }

    deinit { self.transport.shutdown() }

    /// Sends a request and reads the whole response.
    public func send(
        _ method: String, _ url: String, headers: [(name: String, value: String)] = [], body: Data? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> Response {
        var request = HTTPRequest(method: method, url: url, headers: headers, body: body, timeout: timeout)
        request.tls = self.tls
        let response = try await self.transport.perform(request)
        return Response(status: response.status, headers: response.headers, body: response.body)
    }

    /// Sends a request and streams the response as it arrives (no overall timeout). Ending the iteration
    /// aborts the transfer.
    public func stream(_ method: String, _ url: String, headers: [(name: String, value: String)] = []) -> AsyncThrowingStream<TransferEvent, any Error> {
        var request = HTTPRequest(method: method, url: url, headers: headers, body: nil, timeout: nil)
        request.tls = self.tls
        return self.transport.stream(request)
    }

    /// Aborts requests in flight; later requests fail.
    public func shutdown() { self.transport.shutdown() }
}
