import EventStore
import Foundation
import PostgresStore
import Testing

/// The canary release entirely through gRPC, from a Python client whose stubs grpcio-tools generates
/// from our .proto files (an independent toolchain), against `triton serve` with bearer tokens: over TLS
/// (as a deployment with `--tls-cert` serves it), and a few calls in plaintext (the local default).
@Suite("gRPC API from an independently generated client", .serialized, .timeLimit(.minutes(4)))
struct GRPCClientTests {
    /// One venv with grpcio and grpcio-tools for the suite's runs.
    static let venv = FileManager.default.temporaryDirectory.appendingPathComponent("triton-grpc-venv-\(getpid())").path

    func serveAndRun(tls: Bool, _ clientArguments: [String]) async throws {
        let w = try ServeTests.Workspace()
        let tokens = w.directory.appendingPathComponent("tokens.json")
        try Data(
            """
            {"tokens": [{"token": "viewer-token-1", "user": "vera", "roles": ["viewer"]},
                        {"token": "deployer-token-1", "user": "dave", "roles": ["deployer"]},
                        {"token": "approver-token-1", "user": "anna", "roles": ["approver"]}]}
            """.utf8
        ).write(to: tokens)
        var extra = ["--tokens-file", tokens.path]
        var arguments = clientArguments
        if tls {
            let (cert, key) = try await w.selfSignedCertificate()
            extra += ["--tls-cert", cert, "--tls-key", key]
            arguments += ["--ca", cert]
        }
        let serve = try await w.serve(extra: extra)
        try await serve.waitFor("gRPC API: 127.0.0.1:")
        let line = try #require(serve.output.split(separator: "\n").first { $0.hasPrefix("gRPC API: ") })
        #expect(line.contains("(TLS)") == tls, "\(line)")
        let port = try #require(line.components(separatedBy: "127.0.0.1:").last?.prefix { $0.isNumber })
        let client = try await CLITests.run(
            URL(fileURLWithPath: "/bin/bash"),
            [ManifestTests.root.appendingPathComponent("ops/grpc-python-client.sh").path, "127.0.0.1:\(port)"] + arguments,
            environment: ["TRITON_PY_VENV": Self.venv]
        )
        #expect(client.status == 0, "\(client.stdout)\n\(client.stderr)\n\(serve.output.suffix(3000))")
        #expect(client.stdout.hasSuffix("PASS\n"), "\(client.stdout)")
        #expect(try await serve.stop(SIGTERM) == 0)
    }

    @Test func canaryReleaseThroughGRPCOverTLSFromPython() async throws {
        try await self.serveAndRun(tls: true, [])
    }

    @Test func plaintextCallsFromPython() async throws {
        try await self.serveAndRun(tls: false, ["--smoke"])
    }
}

/// Fuzzing the REST API from its OpenAPI document (schemathesis, bounded time): no 5xx, the server
/// still runs, no rejected request wrote anything, and the log it leaves is whole (hash chains verify,
/// projections rebuild identically).
@Suite("REST API fuzzing", .timeLimit(.minutes(5)))
struct FuzzTests {
    struct Responses: Decodable {
        struct Response: Decodable {
            var method: String
            var path: String
            var status: Int
            var requestID: String?
        }
        var responses: [Response]
    }

    @Test func noServerErrorsNothingWrittenByARejectedRequestAndAWholeLog() async throws {
        let w = try ServeTests.Workspace()
        let serve = try await w.serve()
        try await serve.waitFor("REST API: http://127.0.0.1:")
        let line = try #require(serve.output.split(separator: "\n").first { $0.hasPrefix("REST API: ") })
        let port = try #require(line.components(separatedBy: "127.0.0.1:").dropFirst().first?.prefix { $0.isNumber })
        let responsesFile = w.directory.appendingPathComponent("responses.json")
        let fuzz = try await CLITests.run(
            URL(fileURLWithPath: "/bin/bash"),
            [ManifestTests.root.appendingPathComponent("ops/fuzz-api.sh").path, "http://127.0.0.1:\(port)", "30", responsesFile.path]
        )
        #expect(fuzz.status == 0, "\(fuzz.stdout.suffix(4000))\n\(fuzz.stderr.suffix(2000))")
        #expect(fuzz.stdout.contains("OK"))
        #expect(serve.isRunning, "\(serve.output.suffix(2000))")
        // Nothing the fuzzer sent made the engine's projector or runner fail (they would retry, not stop).
        #expect(!serve.output.contains(" failed: "), "\(serve.output.suffix(3000))")
        let audit = try await w.triton(["audit", "verify", "--database-url", try CLITests.databaseURL(), "--schema", w.schema])
        #expect(audit.status == 0, "\(audit.stdout)\(audit.stderr)")
        let rebuild = try await w.triton(["projections", "rebuild", "--database-url", try CLITests.databaseURL(), "--schema", w.schema])
        #expect(rebuild.status == 0, "\(rebuild.stdout)\(rebuild.stderr)")
        #expect(try await serve.stop(SIGTERM) == 0)

        // Every event an API request appended belongs to a request that was answered 2xx. (Each reply
        // carries the X-Request-ID its events record; schemathesis' report has every reply.)
        let responses = try JSONDecoder().decode(Responses.self, from: Data(contentsOf: responsesFile)).responses
        #expect(responses.allSatisfy { $0.requestID != nil }, "every reply names its request")
        let byID = Dictionary(grouping: responses.filter { $0.requestID != nil }, by: { $0.requestID! })
        let rejected = responses.filter { $0.status >= 400 }
        #expect(rejected.count > 50, "the fuzzer's requests were mostly refused: \(rejected.count) of \(responses.count)")
        let store = try PostgresEventStore(configuration: .init(url: try CLITests.databaseURL(), schema: w.schema, poolSize: 1))
        defer { store.shutdown() }
        var fromRequests = 0
        for event in try await store.readAll(after: .start, limit: 1_000_000) {
            let metadata = try #require(try JSONSerialization.jsonObject(with: Data(event.metadata.utf8)) as? [String: Any])
            guard metadata["source"] as? String == "api" else { continue }
            fromRequests += 1
            let id = metadata["requestID"] as? String ?? "-"
            let answers = byID[id] ?? []
            #expect(!answers.isEmpty, "\(event.type) in \(event.streamID) from request \(id), which the fuzzer did not make")
            for answer in answers where answer.status >= 300 {
                Issue.record("\(answer.method) \(answer.path) was answered \(answer.status) but wrote \(event.type) to \(event.streamID)")
            }
        }
        print("fuzz: \(responses.count) requests, \(rejected.count) refused, \(fromRequests) events from accepted requests")
    }
}
