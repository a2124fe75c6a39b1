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

    /// What a streamed response delivers: its status and headers once, then body chunks.
    public enum Chunk: Sendable {
        case head(status: Int, headers: [String: String])
        case body(Data)
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
    public func stream(_ method: String, _ url: String, headers: [(name: String, value: String)] = []) -> AsyncThrowingStream<Chunk, any Error> {
        var request = HTTPRequest(method: method, url: url, headers: headers, body: nil, timeout: nil)
        request.tls = self.tls
        let events = self.transport.stream(request)
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Chunk.self)
        let task = Task {
            do {
                for try await event in events {
                    switch event {
                    case .head(let status, let headers): continuation.yield(.head(status: status, headers: headers))
                    case .body(let data): continuation.yield(.body(data))
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Aborts requests in flight; later requests fail.
    public func shutdown() { self.transport.shutdown() }
}
