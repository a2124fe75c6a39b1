import EventStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PostgresStore
import TritonDomain
import TritonEngine
import TritonJSON
import TritonProjections

/// The REST API under `/api/v1`, compatible with the open-source Triton's routes and shapes, plus our
/// own intents (`next|continue|pause|resume|cancel` with a reason), history, and Server-Sent Events
/// that follow the log. Every event an API call appends records the caller, the reason (`X-Triton-Reason` or the
/// body's `reason`), the request id (`X-Request-ID`, else generated) and the client address.
public struct TritonAPI: Sendable {
    public let store: PostgresEventStore
    public let handler: CommandHandler
    public let cluster: any ClusterPort
    public let authenticator: Authenticator
    public let idempotency: IdempotencyStore
    /// Every intent goes through here: validation, authorization, the principal as the actor.
    public let intents: Intents
    /// How often a quiet Server-Sent Events stream sends a comment (noticing a client that left).
    public var heartbeatInterval: Duration = .seconds(5)

    /// `policy` defaults to four-eyes everywhere with tokens, and off in open mode (one person plays
    /// every role there).
    public init(
        store: PostgresEventStore, handler: CommandHandler, cluster: any ClusterPort, authenticator: Authenticator,
        policy: AuthorizationPolicy? = nil
    ) {
        self.store = store
        self.handler = handler
        self.cluster = cluster
        self.authenticator = authenticator
        self.idempotency = IdempotencyStore(store: store)
        self.intents = Intents(
            handler: handler, cluster: cluster, policy: policy ?? (authenticator.isOpen ? .open : .standard)
        )
    }

    public func router() -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: AuthMiddleware(authenticator: self.authenticator))
        router.get("/healthz") { _, _ in try Self.json(["status": "ok"]) }
        router.get("/readyz") { _, _ in
            do {
                try await self.store.ping()
                return try Self.json(["status": "ready"])
            } catch {
                return try Self.json(["status": "database unreachable"], status: .serviceUnavailable)
            }
        }
        router.get("/api/v1/openapi.json") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        router.get("/api/v1/whoami", use: self.whoami)
        router.get("/api/v1/events", use: self.logEvents)
        router.get("/api/v1/deployflows", use: self.listFlows)
        router.get("/api/v1/deployflows/:name", use: self.getFlow)
        router.get("/api/v1/deployflows/:name/seal", use: self.flowSeal)
        router.get("/api/v1/deployflows/:name/replay", use: self.replay)
        router.get("/api/v1/deployflows/:name/compliance", use: self.compliance)
        router.get("/api/v1/reports", use: self.report)
        router.get("/api/v1/reports/records", use: self.reportRecords)
        router.get("/api/v1/audit/seals", use: self.seals)
        router.get("/api/v1/audit/proofs/inclusion", use: self.inclusionProof)
        router.get("/api/v1/audit/proofs/consistency", use: self.consistencyProof)
        router.get("/api/v1/instances", use: self.listInstances)
        router.get("/api/v1/inbox", use: self.inbox)
        router.get("/api/v1/emergencies", use: self.emergencies)
        let v1 = router.group("/api/v1/namespaces/:namespace")
        v1.get("deployflows", use: self.listFlows)
        v1.post("deployflows") { request, context in
            try await self.idempotent(request, context) { request, context in try await self.createFlow(request, context) }
        }
        v1.post("releases") { request, context in
            try await self.idempotent(request, context) { request, context in try await self.release(request, context) }
        }
        v1.get("deployflows/:name", use: self.getFlow)
        v1.patch("deployflows/:name", use: self.patchFlow)
        v1.delete("deployflows/:name", use: self.deleteFlow)
        v1.get("deployflows/:name/history", use: self.history)
        v1.get("deployflows/:name/replay", use: self.replay)
        v1.get("deployflows/:name/compliance", use: self.compliance)
        v1.get("timeline", use: self.timeline)
        v1.get("deployflows/:name/watch", use: self.watch)
        for intent in ["next", "continue", "pause", "resume", "cancel", "review"] {
            v1.post("deployflows/:name/\(intent)") { request, context in
                try await self.idempotent(request, context) { request, context in try await self.control(intent, request, context) }
            }
        }
        v1.get("instances", use: self.listInstances)
        v1.get("instances/:name", use: self.getInstance)
        for action in ["rollbacks", "restarts", "scales"] {
            v1.post("instances/:name/\(action)") { request, context in
                try await self.idempotent(request, context) { request, context in try await self.instanceAction(action, request, context) }
            }
        }
        v1.delete("instances/:name", use: self.deleteInstance)
        v1.get("instances/:name/deletion", use: self.instanceDeletion)
        WebUI.add(to: router)
        return router
    }

    // MARK: - Replies

    static func encode(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try FlowStatus.makeEncoder().encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func json(_ value: [String: String], status: HTTPResponse.Status = .ok) throws -> Response {
        try Self.encode(value, status: status)
    }
}
