import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PostgresStore
import TritonDomain
import TritonEngine
import TritonProjections

// Triton's own routes besides the open-source Triton's: one release route with every action (what the
// CLI sends), who the caller is, the lists across namespaces, and an instance's deletion.

extension TritonAPI {
    /// `POST /namespaces/{namespace}/releases`: `{"action": "create|update|rollback|scale|restart",
    /// "instance", "image", "replicas", "appID", "groupID", "appName", "rollbackTo", "flowID", "strategy",
    /// "reason"}`. Unlike `POST /deployflows` (create or update, whichever the cluster needs), `create`
    /// is refused when the CloneSet exists and `update` when it does not. 201 with the flow. With
    /// `?dryRun=true`, 200 with what it would do (``ReleasePreview``) and nothing written.
    func release(_ request: Request, _ context: APIContext) async throws -> Response {
        let namespace = try context.parameters.require("namespace")
        let body = try await JSONBody.parse(request)
        try body.rejectUnknown([
            "action", "instance", "image", "replicas", "appID", "groupID", "appName", "rollbackTo", "flowID", "strategy", "reason",
        ])
        let instance = InstanceRef(namespace: namespace, name: try body.require("instance", body.string))
        let action: ReleaseRequest.Action
        switch try body.require("action", body.string) {
        case "create":
            let image = try body.require("image", body.string)
            let spec = AppSpec(
                appID: try body.int("appID") ?? 0, groupID: try body.int("groupID") ?? 0, appName: try body.string("appName") ?? instance.name,
                image: image
            )
            action = .create(spec, replicas: try body.require("replicas", body.int))
        case "update":
            action = .update(image: try body.require("image", body.string), appSpec: nil)
        case "rollback":
            action = .rollback(to: try body.string("rollbackTo").map { FlowID($0) })
        case "scale":
            action = .scale(replicas: try body.require("replicas", body.int))
        case "restart":
            action = .restart
        case let other:
            throw APIError(.unprocessableContent, code: "invalidField", field: "action", "'\(other)' is not one of create, update, rollback, scale, restart")
        }
        let input = try Self.strategyInput(try body.object("strategy"), nil)
        let release = Intents.Release(
            instance: instance, action: action, strategy: input, flowID: try body.string("flowID").map { FlowID($0) },
            strategyField: "strategy", replicasField: "replicas", appSpecField: "", rollbackField: "rollbackTo"
        )
        let caller = context.caller(request, reason: try body.string("reason"))
        if let dryRun = request.uri.queryParameters.get("dryRun") {
            guard dryRun == "true" || dryRun == "All" else { throw APIError.badRequest("dryRun", "'\(dryRun)' is not true (or All)") }
            let preview = try await self.intents.preview(release, caller)
            return try Self.encode(
                ReleasePreview(
                    from: .init(image: preview.fromImage, replicas: preview.fromReplicas),
                    to: .init(image: preview.toImage, replicas: preview.toReplicas), deploy: FlowStatus.preview(preview.state)
                )
            )
        }
        let record = try await self.intents.release(release, caller)
        return try Self.encode(self.status(record, for: context), status: .created)
    }

    /// `?dryRun=true`: what the release would do, decided by the same planner, with nothing written.
    struct ReleasePreview: Encodable {
        struct Side: Encodable {
            /// `nil`: no CloneSet yet.
            var image: String?
            var replicas: Int
        }
        var dryRun = true
        var from: Side
        var to: Side
        /// The flow as it would be created: its plan of batches, the strategy in force.
        var deploy: FlowStatus
    }

    /// `GET /api/v1/whoami`: the caller as the server sees it, and whether the API is open.
    @Sendable func whoami(_ request: Request, _ context: APIContext) async throws -> Response {
        struct Reply: Encodable {
            var user: String
            var roles: [String]
            var open: Bool
        }
        let roles = Role.allCases.filter { context.user.roles.contains($0) }.map(\.rawValue)
        return try Self.encode(Reply(user: context.user.name, roles: roles, open: self.authenticator.isOpen))
    }

    /// `GET /namespaces/{namespace}/instances/{name}/deletion`: the instance's deletion as the log has it.
    @Sendable func instanceDeletion(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "reading an instance")
        let instance = InstanceRef(namespace: try context.parameters.require("namespace"), name: try context.parameters.require("name"))
        let state = try await self.handler.load(Instance.self, stream: Streams.instance(instance)).state
        guard state.deletion != nil else { throw APIError.notFound("name", "no deletion was asked for instance \(instance)") }
        return try Self.encode(InstanceDeletionStatus(instance, state))
    }

    /// With `?consistent=true`, a list waits (up to 10 s) until the projections hold every event the log
    /// had when the request came: a client reads what it just wrote. 503 when they stay behind.
    func waitForProjections(_ request: Request) async throws {
        guard request.uri.queryParameters.get("consistent") == "true" else { return }
        guard try await FlowProjector(store: self.store).waitUntilProjected(timeout: .seconds(10)) else {
            throw APIError(.serviceUnavailable, code: "projectionsBehind", "the projections are more than 10 s behind the log; try again")
        }
    }
}
