import Foundation
import Testing

/// The README's walk-through with tokens, command for command: `triton login` per person, a deployer
/// cannot pass a canary, the creator cannot approve their own flow, an admin's emergency change is
/// flagged and listed unreviewed until another approver reviews it.
@Suite("README walk-through with tokens", .timeLimit(.minutes(4)))
struct TokenWalkthroughTests {
    @Test func fourEyesFromTheCommandLine() async throws {
        let w = try ServeTests.Workspace()
        let tokens = w.directory.appendingPathComponent("tokens.json")
        try Data(
            #"""
            {"tokens": [
              {"token": "dave-token-0001", "user": "dave", "roles": ["deployer"]},
              {"token": "lena-token-0001", "user": "lena", "roles": ["deployer", "approver"]},
              {"token": "anna-token-0001", "user": "anna", "roles": ["approver"]},
              {"token": "root-token-0001", "user": "root", "roles": ["admin"]}
            ]}
            """#.utf8
        ).write(to: tokens)
        let serve = try await w.serve(extra: ["--tokens-file", tokens.path])
        let server = try #require(try Self.localServer(w))
        for person in ["dave", "lena", "anna", "root"] {
            let file = w.directory.appendingPathComponent("\(person).token")
            try Data("\(person)-token-0001\n".utf8).write(to: file)
            let login = try await w.triton(["login", "--server", server, "--token-file", file.path, "--name", person])
            #expect(login.status == 0 && login.stdout.contains("as \(person)"), "\(login.stdout)\(login.stderr)")
        }
        // Without a token the server refuses, and says how to log in.
        let anonymous = try await w.triton(["flow", "list", "--context", "local"])
        #expect(anonymous.status == 1 && anonymous.stderr.contains("triton login"), "\(anonymous.stderr)")
        #expect(try await w.triton(["context", "use", "dave"]).status == 0)
        let me = try await w.triton(["whoami"])
        #expect(me.stdout.contains("dave (deployer)"), "\(me.stdout)")

        // dave releases v1, then v2 with a canary; the canary waits Smoked for an approver.
        let create = try await w.triton([
            "flow", "create", "-n", "prod", "--instance", "checkout", "--image", "shop/checkout:v1", "--replicas", "4",
            "--batch-size", "4", "--mode", "auto", "--reason", "first release", "--watch",
        ])
        #expect(create.status == 0, "\(create.stdout)\(create.stderr)")
        let id = try await Self.canaryRelease(w, image: "shop/checkout:v2", context: "dave")
        let refused = try await w.triton(["flow", "next", id, "--reason", "looks fine"])
        #expect(refused.status == 1 && refused.stderr.contains("canary-approval: "), "\(refused.stderr)")
        let passed = try await w.triton(["flow", "next", id, "--context", "anna", "--reason", "canary healthy"])
        #expect(passed.status == 0 && passed.stdout.contains("by anna"), "\(passed.stdout)\(passed.stderr)")
        #expect(try await w.triton(["flow", "continue", id, "--reason", "go", "--watch"]).stdout.contains("Success"))

        // lena (deployer and approver) may not pass the canary of her own flow.
        let own = try await Self.canaryRelease(w, image: "shop/checkout:v3", context: "lena")
        let fourEyes = try await w.triton(["flow", "next", own, "--context", "lena", "--output", "json"])
        #expect(fourEyes.status == 1 && fourEyes.stdout.contains(#""rule" : "four-eyes""#), "\(fourEyes.stdout)")
        #expect(try await w.triton(["flow", "cancel", own, "--context", "lena", "--reason", "redo"]).status == 0)

        // root (admin) passes the canary of his own flow only as an emergency change, flagged until anna reviews it.
        let hotfix = try await Self.canaryRelease(w, image: "shop/checkout:v4", context: "root")
        let plain = try await w.triton(["flow", "next", hotfix, "--context", "root"])
        #expect(plain.status == 1 && plain.stderr.contains("four-eyes: "), "\(plain.stderr)")
        let emergency = try await w.triton([
            "flow", "next", hotfix, "--context", "root", "--reason", "checkout down", "--emergency", "payments outage, hotfix v4",
        ])
        #expect(emergency.status == 0 && emergency.stdout.contains("EMERGENCY CHANGE by root"), "\(emergency.stdout)\(emergency.stderr)")
        let listed = try await w.triton(["flow", "emergencies"])
        #expect(listed.stdout.contains(hotfix) && listed.stdout.contains("EMERGENCY (unreviewed)"), "\(listed.stdout)")
        let inbox = try await w.triton(["flow", "inbox", "--context", "anna"])
        #expect(inbox.stdout.contains(hotfix), "\(inbox.stdout)")
        let selfReview = try await w.triton(["flow", "review", hotfix, "--context", "root", "--reason", "fine"])
        #expect(selfReview.status == 1 && selfReview.stderr.contains("emergency-review: "), "\(selfReview.stderr)")
        let review = try await w.triton(["flow", "review", hotfix, "--context", "anna", "--reason", "the hotfix was right"])
        #expect(review.status == 0, "\(review.stdout)\(review.stderr)")
        let after = try await w.triton(["flow", "emergencies"])
        #expect(after.status == 0 && !after.stdout.contains(hotfix), "\(after.stdout)")
        let shown = try await w.triton(["flow", "get", hotfix])
        #expect(shown.stdout.contains("created by root") && shown.stdout.contains("reviewed by anna"), "\(shown.stdout)")
        #expect(try await serve.stop(SIGTERM) == 0)
    }

    /// The server `triton serve` recorded in the context `local`.
    static func localServer(_ w: ServeTests.Workspace) throws -> String? {
        let data = try Data(contentsOf: URL(fileURLWithPath: w.configFile))
        let file = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let contexts = file?["contexts"] as? [[String: Any]] ?? []
        return contexts.first { $0["name"] as? String == "local" }?["server"] as? String
    }

    /// An update with a canary of 1 and batches of 2 by the person of `context`, once its canary waits.
    static func canaryRelease(_ w: ServeTests.Workspace, image: String, context: String) async throws -> String {
        let update = try await w.triton([
            "flow", "update", "-n", "prod", "--instance", "checkout", "--image", image, "--canary", "1", "--batch-size", "2",
            "--context", context, "--reason", "release \(image)",
        ])
        try #require(update.status == 0, "\(update.stderr)")
        let id = update.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let watch = try await w.triton(["flow", "watch", id, "--until-waiting", "--context", context])
        try #require(watch.status == 0 && watch.stdout.contains("canary Smoked"), "\(watch.stdout)\(watch.stderr)")
        return id
    }
}
