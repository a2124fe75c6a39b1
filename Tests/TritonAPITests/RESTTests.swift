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

@Suite("REST API", .timeLimit(.minutes(3)))
struct RESTTests {
    @Test("the article's canary release entirely through REST, with roles, reasons and history")
    func canaryReleaseThroughREST() async throws {
        let h = try await APIHarness()
        defer { h.store.shutdown() }
        try await h.run { client in
            let base = "/api/v1/namespaces/prod"
            let created = try await client.execute(
                uri: "\(base)/deployflows", method: .post, headers: APIHarness.headers("deployer-token-1", reason: "first release"),
                body: ByteBuffer(string: APIHarness.createBody)
            ) { response in
                #expect(response.status == .created)
                return try APIHarness.json(response)
            }
            let createName = try #require(created["name"] as? String)
            #expect(createName.hasPrefix("checkout-") && createName.count == "checkout-".count + 5)
            #expect(created["action"] as? String == "create" && created["batches"] as? Int == 1)
            _ = try await APIHarness.waitFor(client, createName) { $0["phase"] as? String == "Success" }

            // The update: canary 1 then 50% batches, manual.
            let update = try await client.execute(
                uri: "\(base)/deployflows", method: .post, headers: APIHarness.headers("deployer-token-1", reason: "release v2"),
                body: ByteBuffer(string: APIHarness.updateBody("shop/checkout:v2"))
            ) { try APIHarness.json($0) }
            let name = try #require(update["name"] as? String)
            #expect(update["action"] as? String == "update" && update["batches"] as? Int == 3 && update["canary"] as? Int == 1)
            // Nor can a deployer pass the canary by continuing (which pulls it in without stopping), with the
            // flow running or paused, or by a PATCH to a later batch — before or after it is smoke-tested.
            for (method, path, body) in [
                (HTTPRequest.Method.post, "/continue", "{}"), (.post, "/continue", #"{"batches": 1}"#),
                (.patch, "", #"{"batches": 2}"#), (.patch, "", #"{"paused": false, "batches": 3}"#),
            ] {
                try await client.execute(
                    uri: "\(base)/deployflows/\(name)\(path)", method: method, headers: APIHarness.headers("deployer-token-1"),
                    body: ByteBuffer(string: body)
                ) { response in
                    #expect(response.status == .forbidden, "\(method) \(path) \(body): \(String(buffer: response.body))")
                }
            }
            let smoked = try await APIHarness.waitFor(client, name) { APIHarness.batchPhase($0, 1) == "Smoked" }
            #expect(smoked["phase"] as? String == "BatchStarted")
            try await client.execute(
                uri: "\(base)/deployflows/\(name)/continue", method: .post, headers: APIHarness.headers("deployer-token-1"),
                body: ByteBuffer(string: "{}")
            ) { #expect($0.status == .forbidden) }

            // A deployer may not pass the canary; an approver may.
            try await client.execute(
                uri: "\(base)/deployflows/\(name)/next", method: .post, headers: APIHarness.headers("deployer-token-1")
            ) { response in
                #expect(response.status == .forbidden)
                let message = try APIHarness.json(response)["message"] as? String
                #expect(
                    message == "canary-approval: passing the canary of \(name) (pulling it into traffic) needs the approver role; dave has deployer"
                )
                #expect(try APIHarness.json(response)["rule"] as? String == "canary-approval")
            }
            try await client.execute(
                uri: "\(base)/deployflows/\(name)/next", method: .post, headers: APIHarness.headers("approver-token-1"),
                body: ByteBuffer(string: #"{"reason": "canary healthy"}"#)
            ) { response in
                #expect(response.status == .ok)
                let flow = try APIHarness.json(response)
                #expect(APIHarness.batchPhase(flow, 1) == "Baking")
            }
            _ = try await APIHarness.waitFor(client, name) { APIHarness.batchPhase($0, 1) == "Baked" && $0["finishedBatches"] as? Int == 1 }
            // Later batches: a deployer's next is enough.
            for batch in 2...3 {
                try await client.execute(
                    uri: "\(base)/deployflows/\(name)/next", method: .post,
                    headers: APIHarness.headers("deployer-token-1", reason: "start batch \(batch)")
                ) { #expect($0.status == .ok, "\(String(buffer: $0.body))") }
                _ = try await APIHarness.waitFor(client, name) { $0["finishedBatches"] as? Int == batch || $0["phase"] as? String == "Success" }
            }
            let done = try await APIHarness.waitFor(client, name) { $0["phase"] as? String == "Success" }
            #expect(done["finishedReplicas"] as? Int == 4 && done["finished"] as? Bool == true)

            // History: who and why, with the request id and the client address.
            let history = try await client.execute(
                uri: "\(base)/deployflows/\(name)/history", method: .get, headers: APIHarness.headers("viewer-token-1")
            ) { try APIHarness.json($0) }
            let events = history["events"] as? [[String: Any]] ?? []
            let next = try #require(events.first { $0["type"] as? String == "NextRequested" })
            #expect(next["actor"] as? String == "anna" && next["reason"] as? String == "canary healthy" && next["source"] as? String == "api")
            #expect((next["requestID"] as? String)?.isEmpty == false)
            #expect((next["clientAddress"] as? String)?.hasPrefix("127.0.0.1:") == true)
            #expect(events.first?["actor"] as? String == "dave" && events.first?["reason"] as? String == "release v2")

            // The list, the instance, the watch of a finished flow (one event, then the stream ends).
            try await Task.sleep(for: .milliseconds(500))  // the projector folds the last events
            try await client.execute(uri: "\(base)/deployflows?instanceName=checkout", method: .get, headers: APIHarness.headers("viewer-token-1")) {
                let deploys = try APIHarness.json($0)["deploys"] as? [Any]
                #expect(deploys?.count == 2)
            }
            try await client.execute(uri: "\(base)/instances/checkout", method: .get, headers: APIHarness.headers("viewer-token-1")) {
                let instance = try APIHarness.json($0)
                #expect(instance["replicas"] as? Int == 4 && instance["image"] as? String == "shop/checkout:v2")
            }
            try await client.execute(uri: "\(base)/deployflows/\(name)/watch", method: .get, headers: APIHarness.headers("viewer-token-1")) {
                #expect($0.headers[.contentType] == "text/event-stream")
                let text = String(buffer: $0.body)
                #expect(text.hasPrefix("id: ") && text.contains("event: deploy\ndata: {") && text.contains("\"phase\":\"Success\""))
            }
        }
    }

    @Test("every error class: 400, 401, 403, 404, 409, 422 with code, field and message; nothing written")
    func errors() async throws {
        let h = try await APIHarness()
        defer { h.store.shutdown() }
        try await h.run { client in
            let base = "/api/v1/namespaces/prod"
            func expect(
                _ method: HTTPRequest.Method, _ path: String, token: String? = "admin-token-1", body: String? = nil,
                _ status: HTTPResponse.Status, code: String, field: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
            ) async throws {
                try await client.execute(
                    uri: base + path, method: method, headers: APIHarness.headers(token), body: body.map { ByteBuffer(string: $0) }
                ) { response in
                    #expect(response.status == status, "\(String(buffer: response.body))", sourceLocation: sourceLocation)
                    let error = try APIHarness.json(response)
                    #expect(error["code"] as? String == code, "\(error)", sourceLocation: sourceLocation)
                    #expect(error["field"] as? String == field, "\(error)", sourceLocation: sourceLocation)
                    #expect((error["message"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
                }
            }
            try await expect(.get, "/deployflows", token: nil, .unauthorized, code: "unauthenticated")
            try await expect(.get, "/deployflows", token: "not-a-token-at-all", .unauthorized, code: "unauthenticated")
            try await expect(.post, "/deployflows", token: "viewer-token-1", body: APIHarness.createBody, .forbidden, code: "forbidden")
            try await expect(.post, "/deployflows", body: "{not json", .badRequest, code: "badRequest")
            try await expect(.post, "/deployflows", body: "{}", .badRequest, code: "badRequest", field: "applicationSpec")
            try await expect(
                .post, "/deployflows", body: #"{"applicationSpec": {"instanceName": "x", "replicas": "three"}}"#, .badRequest,
                code: "badRequest", field: "applicationSpec.replicas")
            try await expect(
                .post, "/deployflows", body: #"{"applicationSpec": {"instanceName": "x", "replicas": 3, "image": "a"}, "updateStrategy": {"batchSize": 3, "canery": 1}}"#,
                .badRequest, code: "badRequest", field: "updateStrategy.canery")
            // U+0000 anywhere (the log cannot store it), named by its path; found by the REST fuzzer in a template.
            try await expect(
                .post, "/deployflows",
                body: #"{"applicationSpec": {"instanceName": "x", "replicas": 3, "image": "a", "template": {"metadata": {"labels": {"k": ["ok", "a\u0000"]}}}}}"#,
                .badRequest, code: "badRequest", field: "applicationSpec.template.metadata.labels.k[1]")
            try await expect(
                .post, "/deployflows", body: #"{"applicationSpec": {"instanceName": "x", "replicas": 3, "image": "a"}, "reason": "\u0000"}"#,
                .badRequest, code: "badRequest", field: "reason")
            try await expect(
                .post, "/deployflows", body: #"{"applicationSpec": {"instanceName": "x", "replicas": 3, "image": "a"}, "updateStrategy": {"batchSize": 0}}"#,
                .unprocessableContent, code: "invalidField", field: "updateStrategy.batchSize")
            try await expect(
                .post, "/deployflows", body: #"{"applicationSpec": {"instanceName": "x", "replicas": 2, "image": "a"}, "updateStrategy": {"canary": 5}}"#,
                .unprocessableContent, code: "invalidField", field: "updateStrategy.canary")
            try await expect(
                .post, "/deployflows", body: #"{"applicationSpec": {"appID": 10506597173005542, "instanceName": "x", "replicas": 2, "image": "a"}}"#,
                .unprocessableContent, code: "invalidField", field: "applicationSpec.appID")
            try await expect(
                .post, "/deployflows", body: #"{"applicationSpec": {"instanceName": "x", "replicas": 1000000, "image": "a"}}"#,
                .unprocessableContent, code: "invalidField", field: "applicationSpec.replicas")
            try await expect(.get, "/deployflows/nope", .notFound, code: "notFound", field: "name")
            try await expect(.post, "/deployflows/nope/next", .notFound, code: "notFound", field: "name")
            try await expect(.post, "/instances/nope/scales", body: #"{"replicas": 3}"#, .notFound, code: "notCreated", field: "instance")
            // Nothing of the rejected requests reached the log.
            #expect(try await h.store.statistics().events == 0)

            // 409: a second flow on an instance with an active one; an intent on a finished flow.
            let first = try await client.execute(
                uri: "\(base)/deployflows", method: .post, headers: APIHarness.headers("admin-token-1"),
                // Two manual batches: the flow waits after the first one (a single batch could finish before the pause).
                body: ByteBuffer(
                    string: APIHarness.createBody.replacingOccurrences(of: "\"batchSize\":4,\"mode\":\"auto\"", with: "\"batchSize\":2,\"mode\":\"manual\"")
                )
            ) { try APIHarness.json($0) }
            let name = try #require(first["name"] as? String)
            try await expect(.post, "/deployflows", body: APIHarness.createBody, .conflict, code: "activeFlowExists", field: "instance")
            try await expect(.post, "/deployflows/\(name)/resume", .conflict, code: "notPaused")
            try await expect(.post, "/deployflows/\(name)/continue", body: #"{"batches": 99}"#, .unprocessableContent, code: "invalidBatch", field: "batches")
            // A PATCH is one change: pausing and continuing to a batch the plan does not have is refused
            // as a whole (the flow is not left paused).
            try await expect(.patch, "/deployflows/\(name)", body: #"{"paused": true, "batches": 99}"#, .unprocessableContent, code: "invalidBatch", field: "batches")
            #expect(try await h.store.readStream(StreamID("deployflow-\(name)"), afterVersion: 0).allSatisfy { $0.type != "Paused" })
            try await client.execute(
                uri: "\(base)/deployflows/\(name)", method: .patch, headers: APIHarness.headers("admin-token-1"), body: ByteBuffer(string: #"{"paused": true}"#)
            ) { response in
                let paused = try APIHarness.json(response)["paused"] as? Bool
                #expect(paused == true)
            }
            try await client.execute(uri: "\(base)/deployflows/\(name)", method: .delete, headers: APIHarness.headers("admin-token-1")) {
                let phase = try APIHarness.json($0)["phase"] as? String
                #expect(phase == "Canceled")
            }
            try await expect(.post, "/deployflows/\(name)/next", .conflict, code: "flowFinished")
            try await expect(.delete, "/deployflows/\(name)", .conflict, code: "flowFinished", field: "name")
        }
    }

    @Test("Idempotency-Key: a retried create returns the first reply and never makes a second flow")
    func idempotentCreate() async throws {
        let h = try await APIHarness()
        defer { h.store.shutdown() }
        try await h.run { client in
            let base = "/api/v1/namespaces/prod"
            // Three at once, then one more later: one flow.
            let replies = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        try await client.execute(
                            uri: "\(base)/deployflows", method: .post, headers: APIHarness.headers("deployer-token-1", idempotencyKey: "release-1"),
                            body: ByteBuffer(string: APIHarness.createBody)
                        ) { (Int($0.status.code), try APIHarness.json($0)["name"] as? String ?? "") }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.allSatisfy { $0.0 == 201 })
            #expect(Set(replies.map(\.1)).count == 1, "\(replies)")
            try await client.execute(
                uri: "\(base)/deployflows", method: .post, headers: APIHarness.headers("deployer-token-1", idempotencyKey: "release-1"),
                body: ByteBuffer(string: APIHarness.createBody)
            ) { response in
                #expect(response.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
                let name = try APIHarness.json(response)["name"] as? String
                #expect(name == replies[0].1)
            }
            try await client.execute(
                uri: "\(base)/deployflows", method: .post, headers: APIHarness.headers("deployer-token-1", idempotencyKey: "release-1"),
                body: ByteBuffer(string: APIHarness.updateBody("other:v9"))
            ) { #expect($0.status == .unprocessableContent) }
            try await client.execute(uri: "\(base)/deployflows", method: .get, headers: APIHarness.headers("viewer-token-1")) {
                let deploys = try APIHarness.json($0)["deploys"] as? [Any]
                // The list is projected (it may not show the flow yet), but it never shows two.
                #expect(deploys != nil && deploys!.count <= 1, "\(String(describing: deploys))")
            }
            // The global log shows an event once every transaction that began before it has ended.
            let flows = try await h.visible("FlowCreated")
            #expect(flows.count == 1)
        }
    }

    @Test("health, readiness and the OpenAPI document need no token")
    func healthAndDocument() async throws {
        let h = try await APIHarness()
        defer { h.store.shutdown() }
        try await h.run { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/v1/openapi.json", method: .get) { response in
                let document = try APIHarness.json(response)
                #expect(document["openapi"] as? String == "3.1.0")
                let paths = document["paths"] as? [String: Any] ?? [:]
                for path in [
                    "/api/v1/namespaces/{namespace}/deployflows", "/api/v1/namespaces/{namespace}/deployflows/{name}",
                    "/api/v1/namespaces/{namespace}/deployflows/{name}/next", "/api/v1/namespaces/{namespace}/deployflows/{name}/watch",
                    "/api/v1/namespaces/{namespace}/instances/{name}/scales", "/api/v1/inbox", "/api/v1/emergencies",
                    "/api/v1/namespaces/{namespace}/deployflows/{name}/review", "/api/v1/namespaces/{namespace}/releases",
                    "/api/v1/deployflows", "/api/v1/deployflows/{name}", "/api/v1/instances", "/api/v1/whoami",
                    "/api/v1/namespaces/{namespace}/instances/{name}/deletion", "/api/v1/audit/seals", "/api/v1/audit/proofs/inclusion",
                    "/api/v1/audit/proofs/consistency", "/api/v1/deployflows/{name}/seal", "/api/v1/deployflows/{name}/replay",
                    "/api/v1/namespaces/{namespace}/timeline", "/api/v1/deployflows/{name}/compliance", "/api/v1/reports", "/api/v1/reports/records",
                    "/api/v1/events",
                ] {
                    #expect(paths[path] != nil, "\(path)")
                }
                // Who did what, what the caller may do, and the rule of a refusal are part of the contract.
                let schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]] ?? [:]
                let deploy = schemas["Deploy"]?["properties"] as? [String: Any] ?? [:]
                for field in ["allowedActions", "lastIntent", "createdBy", "emergency", "plan", "podCounts", "waiting", "failureReason", "position"] { #expect(deploy[field] != nil, "Deploy.\(field)") }
                #expect((schemas["Batch"]?["properties"] as? [String: Any])?["lastIntent"] != nil)
                #expect((schemas["Batch"]?["properties"] as? [String: Any])?["podCounts"] != nil)
                #expect((schemas["Error"]?["properties"] as? [String: Any])?["rule"] != nil)
            }
        }
    }

    @Test func openModeNamesTheCallerFromTheHeader() async throws {
        let h = try await APIHarness(auth: false)
        defer { h.store.shutdown() }
        try await h.run { client in
            var headers = APIHarness.headers(nil)
            headers[HTTPField.Name("X-Triton-User")!] = "carol"
            try await client.execute(
                uri: "/api/v1/namespaces/prod/deployflows", method: .post, headers: headers, body: ByteBuffer(string: APIHarness.createBody)
            ) { #expect($0.status == .created) }
            let found = try await h.visible("FlowCreated").first
            let created = try #require(found)
            #expect(try EventMetadata.decode(json: created.metadata).actor == "carol")
        }
    }
}
