import EventStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KubeSim
import NIOCore
import PostgresStore
import Testing
import TritonAPI
import TritonDomain
import TritonEngine
import TritonJSON
import TritonProjections
import TritonSimAdapter
import TritonTesting

extension RESTTests {
    @Test("instance actions and the remaining intents: scales, restarts, rollbacks, continue, pause, cancel, instances")
    func instanceActionsAndIntents() async throws {
        let h = try await APIHarness()
        defer { h.store.shutdown() }
        try await h.run { client in
            let base = "/api/v1/namespaces/prod"
            func post(_ path: String, _ body: String, token: String = "deployer-token-1", status: HTTPResponse.Status = .created) async throws -> [String: Any] {
                try await client.execute(uri: base + path, method: .post, headers: APIHarness.headers(token), body: ByteBuffer(string: body)) { response in
                    #expect(response.status == status, "\(path): \(String(buffer: response.body))")
                    return try APIHarness.json(response)
                }
            }
            let created = try await post("/deployflows", APIHarness.createBody)
            let createName = try #require(created["name"] as? String)
            _ = try await APIHarness.waitFor(client, createName) { $0["phase"] as? String == "Success" }

            // Scale out in batches of 1, auto.
            let scale = try await post("/instances/checkout/scales", #"{"replicas": 6, "strategy": {"batchSize": 1, "mode": "auto"}, "reason": "peak"}"#)
            let scaleName = try #require(scale["deployName"] as? String)
            #expect((scale["deploy"] as? [String: Any])?["action"] as? String == "scaleOut")
            _ = try await APIHarness.waitFor(client, scaleName) { $0["phase"] as? String == "Success" }

            // Restart one named pod.
            let instance = try await client.execute(uri: "\(base)/instances/checkout", method: .get, headers: APIHarness.headers("viewer-token-1")) {
                try APIHarness.json($0)
            }
            #expect(instance["replicas"] as? Int == 6)
            let listed = try await client.execute(uri: "\(base)/instances", method: .get, headers: APIHarness.headers("viewer-token-1")) {
                try APIHarness.json($0)
            }
            #expect((listed["instances"] as? [[String: Any]])?.first?["name"] as? String == "checkout")
            let pods = try await h.api.cluster.pods(InstanceRef(namespace: "prod", name: "checkout")).filter { !$0.terminating }
            let restart = try await post(
                "/instances/checkout/restarts", #"{"strategy": {"podsToDelete": ["\#(pods[0].name)"], "mode": "auto", "pullOutWaitSeconds": 1}}"#)
            _ = try await APIHarness.waitFor(client, try #require(restart["deployName"] as? String)) { $0["phase"] as? String == "Success" }

            // A manual update: pause, resume by PATCH, continue to the end.
            let update = try await post("/deployflows", APIHarness.updateBody("shop/checkout:v2"))
            let name = try #require(update["name"] as? String)
            _ = try await post("/deployflows/\(name)/pause", #"{"reason": "hold"}"#, status: .ok)
            try await client.execute(
                uri: "\(base)/deployflows/\(name)", method: .patch, headers: APIHarness.headers("deployer-token-1"), body: ByteBuffer(string: #"{"paused": false}"#)
            ) { #expect($0.status == .ok) }
            _ = try await APIHarness.waitFor(client, name) { APIHarness.batchPhase($0, 1) == "Smoked" }
            _ = try await post("/deployflows/\(name)/continue", #"{"reason": "all good"}"#, token: "approver-token-1", status: .ok)
            _ = try await APIHarness.waitFor(client, name) { $0["phase"] as? String == "Success" }

            // Roll back to the create's template; then cancel a scale-in half way.
            let unknown = try await post("/instances/checkout/rollbacks", #"{"deployName": "nope"}"#, status: .notFound)
            #expect(unknown["field"] as? String == "deployName" && unknown["code"] as? String == "unknownFlow", "\(unknown)")
            let rollback = try await post("/instances/checkout/rollbacks", #"{"deployName": "\#(createName)", "strategy": {"batchSize": "50%", "mode": "auto"}}"#)
            #expect(rollback["rollbackTo"] as? String == createName)
            _ = try await APIHarness.waitFor(client, try #require(rollback["deployName"] as? String)) { $0["phase"] as? String == "Success" }
            let scaleIn = try await post("/instances/checkout/scales", #"{"replicas": 4, "strategy": {"mode": "manual"}}"#)
            let scaleInName = try #require(scaleIn["deployName"] as? String)
            let canceled = try await post("/deployflows/\(scaleInName)/cancel", #"{"reason": "not now"}"#, status: .ok)
            #expect(canceled["phase"] as? String == "Canceled")
        }
    }

    @Test("DELETE /instances/{name}: refused while a flow runs; 202, the CloneSet and its pods go, the log says who and why")
    func deleteInstance() async throws {
        let h = try await APIHarness()
        defer { h.store.shutdown() }
        try await h.run { client in
            let base = "/api/v1/namespaces/prod"
            let instance = InstanceRef(namespace: "prod", name: "checkout")
            func delete(_ token: String, reason: String? = nil, requestID: String? = nil) async throws -> (HTTPResponse.Status, [String: Any], String?) {
                var headers = APIHarness.headers(token, reason: reason)
                if let requestID { headers[HTTPField.Name("X-Request-ID")!] = requestID }
                return try await client.execute(uri: "\(base)/instances/checkout", method: .delete, headers: headers) {
                    ($0.status, try APIHarness.json($0), $0.headers[HTTPField.Name("X-Request-ID")!])
                }
            }
            let (missing, missingError, _) = try await delete("deployer-token-1")
            #expect(missing == .notFound && missingError["field"] as? String == "name", "\(missingError)")

            let created = try await client.execute(
                uri: "\(base)/deployflows", method: .post, headers: APIHarness.headers("deployer-token-1"), body: ByteBuffer(string: APIHarness.createBody)
            ) { try APIHarness.json($0) }
            let name = try #require(created["name"] as? String)
            let (busy, busyError, _) = try await delete("deployer-token-1")
            #expect(busy == .conflict && busyError["code"] as? String == "activeFlowExists" && busyError["field"] as? String == "instance")
            _ = try await APIHarness.waitFor(client, name) { $0["phase"] as? String == "Success" }
            let (forbidden, forbiddenError, _) = try await delete("viewer-token-1")
            #expect(forbidden == .forbidden && (forbiddenError["message"] as? String)?.contains("deployer") == true)
            #expect(try await h.store.readAll(after: .start, limit: 10_000).allSatisfy { $0.type != Instance.DeletionRequested.typeName })

            let (accepted, reply, echoed) = try await delete("deployer-token-1", reason: "retired", requestID: "req-delete-1")
            #expect(accepted == .accepted, "\(reply)")
            #expect(reply["status"] as? String == "Deleting" && reply["name"] as? String == "checkout" && reply["requestedAt"] != nil)
            #expect(echoed == "req-delete-1")
            // Asked again while pending (or after): no second request.
            let (again, _, _) = try await delete("admin-token-1")
            #expect(again == .accepted || again == .notFound)

            // The executor deletes the CloneSet; the garbage collector the pods.
            let deadline = ContinuousClock.now + .seconds(30)
            while true {
                let workload = try await h.api.cluster.workload(instance)
                if workload == nil, try h.cluster.list(.pods, namespace: "prod").isEmpty { break }
                guard ContinuousClock.now < deadline else { Issue.record("the CloneSet and its pods are still there"); return }
                try await Task.sleep(for: .milliseconds(50))
            }
            try await client.execute(uri: "\(base)/instances/checkout", method: .get, headers: APIHarness.headers("viewer-token-1")) {
                #expect($0.status == .notFound)
            }
            let (gone, _, _) = try await delete("deployer-token-1")
            #expect(gone == .notFound)

            let requested = try await h.visible(Instance.DeletionRequested.typeName)
            #expect(requested.count == 1)
            let metadata = try EventMetadata.decode(json: try #require(requested.first).metadata)
            #expect(metadata.actor == "dave" && metadata.reason == "retired" && metadata.requestID == "req-delete-1" && metadata.clientAddress != nil)
            #expect(try await h.visible(Instance.Deleted.typeName).count == 1)
            // The list leaves it out once projected.
            for _ in 0..<200 {
                let listed = try await client.execute(uri: "\(base)/instances", method: .get, headers: APIHarness.headers("viewer-token-1")) {
                    try APIHarness.json($0)
                }
                if (listed["instances"] as? [[String: Any]])?.isEmpty == true { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let listed = try await client.execute(uri: "\(base)/instances", method: .get, headers: APIHarness.headers("viewer-token-1")) {
                try APIHarness.json($0)
            }
            #expect((listed["instances"] as? [[String: Any]])?.isEmpty == true, "\(listed)")

            // Created again under the same name.
            let recreated = try await client.execute(
                uri: "\(base)/deployflows", method: .post, headers: APIHarness.headers("deployer-token-1"), body: ByteBuffer(string: APIHarness.createBody)
            ) { response in
                #expect(response.status == .created)
                return try APIHarness.json(response)
            }
            #expect(recreated["action"] as? String == "create")
            _ = try await APIHarness.waitFor(client, try #require(recreated["name"] as? String)) { $0["phase"] as? String == "Success" }
        }
    }
}
