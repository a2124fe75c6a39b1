import EventStore
import Foundation
import Testing
import TritonTesting

@testable import PostgresStore

/// Runs the built `triton` executable as a person or a script would.
@Suite("triton CLI")
struct CLITests {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The test runner sits next to the executable in .build/<configuration>/.
    static let binary: URL = {
        if let path = ProcessInfo.processInfo.environment["TRITON_BINARY"] { return URL(fileURLWithPath: path) }
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        return runner.deletingLastPathComponent().appendingPathComponent("triton")
    }()

    static func databaseURL() throws -> String { try TestDatabase.url() }

    static func freshSchema() -> String { TestDatabase.schemaName(prefix: "cli") }

    @Test func migrateThenMigrateAgainIsANoOp() async throws {
        let url = try Self.databaseURL()
        let schema = Self.freshSchema()
        let first = try await Self.triton(["migrate", "--database-url", url, "--schema", schema])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("applied 0001_event_log, 0002_projections, 0003_idempotency, 0004_instance_deletion, 0005_seals, 0006_seal_key_rotation, 0007_append_streams, 0008_events_checks_in_the_append_paths to schema \(schema)"))
        let second = try await Self.triton(["migrate", "--database-url", url, "--schema", schema, "--output", "json"])
        #expect(second.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: [String]]
        #expect(json?["applied"] == [])
    }

    @Test func auditVerifyPassesThenNamesATamperedRow() async throws {
        let url = try Self.databaseURL()
        let schema = Self.freshSchema()
        let store = try PostgresEventStore(configuration: .init(url: url, schema: schema))
        defer { store.shutdown() }
        try await store.migrate()
        for stream in ["deployflow-a", "deployflow-b"] {
            _ = try await store.append(
                to: StreamID(stream), expectedVersion: .noStream,
                events: (1...3).map { NewEvent(type: "T", data: "{\"n\":\($0)}", metadata: "{\"actor\":\"t\"}") }
            )
        }
        let clean = try await Self.triton(["audit", "verify", "--database-url", url, "--schema", schema])
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(clean.stdout.contains("ok: the database") && clean.stdout.contains("6 in 2 streams, every stream's hash chain intact"), "\(clean.stdout)")

        try await store.pool.withConnection { connection in
            try await connection.execute(
                "SET session_replication_role = replica; UPDATE events SET metadata = '{\"actor\": \"mallory\"}' WHERE stream_id = 'deployflow-b' AND version = 2; SET session_replication_role = origin;"
            )
        }
        let broken = try await Self.triton(["audit", "verify", "--database-url", url, "--schema", schema])
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("stream deployflow-b at version 2: content does not match its hash"), "\(broken.stdout)")

        let json = try await Self.triton(["audit", "verify", "--database-url", url, "--schema", schema, "--output", "json"])
        #expect(json.status == 1)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["ok"] as? Bool == false)
        let failure = object?["failure"] as? [String: Any]
        #expect(failure?["check"] as? String == "chain" && failure?["stream"] as? String == "deployflow-b" && failure?["version"] as? Int == 2)
    }

    @Test func missingDatabaseURLIsAClearError() async throws {
        let result = try await Self.triton(["audit", "verify", "--database-url", ""])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--database-url"))
    }

    @Test func passwordIsNotPrintedWhenTheServerIsUnreachable() async throws {
        let result = try await Self.triton(["migrate", "--database-url", "postgresql://triton:hunter2@127.0.0.1:1/x?connect_timeout=2"])
        #expect(result.status != 0)
        #expect(!(result.stdout + result.stderr).contains("hunter2"))
        #expect((result.stdout + result.stderr).contains("********"))
    }

    @Test("a serve.json whose pid now belongs to another process (another start time) is ignored")
    func staleServeStateIsIgnored() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let stat = try String(contentsOfFile: "/proc/self/stat", encoding: .utf8)
        let fields = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
        let started = try #require(UInt64(fields[19]))
        func write(start: UInt64) throws {
            let state: [String: Any] = [
                "pid": Int(getpid()), "processStart": start, "databaseURL": "host=/nonexistent-triton-socket-dir port=1 dbname=x",
                "schema": "s",
            ]
            try JSONSerialization.data(withJSONObject: state).write(to: URL(fileURLWithPath: path))
        }
        let environment = ["TRITON_SERVE_STATE": path, "TRITON_DATABASE_URL": ""]
        try write(start: started + 1)
        let stale = try await Self.triton(["audit", "verify"], environment: environment)
        #expect(stale.status != 0 && stale.stderr.contains("--database-url: missing"), "\(stale.stderr)")
        try write(start: started)
        let live = try await Self.triton(["audit", "verify"], environment: environment)
        #expect(live.status != 0 && !live.stderr.contains("--database-url: missing"), "the file of a live serve is used: \(live.stderr)")
    }

    @Test func benchStorePrintsEveryFigure() async throws {
        let url = try Self.databaseURL()
        let result = try await Self.triton(["bench", "store", "--database-url", url, "--seconds", "0.2", "--read-events", "2000", "--output", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let rows = report?["rows"] as? [[String: Any]] ?? []
        #expect(rows.count == 10)
        #expect(rows.filter { $0["ratioToBareInsert"] != nil }.count == 8)
        // The headline cases alternate with bare INSERTs in rounds and give the rounds' range.
        let headline = rows.filter { $0["rounds"] != nil }
        #expect(headline.map { $0["writers"] as? Int } == [1, 8] && headline.allSatisfy { ($0["ratioRange"] as? [Double])?.count == 2 }, "\(headline)")
        #expect((report?["globalReadEvents"] as? Int ?? 0) >= 2000)
        #expect(result.stderr.contains("append, 8 writer(s)"))
        // Sealing's cost on appends, side by side (0.2 s is too short for a seal every 1,000 events).
        let sealing = report?["sealing"] as? [[String: Any]] ?? []
        #expect(sealing.map { $0["writers"] as? Int } == [1, 8] && sealing.allSatisfy { $0["cut"] is Double && $0["seals"] is Int }, "\(sealing)")
    }

    @Test func benchReportsPrintsEveryFigure() async throws {
        let result = try await Self.triton(["bench", "reports", "--database-url", try Self.databaseURL(), "--releases", "6", "--output", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
        #expect(report["releases"] as? Int == 6 && (report["recordsSeconds"] as? Double ?? 0) > 0 && (report["htmlBytes"] as? Int ?? 0) > 0, "\(report)")
        #expect(result.stderr.contains("building every release's compliance record"))
    }

    @Test func benchSealsPrintsEveryFigure() async throws {
        let result = try await Self.triton([
            "bench", "seals", "--database-url", try Self.databaseURL(), "--events", "3000", "--seal-every", "100", "--output", "json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
        for figure in [
            "leafAndTreeNanosPerEvent", "signMicrosPerSeal", "sealingNanosPerEvent", "verifyInMemoryEventsPerSecond", "databaseSealNanosPerEvent",
            "databaseVerifyEventsPerSecond", "exportEventsPerSecond", "bundleVerifyEventsPerSecond",
        ] {
            #expect((report[figure] as? Double ?? 0) > 0, "\(figure): \(report)")
        }
        #expect(report["events"] as? Int == 3000 && result.stderr.contains("verifying the bundle"))
    }

    @Test func demoRunsARealReleaseThenFlowsReadBackAndRebuild() async throws {
        let url = try Self.databaseURL()
        let schema = Self.freshSchema()
        let result = try await Self.triton(["demo", "--database-url", url, "--schema", schema, "--tick-ms", "0"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("canary Smoked"))
        #expect(result.stdout.contains("alice: next"))
        #expect(result.stdout.components(separatedBy: "replay from the log matches the live state").count == 3)
        #expect(result.stdout.contains("every hash chain intact") && result.stdout.contains("signature and root checked"), "\(result.stdout)")

        // The flows read back through the API of a `triton serve` on that log (the CLI reads no database).
        let w = try ServeTests.Workspace(schema: schema)
        let serve = try await w.serve()
        let list = try await w.triton(["flow", "list", "--namespace", "prod", "--output", "json"])
        #expect(list.status == 0, "\(list.stderr)")
        let flows = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(flows.count == 2)
        #expect(flows.allSatisfy { $0["phase"] as? String == "Success" && $0["finished"] as? Bool == true })
        let update = try #require(flows.first { $0["action"] as? String == "update" })
        #expect(update["batches"] as? Int == 4)
        #expect(update["finishedReplicas"] as? Int == 10)
        let conditions = update["conditions"] as? [[String: Any]] ?? []
        #expect(conditions.map { $0["batchSize"] as? Int } == [1, 3, 3, 3])
        #expect(conditions.first?["canary"] as? Bool == true)

        let get = try await w.triton(["flow", "get", update["name"] as? String ?? ""])
        #expect(get.status == 0)
        #expect(get.stdout.contains("batch 1 (canary): Baked"), "\(get.stdout)")
        #expect(get.stdout.contains("created by dana"), "\(get.stdout)")

        let missing = try await w.triton(["flow", "get", "no-such-flow"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no flow named 'no-such-flow'"), "\(missing.stderr)")
        #expect(try await serve.stop(SIGTERM) == 0)

        let rebuild = try await Self.triton(["projections", "rebuild", "--database-url", url, "--schema", schema, "--output", "json"])
        #expect(rebuild.status == 0, "\(rebuild.stdout)")
        let report = try JSONSerialization.jsonObject(with: Data(rebuild.stdout.utf8)) as? [String: Any]
        #expect(report?["identical"] as? Bool == true)
    }
}
