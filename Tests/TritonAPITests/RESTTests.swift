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

/// The REST API over real HTTP/1.1 on loopback, with the engine running behind it against the
/// in-process simulated cluster (fast clock) and the real PostgreSQL.
struct APIHarness {
    let store: PostgresEventStore
    let api: TritonAPI
    let runner: FlowRunner
    let cluster: SimulatedCluster

    static let tokens: [(token: String, user: String, roles: [String])] = [
        ("viewer-token-1", "vera", ["viewer"]), ("deployer-token-1", "dave", ["deployer"]),
        ("approver-token-1", "anna", ["approver"]), ("admin-token-1", "root", ["admin"]),
    ]

    init(auth: Bool = true) async throws {
        self.store = try await TestDatabase.makeStore(poolSize: 6, schema: TestDatabase.schemaName(prefix: "api"))
        var configuration = SimConfiguration(port: 0, timeScale: 40, seed: 5)
        configuration.timingJitter = 0
        let cluster = SimulatedCluster(configuration: configuration)
        self.cluster = cluster
        try cluster.create(.namespaces, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "prod"]])
        let port = SimClusterPort(cluster: cluster)
        let handler = CommandHandler(store: self.store, cache: StateCache())
        self.runner = FlowRunner(
            worker: FlowWorker(handler: handler, cluster: port, clock: { cluster.clock.date(at: cluster.now) }),
            tickInterval: .milliseconds(20)
        )
        var authenticator = Authenticator.open
        if auth {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(self.store.configuration.schema).json")
            let entries = Self.tokens.map { ["token": $0.token, "user": $0.user, "roles": $0.roles] as [String: Any] }
            try JSONSerialization.data(withJSONObject: ["tokens": entries]).write(to: file)
            authenticator = try Authenticator(tokensFile: file.path)
        }
        self.api = TritonAPI(store: self.store, handler: handler, cluster: port, authenticator: authenticator)
    }

    /// Runs `body` against the API on a loopback port while the engine drives the flows.
    func run(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let runner = self.runner
        let cluster = self.cluster
        let simulation = Task { try await cluster.run() }
        defer { simulation.cancel() }
        _ = try await cluster.waitUntilListening()
        let engine = Task { try await runner.run() }
        defer { engine.cancel() }
        // The query tables behind the lists, as `triton serve` keeps them.
        let projector = FlowProjector(store: self.store)
        let projection = Task { try await projector.run() }
        defer { projection.cancel() }
        let app = Application(router: self.api.router())
        try await app.test(.live) { client in try await body(client) }
    }

    /// The events of `type` in the global log, once it shows any (a reader sees an event only after every
    /// transaction that began before it has ended, and the engine keeps some running), plus a moment more.
    func visible(_ type: String) async throws -> [RecordedEvent] {
        for _ in 0..<200 {
            if try await self.store.readAll(after: .start, limit: 100_000).contains(where: { $0.type == type }) { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        try await Task.sleep(for: .milliseconds(300))
        return try await self.store.readAll(after: .start, limit: 100_000).filter { $0.type == type }
    }

    static func headers(_ token: String?, reason: String? = nil, idempotencyKey: String? = nil) -> HTTPFields {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let reason { headers[HTTPField.Name("X-Triton-Reason")!] = reason }
        if let idempotencyKey { headers[HTTPField.Name("Idempotency-Key")!] = idempotencyKey }
        headers[.contentType] = "application/json"
        return headers
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        let text = String(buffer: response.body)
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(response.status): \(text)")
    }

    static let createBody = """
        {"applicationSpec":{"appID":12122,"groupID":10010,"appName":"checkout","instanceName":"checkout",
         "template":{"spec":{"containers":[{"name":"app","image":"shop/checkout:v1","ports":[{"containerPort":80}]}]}},"replicas":4},
         "updateStrategy":{"batchSize":4,"mode":"auto"}}
        """

    static func updateBody(_ image: String) -> String {
        """
        {"applicationSpec":{"appID":12122,"groupID":10010,"appName":"checkout","instanceName":"checkout",
         "template":{"spec":{"containers":[{"name":"app","image":"\(image)"}]}}},
         "updateStrategy":{"canary":1,"batchSize":"50%","mode":"manual"}}
        """
    }

    /// Polls `GET` until `done` holds for the flow (or fails after 60 s).
    static func waitFor(
        _ client: any TestClientProtocol, _ name: String, token: String = "viewer-token-1", _ done: ([String: Any]) -> Bool
    ) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let flow = try await client.execute(uri: "/api/v1/namespaces/prod/deployflows/\(name)", method: .get, headers: Self.headers(token)) {
                try Self.json($0)
            }
            if done(flow) { return flow }
            guard ContinuousClock.now < deadline else {
                Issue.record("flow \(name) did not get there: \(flow)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func batchPhase(_ flow: [String: Any], _ batch: Int) -> String? {
        ((flow["conditions"] as? [[String: Any]]) ?? []).first { $0["batch"] as? Int == batch }?["phase"] as? String
    }
}

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
                #expect(message == "next/continue on the canary batch needs the approver role; dave has deployer")
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
                body: ByteBuffer(string: APIHarness.createBody.replacingOccurrences(of: "\"mode\":\"auto\"", with: "\"mode\":\"manual\""))
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
                    "/api/v1/namespaces/{namespace}/instances/{name}/scales",
                ] {
                    #expect(paths[path] != nil, "\(path)")
                }
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
