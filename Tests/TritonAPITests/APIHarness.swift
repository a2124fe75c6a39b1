import EventStore
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
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
import TritonGRPC
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
        ("lead-token-1", "lena", ["deployer", "approver"]), ("admin-token-2", "ada", ["admin"]),
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
        var api = TritonAPI(store: self.store, handler: handler, cluster: port, authenticator: authenticator)
        // A stream the test left is noticed (and the server can stop) within a second.
        api.heartbeatInterval = .seconds(1)
        self.api = api
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

    /// ``run(_:)`` with the gRPC API served as well; `body` gets the gRPC port.
    func runWithGRPC(_ body: @escaping @Sendable (any TestClientProtocol, Int) async throws -> Void) async throws {
        let server = self.api.grpcServer(host: "127.0.0.1", port: 0)
        let serving = Task { try await server.serve() }
        defer { server.beginGracefulShutdown() }
        _ = serving
        let port = try #require(try await TritonAPI.listeningPort(server))
        try await self.run { client in try await body(client, port) }
    }

    /// `body` with a plaintext gRPC client of the flow service on loopback `port`.
    static func withFlowsClient<Result: Sendable>(
        port: Int, _ body: (Deployflow_DeployFlow.Client<HTTP2ClientTransport.Posix>) async throws -> Result
    ) async throws -> Result {
        try await withGRPCClient(
            transport: try .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
        ) { grpc in
            try await body(Deployflow_DeployFlow.Client(wrapping: grpc))
        }
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

    /// Creates a flow in `prod` from `body` as `token`'s user; its name.
    static func createFlow(_ client: any TestClientProtocol, _ body: String = Self.createBody, token: String = "deployer-token-1") async throws -> String {
        let created = try await client.execute(
            uri: "/api/v1/namespaces/prod/deployflows", method: .post, headers: Self.headers(token), body: ByteBuffer(string: body)
        ) { try Self.json($0) }
        return try #require(created["name"] as? String, "\(created)")
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
