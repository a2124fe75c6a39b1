import EventStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PostgresStore
import Testing
import TritonAPI
import TritonDomain
import TritonEngine
import TritonTesting

extension RESTTests {
    @Test("Triton's own routes: releases (create and update kept apart), whoami, lists across namespaces with consistent=true, a flow by id alone, an instance's deletion")
    func releasesRouteAndTheCLIsReads() async throws {
        let h = try await APIHarness()
        defer { h.store.shutdown() }
        try await h.run { client in
            func call(
                _ method: HTTPRequest.Method, _ path: String, _ body: String? = nil, token: String = "deployer-token-1"
            ) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(
                    uri: path, method: method, headers: APIHarness.headers(token), body: body.map { ByteBuffer(string: $0) }
                ) { ($0.status, try APIHarness.json($0)) }
            }
            let releases = "/api/v1/namespaces/prod/releases"

            let (whoStatus, me) = try await call(.get, "/api/v1/whoami", token: "lead-token-1")
            #expect(whoStatus == .ok && me["user"] as? String == "lena" && me["roles"] as? [String] == ["deployer", "approver"])
            #expect(me["open"] as? Bool == false)

            // update before the CloneSet exists: refused, naming the field; nothing is written.
            let before = try await h.store.statistics().events
            let (missing, missingBody) = try await call(.post, releases, #"{"action": "update", "instance": "checkout", "image": "shop/checkout:v2"}"#)
            #expect(missing.code >= 400 && missingBody["field"] as? String == "instance", "\(missingBody)")
            // One strategy parser: a bad batch size is named under the request's `strategy`.
            let (badSize, badSizeBody) = try await call(
                .post, releases, #"{"action": "create", "instance": "checkout", "image": "shop/checkout:v1", "replicas": 2, "strategy": {"batchSize": "lots"}}"#
            )
            #expect(badSize == .unprocessableContent && badSizeBody["field"] as? String == "strategy.batchSize", "\(badSizeBody)")
            let (unknown, unknownBody) = try await call(.post, releases, #"{"action": "deploy", "instance": "checkout"}"#)
            #expect(unknown == .unprocessableContent && unknownBody["field"] as? String == "action", "\(unknownBody)")
            let (viewer, viewerBody) = try await call(
                .post, releases, #"{"action": "create", "instance": "checkout", "image": "shop/checkout:v1", "replicas": 2}"#, token: "viewer-token-1"
            )
            #expect(viewer == .forbidden && viewerBody["rule"] as? String == "role")
            #expect(try await h.store.statistics().events == before)

            // create: 201 with the flow, its creator, plan and pod counts.
            let (created, flow) = try await call(
                .post, releases,
                #"{"action": "create", "instance": "checkout", "image": "shop/checkout:v1", "replicas": 2, "flowID": "checkout-first", "strategy": {"batchSize": 1, "mode": "auto"}, "reason": "first"}"#
            )
            #expect(created == .created, "\(flow)")
            #expect(flow["name"] as? String == "checkout-first" && flow["createdBy"] as? String == "dave" && flow["action"] as? String == "create")
            #expect((flow["plan"] as? [[String: Any]])?.count == 2 && flow["podCounts"] != nil)
            _ = try await APIHarness.waitFor(client, "checkout-first") { $0["phase"] as? String == "Success" }
            // create again: the CloneSet exists now.
            let (again, againBody) = try await call(
                .post, releases, #"{"action": "create", "instance": "checkout", "image": "shop/checkout:v1", "replicas": 2}"#
            )
            #expect(again == .conflict && againBody["code"] as? String == "alreadyExists", "\(againBody)")

            // The flow by its id alone; lists of every namespace that include what was just written.
            let (found, byID) = try await call(.get, "/api/v1/deployflows/checkout-first", token: "viewer-token-1")
            #expect(found == .ok && byID["namespace"] as? String == "prod" && byID["allowedActions"] as? [String] == [])
            let (notFound, _) = try await call(.get, "/api/v1/deployflows/no-such-flow", token: "viewer-token-1")
            #expect(notFound == .notFound)
            let (_, all) = try await call(.get, "/api/v1/deployflows?consistent=true", token: "viewer-token-1")
            #expect((all["deploys"] as? [[String: Any]])?.map { $0["name"] as? String } == ["checkout-first"])
            let (_, other) = try await call(.get, "/api/v1/deployflows?consistent=true&namespace=default", token: "viewer-token-1")
            #expect((other["deploys"] as? [[String: Any]])?.isEmpty == true)
            let (_, instances) = try await call(.get, "/api/v1/instances?consistent=true", token: "viewer-token-1")
            #expect((instances["instances"] as? [[String: Any]])?.map { $0["name"] as? String } == ["checkout"])

            // An instance's deletion, with its reason, as the log has it.
            let (noDeletion, _) = try await call(.get, "/api/v1/namespaces/prod/instances/checkout/deletion", token: "viewer-token-1")
            #expect(noDeletion == .notFound)
            let (accepted, deletion) = try await call(.delete, "/api/v1/namespaces/prod/instances/checkout?reason=retired%20it")
            #expect(accepted == .accepted && deletion["status"] as? String == "Deleting", "\(deletion)")
            let (_, pending) = try await call(.get, "/api/v1/namespaces/prod/instances/checkout/deletion", token: "viewer-token-1")
            #expect(["Deleting", "Deleted"].contains(pending["status"] as? String ?? ""))
            let requested = try #require(try await h.visible("InstanceDeletionRequested").first)
            let metadata = try EventMetadata.decode(json: requested.metadata)
            #expect(metadata.reason == "retired it" && metadata.actor == "dave")
        }
    }
}
