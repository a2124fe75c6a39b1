import EventStore
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PostgresStore
import Testing
import TritonAPI
import TritonGRPC
import TritonTesting

/// Each rule of the authorization policy, with the same case sent over REST, over gRPC and through the
/// `triton` CLI: the same answer (403 / PERMISSION_DENIED / exit 1, with the rule named) and nothing written. Then an emergency change
/// by an admin, flagged and listed until another approver reviews it; `allowedActions` and the inbox
/// for each role.
@Suite("Authorization rules over REST, gRPC and the CLI", .timeLimit(.minutes(3)))
struct AuthorizationRuleTests {
    /// One refusal asked three ways.
    struct Case {
        var name: String
        var token: String
        var rest: (method: HTTPRequest.Method, path: String, body: String)
        var grpc: @Sendable (Deployflow_DeployFlow.Client<HTTP2ClientTransport.Posix>, Metadata) async throws -> Void
        var cli: [String]
        var rule: String
    }

    @Test func everyRuleAnswersAlikeOverRESTAndGRPCAndTheCLIAndWritesNothing() async throws {
        let h = try await APIHarness()
        defer { h.store.shutdown() }
        try await h.runWithGRPC { client, port in
            try await APIHarness.withFlowsClient(port: port) { flows in
                try await Self.check(h, client, flows, CLIRunner(port: try #require(client.port)))
            }
        }
    }

    static func check(
        _ h: APIHarness, _ client: any TestClientProtocol, _ flows: Deployflow_DeployFlow.Client<HTTP2ClientTransport.Posix>,
        _ cli: CLIRunner
    ) async throws {
        let base = "/api/v1/namespaces/prod"
        func post(_ path: String, _ token: String, _ body: String = "{}") async throws -> (HTTPResponse.Status, [String: Any]) {
            try await client.execute(uri: base + path, method: .post, headers: APIHarness.headers(token), body: ByteBuffer(string: body)) {
                ($0.status, try APIHarness.json($0))
            }
        }
        func get(_ path: String, _ token: String) async throws -> [String: Any] {
            try await client.execute(uri: path, method: .get, headers: APIHarness.headers(token)) { try APIHarness.json($0) }
        }
        func logSize() async throws -> Int64 { let statistics = try await h.store.statistics(); return statistics.events }

        // The instance, then an update by lena (deployer + approver) with a canary, stopped at Smoked.
        let (status, created) = try await post("/deployflows", "admin-token-1", APIHarness.createBody)
        #expect(status == .created)
        _ = try await APIHarness.waitFor(client, try #require(created["name"] as? String)) { $0["phase"] as? String == "Success" }
        let (_, update) = try await post("/deployflows", "lead-token-1", APIHarness.updateBody("shop/checkout:v2"))
        let name = try #require(update["name"] as? String)
        #expect(update["createdBy"] as? String == "lena")
        let smoked = try await APIHarness.waitFor(client, name) { APIHarness.batchPhase($0, 1) == "Smoked" }
        #expect(smoked["phase"] as? String == "BatchStarted")

        let meta = { () -> Deployflow_DeployMeta in
            var meta = Deployflow_DeployMeta()
            meta.namespace = "prod"
            meta.name = name
            return meta
        }()
        let next = { () -> Deployflow_NextRequest in
            var request = Deployflow_NextRequest()
            request.deploy = meta
            return request
        }()
        let continueAll = { () -> Deployflow_ContinueRequest in
            var request = Deployflow_ContinueRequest()
            request.deploy = meta
            return request
        }()
        let cases = [
            Case(
                name: "a viewer may not pause", token: "viewer-token-1", rest: (.post, "/deployflows/\(name)/pause", "{}"),
                grpc: { flows, metadata in
                    var request = Deployflow_DeployMetaRequest()
                    request.deploy = meta
                    try await flows.pause(request, metadata: metadata) { response in for try await _ in response.messages {} }
                }, cli: ["flow", "pause", name], rule: "role"),
            Case(
                name: "a deployer may not pass the canary", token: "deployer-token-1", rest: (.post, "/deployflows/\(name)/next", "{}"),
                grpc: { flows, metadata in _ = try await flows.next(next, metadata: metadata) }, cli: ["flow", "next", name], rule: "canary-approval"),
            Case(
                name: "a deployer may not continue past the canary", token: "deployer-token-1",
                rest: (.post, "/deployflows/\(name)/continue", "{}"),
                grpc: { flows, metadata in _ = try await flows.continue(continueAll, metadata: metadata) }, cli: ["flow", "continue", name],
                rule: "canary-approval"),
            Case(
                name: "the creator may not pass the canary of their own flow", token: "lead-token-1",
                rest: (.post, "/deployflows/\(name)/next", "{}"),
                grpc: { flows, metadata in _ = try await flows.next(next, metadata: metadata) }, cli: ["flow", "next", name], rule: "four-eyes"),
            Case(
                name: "the creator may not continue past it either", token: "lead-token-1",
                rest: (.post, "/deployflows/\(name)/continue", #"{"batch": 2}"#),
                grpc: { flows, metadata in
                    var request = continueAll
                    request.target.batches = 2
                    _ = try await flows.continue(request, metadata: metadata)
                }, cli: ["flow", "continue", name, "--batch", "2"], rule: "four-eyes"),
        ]
        for item in cases {
            let before = try await logSize()
            let (restStatus, restBody) = try await post(item.rest.path, item.token, item.rest.body)
            #expect(restStatus == .forbidden, "\(item.name): REST \(restStatus) \(restBody)")
            #expect(restBody["rule"] as? String == item.rule, "\(item.name): \(restBody)")
            let message = try #require(restBody["message"] as? String)
            #expect(message.hasPrefix("\(item.rule): "), "\(item.name): \(message)")
            do {
                try await item.grpc(flows, ["authorization": "Bearer \(item.token)"])
                Issue.record("\(item.name): gRPC accepted it")
            } catch let error as RPCError {
                #expect(error.code == .permissionDenied, "\(item.name): \(error)")
                #expect(error.message == message, "\(item.name): gRPC said \(error.message)")
            }
            // The CLI: exit 1, the same refusal as JSON with --output json, and as `rule: message` for people.
            let json = try await cli.run(item.cli + ["--output", "json"], token: item.token)
            #expect(json.status == 1, "\(item.name): CLI exit \(json.status) \(json.stdout)\(json.stderr)")
            #expect(json.json["rule"] as? String == item.rule && json.json["message"] as? String == message, "\(item.name): CLI \(json.stdout)")
            #expect(json.json["code"] as? String == "forbidden")
            let text = try await cli.run(item.cli, token: item.token)
            #expect(text.status == 1 && text.stderr.contains(message), "\(item.name): CLI \(text.stderr)")
            #expect(try await logSize() == before, "\(item.name): something was written")
        }

        // allowedActions: computed per caller. At the canary stop lena (the creator) and dave may pause or
        // cancel, not pass it; anna (approver only) may pass it; vera may do nothing.
        func allowed(_ token: String) async throws -> [String] {
            try await get("\(base)/deployflows/\(name)", token)["allowedActions"] as? [String] ?? []
        }
        #expect(try await allowed("viewer-token-1") == [])
        #expect(try await allowed("deployer-token-1") == ["pause", "cancel"])
        #expect(try await allowed("lead-token-1") == ["pause", "cancel"])
        #expect(try await allowed("approver-token-1") == ["next", "continue"])  // pausing and canceling take a deployer
        var getRequest = Deployflow_DeployMetaRequest()
        getRequest.deploy = meta
        let viaGRPC = try await flows.get(getRequest, metadata: ["authorization": "Bearer approver-token-1"])
        #expect(viaGRPC.deploy.allowedActions == ["next", "continue"])
        #expect(viaGRPC.deploy.createdBy == "lena" && viaGRPC.deploy.lastIntent.actor == "lena")

        // The inbox: anna (an approver who did not create it) has the flow; lena, dave and vera do not.
        func inbox(_ token: String) async throws -> [String] {
            (try await get("/api/v1/inbox", token)["deploys"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        }
        #expect(try await inbox("approver-token-1") == [name])
        #expect(try await inbox("lead-token-1") == [])
        #expect(try await inbox("deployer-token-1") == [])
        let grpcInbox = try await flows.inbox(Deployflow_InboxRequest(), metadata: ["authorization": "Bearer approver-token-1"])
        #expect(grpcInbox.deploys.map(\.name) == [name])

        // An admin who created a flow passes its canary only as an emergency change, with a justification.
        // lena cancels; root (an admin) releases v3 and is its creator.
        let (_, canceled) = try await post("/deployflows/\(name)/cancel", "lead-token-1", #"{"reason": "redo as admin"}"#)
        #expect(canceled["phase"] as? String == "Canceled")
        _ = try await APIHarness.waitFor(client, name) { $0["finished"] as? Bool == true }
        try await Task.sleep(for: .milliseconds(300))
        let (_, emergencyFlow) = try await post("/deployflows", "admin-token-1", APIHarness.updateBody("shop/checkout:v3"))
        let hotfix = try #require(emergencyFlow["name"] as? String)
        _ = try await APIHarness.waitFor(client, hotfix) { APIHarness.batchPhase($0, 1) == "Smoked" }
        let before = try await logSize()
        let (plain, refused) = try await post("/deployflows/\(hotfix)/next", "admin-token-1")
        #expect(plain == .forbidden && refused["rule"] as? String == "four-eyes")
        #expect((refused["message"] as? String)?.contains("declare an emergency change") == true)
        let cliRefused = try await cli.run(["flow", "next", hotfix, "--output", "json"], token: "admin-token-1")
        #expect(cliRefused.status == 1 && cliRefused.json["rule"] as? String == "four-eyes", "\(cliRefused.stdout)")
        #expect(try await logSize() == before)
        let (passed, flagged) = try await post(
            "/deployflows/\(hotfix)/next", "admin-token-1", #"{"reason": "checkout down", "emergency": "payments outage, hotfix v3"}"#
        )
        #expect(passed == .ok, "\(flagged)")
        let emergency = try #require(flagged["emergency"] as? [String: Any])
        #expect(emergency["declaredBy"] as? String == "root" && emergency["justification"] as? String == "payments outage, hotfix v3")
        #expect(emergency["rules"] as? [String] == ["four-eyes"] && emergency["reviewedBy"] == nil)
        #expect(APIHarness.batchPhase(flagged, 1) == "Baking")
        func unreviewed() async throws -> [String] {
            (try await get("/api/v1/emergencies", "viewer-token-1")["deploys"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        }
        #expect(try await unreviewed() == [hotfix])

        // The review: not by the admin who declared it, not without a reason; by anna it is recorded.
        let (selfReview, selfBody) = try await post("/deployflows/\(hotfix)/review", "admin-token-1", #"{"reason": "fine"}"#)
        #expect(selfReview == .forbidden && selfBody["rule"] as? String == "emergency-review")
        var review = Deployflow_DeployMetaRequest()
        review.deploy.namespace = "prod"
        review.deploy.name = hotfix
        review.reason = "fine"
        do {
            _ = try await flows.review(review, metadata: ["authorization": "Bearer admin-token-1"])
            Issue.record("gRPC accepted a self-review")
        } catch let error as RPCError {
            #expect(error.code == .permissionDenied && error.message == selfBody["message"] as? String)
        }
        let (viewerReview, viewerBody) = try await post("/deployflows/\(hotfix)/review", "viewer-token-1", #"{"reason": "fine"}"#)
        #expect(viewerReview == .forbidden && viewerBody["rule"] as? String == "role")
        #expect(try await inbox("approver-token-1").contains(hotfix))
        // The same through the CLI: the self-review refused with its rule, the emergency listed, anna's inbox.
        let cliSelfReview = try await cli.run(["flow", "review", hotfix, "--reason", "fine", "--output", "json"], token: "admin-token-1")
        #expect(cliSelfReview.status == 1 && cliSelfReview.json["rule"] as? String == "emergency-review", "\(cliSelfReview.stdout)")
        let cliEmergencies = try await cli.run(["flow", "emergencies", "--output", "json"], token: "viewer-token-1")
        let listed = (try? JSONSerialization.jsonObject(with: Data(cliEmergencies.stdout.utf8))) as? [[String: Any]] ?? []
        #expect(listed.compactMap { $0["name"] as? String } == [hotfix], "\(cliEmergencies.stdout)\(cliEmergencies.stderr)")
        let cliInbox = try await cli.run(["flow", "inbox"], token: "approver-token-1")
        #expect(cliInbox.status == 0 && cliInbox.stdout.contains(hotfix) && cliInbox.stdout.contains("EMERGENCY (unreviewed)"), "\(cliInbox.stdout)")
        let (reviewed, reviewedBody) = try await post("/deployflows/\(hotfix)/review", "approver-token-1", #"{"reason": "hotfix was right"}"#)
        #expect(reviewed == .ok, "\(reviewedBody)")
        let after = try #require(reviewedBody["emergency"] as? [String: Any])
        #expect(after["reviewedBy"] as? String == "anna" && after["reviewNote"] as? String == "hotfix was right")
        #expect(try await unreviewed() == [])
        let (again, againBody) = try await post("/deployflows/\(hotfix)/review", "admin-token-2", #"{"reason": "again"}"#)
        #expect(again == .conflict && againBody["code"] as? String == "alreadyReviewed")

        // Who did what, per batch: the canary's last intent is root's next with its reason.
        let shown = try await get("\(base)/deployflows/\(hotfix)", "viewer-token-1")
        let canary = try #require((shown["conditions"] as? [[String: Any]])?.first)
        let last = try #require(canary["lastIntent"] as? [String: Any])
        #expect(last["actor"] as? String == "root" && last["intent"] as? String == "NextRequested" && last["reason"] as? String == "checkout down")
        #expect((shown["lastIntent"] as? [String: Any])?["actor"] as? String == "anna")
    }
}
