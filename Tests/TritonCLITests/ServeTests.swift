import EventStore
import Foundation
import PostgresStore
import Testing

/// `triton serve` with the CLI, as a person follows the README: the article's canary release by hand.
@Suite("triton serve and the flow CLI", .timeLimit(.minutes(5)))
struct ServeTests {
    struct Workspace {
        let directory: URL
        let schema = CLITests.freshSchema()
        var stateFile: String { self.directory.appendingPathComponent("serve.json").path }
        var environment: [String: String] { ["TRITON_SERVE_STATE": self.stateFile, "TRITON_ACTOR": "alice"] }

        init() throws {
            self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("triton-serve-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        }

        func log(_ name: String) -> String { self.directory.appendingPathComponent(name).path }

        /// `triton serve` on the test database and the in-process simulated cluster.
        func serve(timeScale: Int = 20, extra: [String] = []) async throws -> BackgroundProcess {
            let serve = try BackgroundProcess(
                [
                    "serve", "--database-url", try CLITests.databaseURL(), "--schema", self.schema, "--sim-port", "0",
                    "--time-scale", "\(timeScale)", "--tick-ms", "50", "--state-file", self.stateFile,
                    "--http-port", "0", "--grpc-port", "0",
                ] + extra,
                environment: self.environment, log: self.log("serve.log")
            )
            try await serve.waitFor("triton serve running")
            return serve
        }

        func triton(_ arguments: [String]) async throws -> CLITests.Result {
            try await CLITests.triton(arguments, environment: self.environment)
        }

        /// Creates `instance` in prod (2 pods, batches of 1, manual) and returns the flow's id once it waits
        /// for `next` on its first batch.
        func createWaiting(_ instance: String) async throws -> String {
            let create = try await self.triton([
                "flow", "create", "-n", "prod", "--instance", instance, "--image", "shop/\(instance):v1", "--replicas", "2", "--batch-size", "1",
            ])
            try #require(create.status == 0, "\(create.stderr)")
            let id = create.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            try #require(try await self.triton(["flow", "watch", id, "--until-waiting"]).status == 0)
            return id
        }

        /// A self-signed certificate for 127.0.0.1 and localhost, and its key: PEM file paths.
        func selfSignedCertificate() async throws -> (cert: String, key: String) {
            let cert = self.directory.appendingPathComponent("cert.pem").path
            let key = self.directory.appendingPathComponent("key.pem").path
            let openssl = try await CLITests.run(
                URL(fileURLWithPath: "/usr/bin/openssl"),
                ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                 "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
            )
            try #require(openssl.status == 0, "\(openssl.stderr)")
            return (cert, key)
        }
    }

    @Test("triton instance delete: refused while a flow runs; then the engine deletes the CloneSet; the name is free again")
    func deleteAnInstance() async throws {
        let w = try Workspace()
        let serve = try await w.serve()
        // The first batch waits for `next`: the CloneSet exists and the flow holds the instance.
        let id = try await w.createWaiting("cart")
        let busy = try await w.triton(["instance", "delete", "-n", "prod", "--instance", "cart", "--output", "json"])
        #expect(busy.status == 1 && busy.stdout.contains("\"activeFlowExists\""), "\(busy.stdout)\(busy.stderr)")
        #expect(try await w.triton(["flow", "cancel", id, "--reason", "changed my mind"]).status == 0)
        let listed = try await w.triton(["instance", "list", "-n", "prod"])
        #expect(listed.status == 0 && listed.stdout.contains("cart") && listed.stdout.contains("STATUS"), "\(listed.stdout)\(listed.stderr)")

        let deleted = try await w.triton([
            "instance", "delete", "-n", "prod", "--instance", "cart", "--reason", "retired", "--wait", "--output", "json",
        ])
        #expect(deleted.status == 0, "\(deleted.stdout)\(deleted.stderr)\n\(serve.output.suffix(2000))")
        let report = try JSONSerialization.jsonObject(with: Data(deleted.stdout.utf8)) as? [String: Any]
        #expect(report?["status"] as? String == "Deleted" && report?["deletedAt"] != nil, "\(deleted.stdout)")
        let afterwards = try await w.triton(["instance", "list", "-n", "prod", "--output", "json"])
        let remaining = try JSONSerialization.jsonObject(with: Data(afterwards.stdout.utf8)) as? [Any]
        #expect(afterwards.status == 0 && remaining?.isEmpty == true, "a deleted instance is not listed: \(afterwards.stdout)")
        let again = try await w.triton(["instance", "delete", "-n", "prod", "--instance", "cart"])
        #expect(again.status != 0 && again.stderr.contains("has no CloneSet"), "\(again.stdout)\(again.stderr)")
        let recreate = try await w.triton([
            "flow", "create", "-n", "prod", "--instance", "cart", "--image", "shop/cart:v2", "--replicas", "1", "--mode", "auto", "--watch",
        ])
        #expect(recreate.status == 0 && recreate.stdout.contains("Success"), "\(recreate.stdout)\(recreate.stderr)")
        #expect(try await serve.stop(SIGTERM) == 0)
    }

    @Test("the database drops serve's connections mid-release: serve keeps running and finishes the release")
    func survivesLostDatabaseConnections() async throws {
        let w = try Workspace()
        let serve = try await w.serve()
        let id = try await w.createWaiting("orders")

        // Every connection serve holds (pool, ownership locks, wake-ups) is cut by the server.
        let store = try PostgresEventStore(configuration: .init(url: try CLITests.databaseURL(), schema: w.schema, poolSize: 1))
        defer { store.shutdown() }
        let cut = try await store.withTransaction { tx in
            try await tx.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", ["triton serve \(w.schema)"]
            )
        }
        #expect(!cut.isEmpty)

        let finished = try await w.triton(["flow", "continue", id, "--reason", "after the outage", "--watch"])
        #expect(finished.status == 0 && finished.stdout.contains("Success"), "\(finished.stdout)\(finished.stderr)\n\(serve.output.suffix(3000))")
        #expect(serve.isRunning)
        // The runner lost its connection with the others and said so; it tried again instead of stopping serve.
        #expect(serve.output.contains("flow runner failed") || serve.output.contains("connection lost"), "\(serve.output.suffix(2000))")
        #expect(try await serve.stop(SIGTERM) == 0)
    }

