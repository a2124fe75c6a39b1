import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PostgresStore
import TritonEngine

extension TritonAPI {
    /// Runs a POST once per `Idempotency-Key` (per caller and path): a retry with the same key and body
    /// gets the first reply (`Idempotent-Replayed: true`), the same key with another body is a 422, and
    /// a retry while the first is still running waits for its reply.
    func idempotent(
        _ request: Request, _ context: APIContext, _ body: @escaping (Request, APIContext) async throws -> Response
    ) async throws -> Response {
        guard let key = request.headers[HTTPField.Name("Idempotency-Key")!] else { return try await body(request, context) }
        guard !key.isEmpty, key.count <= 255 else { throw APIError.badRequest("Idempotency-Key", "must be 1–255 characters") }
        let buffer = try await request.body.collect(upTo: 1 << 20)
        var replayable = request
        replayable.body = .init(buffer: buffer)
        let scope = "\(context.user.name) \(request.method.rawValue) \(request.uri.path)"
        let fingerprint = IdempotencyStore.fingerprint(buffer.readableBytesView)
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            switch try await self.idempotency.claim(scope: scope, key: key, fingerprint: fingerprint) {
            case .new:
                let response: Response
                do {
                    response = try await ErrorMiddleware<APIContext>().handle(replayable, context: context, next: body)
                } catch {
                    try? await self.idempotency.abandon(scope: scope, key: key)
                    throw error
                }
                guard response.status.code < 500 else {
                    try? await self.idempotency.abandon(scope: scope, key: key)
                    return response
                }
                var response2 = response
                let collected = try await Self.collect(&response2)
                try await self.idempotency.complete(scope: scope, key: key, status: response.status.code, body: collected)
                return response2
            case .replay(let status, let text):
                var headers = HTTPFields()
                headers[.contentType] = "application/json"
                headers[HTTPField.Name("Idempotent-Replayed")!] = "true"
                return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
            case .mismatch:
                throw APIError(
                    .unprocessableContent, code: "idempotencyKeyReused", field: "Idempotency-Key",
                    "this key was used with a different request body"
                )
            case .inProgress:
                guard ContinuousClock.now < deadline else {
                    throw APIError(.conflict, code: "inProgress", field: "Idempotency-Key", "the first request with this key is still running")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Reads a (small, in-memory) reply body and puts it back.
    static func collect(_ response: inout Response) async throws -> String {
        final class Sink: ResponseBodyWriter, @unchecked Sendable {
            var buffer = ByteBuffer()
            func write(_ buffer: ByteBuffer) async throws { self.buffer.writeImmutableBuffer(buffer) }
            func finish(_ trailingHeaders: HTTPFields?) async throws {}
        }
        let sink = Sink()
        try await response.body.write(sink)
        response.body = .init(byteBuffer: sink.buffer)
        return String(buffer: sink.buffer)
    }
}
