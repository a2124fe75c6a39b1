import EventStore
import Foundation
import PostgresStore
import Testing

/// The REST API over TLS speaks HTTP/2 and HTTP/1.1 (ALPN) on one port: the same routes, replies and
/// errors over both, checked with curl.
@Suite("REST API over HTTP/2 and HTTP/1.1", .timeLimit(.minutes(3)))
struct HTTP2Tests {
    /// Every route of the REST API over both protocols, each answer checked for the protocol it came over,
    /// its status and its body's shape.
    @Test func everyRouteOverHTTP2AndHTTP11() async throws {
        let w = try ServeTests.Workspace()
        let (cert, key) = try await w.selfSignedCertificate()
        let serve = try await w.serve(extra: ["--tls-cert", cert, "--tls-key", key])
        try await serve.waitFor("REST API: https://127.0.0.1:")
        let line = try #require(serve.output.split(separator: "\n").first { $0.hasPrefix("REST API: ") })
        let port = try #require(line.components(separatedBy: "127.0.0.1:").dropFirst().first?.prefix { $0.isNumber })
        let root = "https://127.0.0.1:\(port)"
        let base = "\(root)/api/v1/namespaces/prod"
        for (flag, version) in [("--http2", "2"), ("--http1.1", "1.1")] {
            let instance = version == "2" ? "web-h2" : "web-h1"
            /// Calls the route and checks the protocol and the status; returns the body as JSON when it is an object.
            @discardableResult
            func call(
                _ method: String, _ path: String, _ body: String? = nil, _ expected: Int, extra: [String] = [],
                sourceLocation: SourceLocation = #_sourceLocation
            ) async throws -> [String: Any] {
                var arguments = ["-s", "--cacert", cert, flag, "-X", method, "-H", "Content-Type: application/json",
                                 "-H", "X-Triton-Reason: route check", "-w", "\n%{http_version} %{http_code}"] + extra
                if let body { arguments += ["-d", body] }
                let result = try await CLITests.run(URL(fileURLWithPath: "/usr/bin/curl"), arguments + [["/healthz", "/readyz", "/api/"].contains { path.hasPrefix($0) } ? root + path : base + path])
                let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
                let last = (lines.last ?? "").split(separator: " ")
                let text = lines.dropLast().joined(separator: "\n")
                #expect(String(last.first ?? "") == version, "\(method) \(path) over \(flag): \(result.stdout)", sourceLocation: sourceLocation)
                #expect(Int(last.last ?? "") == expected, "\(method) \(path) over \(flag): \(text)", sourceLocation: sourceLocation)
                let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
                if expected >= 400 {
                    #expect(json["code"] is String && json["message"] is String, "\(method) \(path): \(text)", sourceLocation: sourceLocation)
                }
                return json.isEmpty ? ["text": text] : json
            }
            func waitFinished(_ name: String) async throws -> [String: Any] {
                for _ in 0..<300 {
                    let flow = try await call("GET", "/deployflows/\(name)", nil, 200)
                    if flow["finished"] as? Bool == true { return flow }
                    try await Task.sleep(for: .milliseconds(100))
                }
                Issue.record("flow \(name) did not finish")
                throw CancellationError()
            }

            try await call("GET", "/healthz", nil, 200)
            try await call("GET", "/readyz", nil, 200)
            #expect(try await call("GET", "/api/v1/openapi.json", nil, 200)["openapi"] as? String == "3.1.0")
            let created = try await call(
                "POST", "/deployflows", #"{"applicationSpec": {"instanceName": "\#(instance)", "image": "nginx:1", "replicas": 2}, "updateStrategy": {"mode": "auto"}}"#,
                201, extra: ["-H", "Idempotency-Key: create-\(instance)"])
            let name = try #require(created["name"] as? String)
            #expect(try await waitFinished(name)["phase"] as? String == "Success")
            let listed = try await call("GET", "/deployflows?instanceName=\(instance)", nil, 200)
            #expect((listed["deploys"] as? [[String: Any]])?.count == 1)
            #expect(((try await call("GET", "/deployflows/\(name)/history", nil, 200))["events"] as? [Any])?.isEmpty == false)
            let sse = try await call("GET", "/deployflows/\(name)/watch", nil, 200, extra: ["-N", "--max-time", "10"])
            #expect((sse["text"] as? String)?.contains("event: deploy") == true, "\(sse)")
            try await call("DELETE", "/deployflows/\(name)", nil, 409)

            // A manual scale-out: the intents and PATCH on a running flow.
            let scale = try await call("POST", "/instances/\(instance)/scales", #"{"replicas": 6, "strategy": {"batchSize": 1, "mode": "manual"}}"#, 201)
            let scaleName = try #require(scale["deployName"] as? String)
            try await call("POST", "/deployflows/\(scaleName)/pause", #"{"reason": "hold"}"#, 200)
            try await call("POST", "/deployflows/\(scaleName)/next", "{}", 409)
            try await call("PATCH", "/deployflows/\(scaleName)", #"{"paused": false}"#, 200)
            try await call("POST", "/deployflows/\(scaleName)/resume", "{}", 409)
            // To the last of its 4 batches (never finished by then, whatever the machine's load).
            try await call("POST", "/deployflows/\(scaleName)/continue", #"{"batches": 4}"#, 200)
            try await call("POST", "/deployflows/\(scaleName)/cancel", #"{"reason": "enough"}"#, 200)
            #expect(try await waitFinished(scaleName)["phase"] as? String == "Canceled")
            try await call("PATCH", "/deployflows/\(scaleName)", #"{"canceled": true}"#, 409)

            // The instance routes.
            try await call("POST", "/instances/\(instance)/restarts", #"{"strategy": {"podsToDelete": ["not-a-pod"]}}"#, 422)
            try await call("POST", "/instances/\(instance)/rollbacks", "{}", 422)
            #expect((try await call("GET", "/instances", nil, 200))["instances"] is [Any])
            #expect(try await call("GET", "/instances/\(instance)", nil, 200)["name"] as? String == instance)
            #expect(try await call("DELETE", "/instances/\(instance)", nil, 202)["status"] as? String == "Deleting")
            try await call("GET", "/deployflows/nope", nil, 404)
            try await call("POST", "/deployflows", "{", 400)
        }
        #expect(try await serve.stop(SIGTERM) == 0)
    }
}