    @Test("scenario 1 by hand: create, then canary 1 + batches of 3 with next at each stop; Success with 10 v2 pods")
    func canaryReleaseByHand() async throws {
        let w = try Workspace()
        let serve = try await w.serve()
        #expect(FileManager.default.fileExists(atPath: w.stateFile))

        let create = try await w.triton([
            "flow", "create", "-n", "prod", "--instance", "checkout", "--image", "shop/checkout:v1", "--replicas", "10",
            "--batch-size", "10", "--mode", "auto", "--reason", "first release", "--watch",
        ])
        #expect(create.status == 0, "\(create.stderr)\n\(serve.output)")
        #expect(create.stdout.split(separator: "\n").last?.contains("Success") == true, "\(create.stdout)")

        let update = try await w.triton([
            "flow", "update", "-n", "prod", "--instance", "checkout", "--image", "shop/checkout:v2", "--canary", "1",
            "--batch-size", "3", "--reason", "release v2",
        ])
        #expect(update.status == 0, "\(update.stderr)")
        let id = update.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(update.stderr.contains("batches 1 (canary), 3, 3, 3"), "\(update.stderr)")

        // The canary stops at Smoked, out of traffic, until `next`.
        let canary = try await w.triton(["flow", "watch", id, "--until-waiting"])
        #expect(canary.stdout.split(separator: "\n").last?.contains("batch 1/4 canary Smoked") == true, "\(canary.stdout)")
        #expect(canary.stdout.contains("waiting: `next` pulls batch 1 into traffic"))

        // Each `next` moves it one stop on; the CLI prints the progress as it goes.
        var stops = 0
        var last = ""
        while !last.contains("Success") {
            stops += 1
            try #require(stops <= 12, "no Success after \(stops) nexts:\n\(last)")
            let next = try await w.triton(["flow", "next", id, "--reason", "looks healthy", "--watch"])
            #expect(next.status == 0, "\(next.stderr)")
            last = next.stdout
        }
        #expect(stops == 4)  // pull the canary in, then start each of the 3 batches (pulled in once smoked)
        #expect(last.contains("finished 10/10"))

        let get = try await w.triton(["flow", "get", id, "--output", "json"])
        let status = try JSONSerialization.jsonObject(with: Data(get.stdout.utf8)) as? [String: Any]
        #expect(status?["phase"] as? String == "Success")
        #expect(status?["finishedReplicas"] as? Int == 10)
        #expect(status?["finishedBatches"] as? Int == 4)

        let pods = try await w.triton(["kube", "get", "pods", "-n", "prod"])
        let running = pods.stdout.split(separator: "\n").dropFirst().filter { $0.contains("Running") }
        #expect(running.count == 10, "\(pods.stdout)")

        // Intents are refused with the field and the reason, and nothing is written.
        let again = try await w.triton(["flow", "next", id])
        #expect(again.status != 0)
        #expect(again.stderr.contains("finished"), "\(again.stderr)")
        let missing = try await w.triton(["flow", "update", "-n", "prod", "--instance", "nope", "--image", "x", "--output", "json"])
        #expect(missing.status == 1)
        let error = try JSONSerialization.jsonObject(with: Data(missing.stdout.utf8)) as? [String: Any]
        #expect(error?["field"] as? String == "instance", "\(missing.stdout)")

        // The list shows both flows, finished.
        let list = try await w.triton(["flow", "list", "--output", "json"])
        let flows = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(flows.count == 2 && flows.allSatisfy { $0["phase"] as? String == "Success" }, "\(list.stdout)")

        #expect(try await serve.stop(SIGTERM) == 0, "\(serve.output)")
        #expect(serve.output.contains("triton serve: stopped"))
        #expect(!FileManager.default.fileExists(atPath: w.stateFile))
    }
}

@Suite("triton bench engine")
struct BenchEngineTests {
    @Test func printsEveryFigure() async throws {
        let result = try await CLITests.triton([
            "bench", "engine", "--database-url", try CLITests.databaseURL(), "--flows", "3,5", "--pods", "2", "--output", "json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let cases = report?["cases"] as? [[String: Any]] ?? []
        #expect(cases.map { $0["flows"] as? Int } == [3, 5])
        for figure in ["flowsPerSecond", "intentToEventP50Ms", "intentToEventP99Ms", "projectionLagP50Ms", "projectionLagP99Ms"] {
            #expect(cases.allSatisfy { ($0[figure] as? Double).map { $0 >= 0 } == true }, "\(figure): \(result.stdout)")
        }
        #expect(cases.allSatisfy { ($0["flowsPerSecond"] as? Double ?? 0) > 0 })
        #expect((report?["peakMemoryMB"] as? Double ?? 0) > 0)
        // Progress on standard error names each case as it starts.
        #expect(result.stderr.contains("3 flows ×") && result.stderr.contains("5 flows ×"), "\(result.stderr)")
    }
}

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
