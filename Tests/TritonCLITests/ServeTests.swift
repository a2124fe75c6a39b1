import EventStore
import Foundation
import PostgresStore
import Testing

/// `triton serve` with the CLI, as a person follows the README: the article's canary release by hand.
@Suite("triton serve and the flow CLI", .timeLimit(.minutes(5)))
struct ServeTests {
    struct Workspace {
        let directory: URL
        let schema: String
        var stateFile: String { self.directory.appendingPathComponent("serve.json").path }
        var configFile: String { self.directory.appendingPathComponent("config.json").path }
        var environment: [String: String] {
            ["TRITON_SERVE_STATE": self.stateFile, "TRITON_ACTOR": "alice", "TRITON_CONFIG": self.configFile]
        }

        init(schema: String = CLITests.freshSchema()) throws {
            self.schema = schema
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

    @Test func benchFiguresPrintsTritonsSideOfThePeerComparison() async throws {
        let url = try CLITests.databaseURL()
        // A transaction open elsewhere on the server (here for 2 s, from before the benchmark writes)
        // holds back every global read: the figures must still read all 15 events, not stop short.
        let other = try PostgresEventStore(configuration: .init(url: url, schema: CLITests.freshSchema(), poolSize: 1))
        defer { other.shutdown() }
        let holding = Task {
            try await other.withTransaction { tx in
                _ = try await tx.query("SELECT pg_current_xact_id()::text")
                try await Task.sleep(for: .seconds(2))
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        let result = try await CLITests.triton([
            "bench", "figures", "--database-url", url, "--writers", "1,2", "--seconds", "0.2", "--streams", "3", "--events-per-stream", "5",
            "--output", "json",
        ])
        try await holding.value
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let appends = report?["appends"] as? [[String: Any]] ?? []
        #expect(appends.map { $0["writers"] as? Int } == [1, 2] && appends.allSatisfy { ($0["eventsPerSecond"] as? Double ?? 0) > 0 }, "\(result.stdout)")
        #expect(report?["readEvents"] as? Int == 15, "the 3 flow streams of 5 events, decoded: \(result.stdout)")
        #expect((report?["globalReadEventsPerSecond"] as? Double ?? 0) > 0 && (report?["foldEventsPerSecond"] as? Double ?? 0) > 0)
        let bad = try await CLITests.triton(["bench", "figures", "--database-url", url, "--writers", "1,x"])
        #expect(bad.status != 0 && bad.stderr.contains("--writers"), "\(bad.stderr)")
    }

    @Test func anEntryOfFlowsThatIsNotANumberIsRefused() async throws {
        let result = try await CLITests.triton(["bench", "engine", "--database-url", try CLITests.databaseURL(), "--flows", "3,1k"])
        #expect(result.status != 0 && result.stderr.contains("--flows"), "\(result.stderr)")
    }
}
