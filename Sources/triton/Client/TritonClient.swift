import Foundation
import KubeClient
import TritonProjections

/// The CLI's client of the REST API of `triton serve`: every intent and every read of the flow and
/// instance commands goes through it, so the server decides who the caller is and what it may do.
/// A refusal comes back as a ``CLIError`` with the server's code, field, message and rule.
struct TritonClient: Sendable {
    /// The API's base URL, without a trailing slash.
    let server: String
    /// The bearer token (from the context's token file); none in open mode.
    let token: String?
    /// Which context the settings came from, for messages (`nil` for flags only).
    let contextName: String?
    let http: CurlHTTPClient

    init(server: String, token: String?, contextName: String?, tls: KubeClient.TLS) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.token = token
        self.contextName = contextName
        self.http = CurlHTTPClient(tls: tls)
    }

    func shutdown() { self.http.shutdown() }

    /// One path segment, percent-encoded.
    static func escape(_ segment: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#")
        return segment.addingPercentEncoding(withAllowedCharacters: allowed) ?? segment
    }

    /// The path of a flow (`/api/v1/namespaces/{namespace}/deployflows/{id}`), its namespace from the flow list.
    static func flowPath(_ status: FlowStatus) -> String {
        "/api/v1/namespaces/\(Self.escape(status.namespace))/deployflows/\(Self.escape(status.name))"
    }

    private var headers: [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = [("Accept", "application/json"), ("X-Triton-Client", "cli")]
        if let token = self.token {
            headers.append(("Authorization", "Bearer \(token)"))
        } else {
            // Open mode (the local demo) names the caller by this header; with tokens the server ignores it.
            let environment = ProcessInfo.processInfo.environment
            headers.append(("X-Triton-User", environment["TRITON_ACTOR"] ?? environment["USER"] ?? "cli"))
        }
        return headers
    }

    /// `GET`, `POST`, `DELETE` a path under the server, answering the body of a 2xx reply.
    func request(_ method: String, _ path: String, body: Data? = nil) async throws -> Data {
        var headers = self.headers
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let response: CurlHTTPClient.Response
        do {
            response = try await self.http.send(method, self.server + path, headers: headers, body: body)
        } catch let error as KubeError {
            throw self.unreachable(error)
        }
        guard (200..<300).contains(response.status) else { throw self.refusal(response.status, response.body) }
        return response.body
    }

    func get<T: Decodable>(_ type: T.Type, _ path: String) async throws -> T {
        try Self.decode(type, try await self.request("GET", path))
    }

    func send<T: Decodable>(_ type: T.Type, _ method: String, _ path: String, body: some Encodable) async throws -> T {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try Self.decode(type, try await self.request(method, path, body: try encoder.encode(body)))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        do {
            return try FlowStatus.makeDecoder().decode(type, from: data)
        } catch {
            throw CLIError(code: "badReply", field: nil, message: "the server's reply is not what this CLI reads (\(error))")
        }
    }

    /// Server-Sent Events of a path: each event's `data` as it arrives. Ends when the server ends it.
    /// `lastEventID` resumes after a frame seen before (the server's ids are log positions).
    func events(_ path: String, lastEventID: Int64? = nil) -> AsyncThrowingStream<Data, any Error> {
        var headers = self.headers
        headers.append(("Accept", "text/event-stream"))
        if let lastEventID { headers.append(("Last-Event-ID", String(lastEventID))) }
        return self.frames(path, headers: headers) { buffer, yield in
            while let end = buffer.range(of: Data("\n\n".utf8)) {
                let block = String(decoding: buffer[buffer.startIndex..<end.lowerBound], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex..<end.upperBound)
                let lines = block.split(separator: "\n").filter { $0.hasPrefix("data:") }
                guard !lines.isEmpty else { continue }
                yield(Data(lines.map { $0.dropFirst("data:".count).drop { $0 == " " } }.joined(separator: "\n").utf8))
            }
        }
    }

    /// The lines of a streamed reply (JSON lines), each as it arrives.
    func lines(_ path: String) -> AsyncThrowingStream<Data, any Error> {
        self.frames(path, headers: self.headers, yieldsRest: true) { buffer, yield in
            while let end = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<end]
                if !line.isEmpty { yield(Data(line)) }
                buffer.removeSubrange(buffer.startIndex...end)
            }
        }
    }

    /// A streamed `GET` cut into frames as its body arrives: `cut` takes the complete frames off the
    /// front of the buffer and yields each; with `yieldsRest`, what is left when the reply ends is a
    /// last frame. A reply that is not 2xx ends the stream with the server's refusal.
    private func frames(
        _ path: String, headers: [(String, String)], yieldsRest: Bool = false,
        cut: @escaping @Sendable (inout Data, (Data) -> Void) -> Void
    ) -> AsyncThrowingStream<Data, any Error> {
        let chunks = self.http.stream("GET", self.server + path, headers: headers)
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Data.self)
        let client = self
        let task = Task {
            var status = 0
            var buffer = Data()
            var errorBody = Data()
            do {
                for try await chunk in chunks {
                    switch chunk {
                    case .head(let code, _): status = code
                    case .body(let data) where !(200..<300).contains(status): errorBody.append(data)
                    case .body(let data):
                        buffer.append(data)
                        cut(&buffer) { continuation.yield($0) }
                    }
                }
                if !(200..<300).contains(status) { throw client.refusal(status, errorBody) }
                if yieldsRest, !buffer.isEmpty { continuation.yield(buffer) }
                continuation.finish()
            } catch let error as KubeError {
                continuation.finish(throwing: client.unreachable(error))
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// A reply that is not 2xx: the API's `{"code","field","message","rule"}`, with a hint when the
    /// server wants a token.
    func refusal(_ status: Int, _ body: Data) -> CLIError {
        struct Body: Decodable {
            var code: String
            var field: String?
            var message: String
            var rule: String?
        }
        guard let reply = try? JSONDecoder().decode(Body.self, from: body) else {
            return CLIError(code: "http\(status)", field: nil, message: "the server answered \(status): \(String(decoding: body.prefix(300), as: UTF8.self))")
        }
        var error = CLIError(code: reply.code, field: reply.field, message: reply.message, rule: reply.rule)
        if status == 401 {
            error.message += " — log in: triton login --server \(self.server) --token-file <file>"
        }
        return error
    }

    func unreachable(_ error: KubeError) -> CLIError {
        let context = self.contextName.map { " (context \($0))" } ?? ""
        return CLIError(
            code: "unreachable", field: nil,
            message: "cannot reach the Triton API at \(self.server)\(context): \(error.message) — is `triton serve` running?"
        )
    }
}
