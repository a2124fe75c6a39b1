import EventStore
import Foundation
import PostgresStore
import Testing

/// The audit commands as an operator and an auditor use them: a seal key made by `audit keygen`, `serve`
/// sealing with it (at each flow's end), the seals kept, the log verified in the database and as an
/// exported bundle, proofs checked, and a log changed behind the engine's back caught by both verifiers
/// with its position.
@Suite("triton audit: seals, bundles, proofs", .timeLimit(.minutes(5)))
struct AuditCommandTests {
    @Test func sealVerifyExportProveAndCatchATamperedLog() async throws {
        let w = try ServeTests.Workspace()
        let keyFile = w.directory.appendingPathComponent("keys/seal.key").path
        let keygen = try await w.triton(["audit", "keygen", "--out", keyFile])
        #expect(keygen.status == 0 && keygen.stdout.contains("seal key"), "\(keygen.stdout)\(keygen.stderr)")
        let seed = try String(contentsOfFile: keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let mode = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int
        #expect(seed.count == 64 && mode == 0o600 && !keygen.stdout.contains(seed))
        #expect(try await w.triton(["audit", "keygen", "--out", keyFile]).status != 0, "an existing key is not replaced")

        let serve = try await w.serve(extra: ["--seal-key-file", keyFile])
        let database = ["--database-url", try CLITests.databaseURL(), "--schema", w.schema]
        let release = try await w.triton([
            "flow", "create", "-n", "prod", "--instance", "ledger", "--image", "shop/ledger:v1", "--replicas", "2", "--batch-size", "2",
            "--mode", "auto", "--watch",
        ])
        try #require(release.status == 0 && release.stdout.contains("Success"), "\(release.stdout)\(release.stderr)")
        let flows = try await w.triton(["flow", "list", "--output", "json"])
        let id = try #require(((try JSONSerialization.jsonObject(with: Data(flows.stdout.utf8)) as? [[String: Any]])?.first)?["name"] as? String)

        // The flow's end is sealed (within a moment of it).
        var proof = try await w.triton(["audit", "proof", "inclusion", "--flow", id])
        for _ in 0..<100 where proof.status != 0 {
            try await Task.sleep(for: .milliseconds(100))
            proof = try await w.triton(["audit", "proof", "inclusion", "--flow", id])
        }
        #expect(proof.status == 0 && proof.stdout.contains("FlowSucceeded") && proof.stdout.contains("ok:"), "\(proof.stdout)\(proof.stderr)")

        let kept = w.directory.appendingPathComponent("kept-seal.json")
        let last = try await w.triton(["audit", "seals", "--last", "--output", "json"])
        try #require(last.status == 0, "\(last.stderr)")
        try Data(last.stdout.utf8).write(to: kept)

        // A second release, sealed at its end too; the latest seal extends the kept one.
        let second = try await w.triton([
            "flow", "update", "-n", "prod", "--instance", "ledger", "--image", "shop/ledger:v2", "--batch-size", "2", "--mode", "auto", "--watch",
        ])
        try #require(second.status == 0, "\(second.stdout)\(second.stderr)")
        try await Task.sleep(for: .milliseconds(500))
        let consistency = try await w.triton(["audit", "proof", "consistency", "--trusted-seal", kept.path])
        #expect(consistency.status == 0 && consistency.stdout.contains("extends seal"), "\(consistency.stdout)\(consistency.stderr)")
        #expect(try await serve.stop(SIGTERM) == 0)
        #expect(!serve.output.contains(seed), "the key is never printed")

        let verified = try await w.triton(["audit", "verify", "--trusted-seal", kept.path] + database)
        #expect(verified.status == 0 && verified.stdout.contains("ok: the database") && verified.stdout.contains("trusted:"), "\(verified.stdout)\(verified.stderr)")
        let bundle = w.directory.appendingPathComponent("bundle").path
        let export = try await w.triton(["audit", "export", "--out", bundle] + database)
        #expect(export.status == 0 && export.stdout.contains("exported"), "\(export.stdout)\(export.stderr)")
        let offline = try await w.triton(["audit", "verify", "--bundle", bundle, "--trusted-seal", kept.path, "--output", "json"])
        let offlineReport = try JSONSerialization.jsonObject(with: Data(offline.stdout.utf8)) as? [String: Any]
        #expect(offline.status == 0 && offlineReport?["ok"] as? Bool == true && offlineReport?["trustedSeal"] != nil, "\(offline.stdout)\(offline.stderr)")

        // Changed behind the engine's back: both verifiers name the event.
        let session = try await PostgresSession.connect(url: try CLITests.databaseURL(), schema: w.schema)
        let target = try await session.firstRow("SELECT position, stream_id, version FROM events ORDER BY position OFFSET 5 LIMIT 1")
        try await session.execute("SET session_replication_role = replica")
        try await session.command(#"UPDATE events SET metadata = jsonb_set(metadata, '{reason}', '"nothing to see"') WHERE position = $1::bigint"#, [target[0]])
        let position = try #require(target[0])
        let broken = try await w.triton(["audit", "verify", "--output", "json"] + database)
        let failure = (try JSONSerialization.jsonObject(with: Data(broken.stdout.utf8)) as? [String: Any])?["failure"] as? [String: Any]
        #expect(broken.status == 1 && failure?["check"] as? String == "chain" && failure?["position"] as? Int == Int(position), "\(broken.stdout)\(broken.stderr)")
        let tamperedBundle = w.directory.appendingPathComponent("tampered").path
        #expect(try await w.triton(["audit", "export", "--out", tamperedBundle] + database).status == 0)
        let brokenBundle = try await w.triton(["audit", "verify", "--bundle", tamperedBundle])
        #expect(brokenBundle.status == 1 && brokenBundle.stdout.contains("FAILED (chain") && brokenBundle.stdout.contains("log position \(position)"), "\(brokenBundle.stdout)")

        // A bundle edited after the export: its manifest no longer matches.
        let events = URL(fileURLWithPath: bundle).appendingPathComponent("events.jsonl")
        try (try String(contentsOf: events, encoding: .utf8).replacingOccurrences(of: "shop/ledger:v1", with: "shop/ledger:v9")).write(to: events, atomically: true, encoding: .utf8)
        let edited = try await w.triton(["audit", "verify", "--bundle", bundle])
        #expect(edited.status == 1 && edited.stdout.contains("FAILED (manifest") && edited.stdout.contains("events.jsonl"), "\(edited.stdout)")
    }
}
