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

extension TritonAPI {
    @Sendable func listInstances(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "listing instances")
        let namespace = try context.parameters.require("namespace")
        return try Self.encode(["instances": try await FlowQueries(store: self.store).instances(namespace: namespace)])
    }

    @Sendable func getInstance(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "reading an instance")
        let namespace = try context.parameters.require("namespace")
        let name = try context.parameters.require("name")
        let instance = InstanceRef(namespace: namespace, name: name)
        guard let workload = try await self.cluster.workload(instance) else {
            throw APIError.notFound("name", "no instance \(name) in namespace \(namespace)")
        }
        let summary = try await FlowQueries(store: self.store).instances(namespace: namespace, name: name).first
        struct Instance: Encodable {
            var namespace: String
            var name: String
            var replicas: Int
            var availableReplicas: Int
            var status: String
            var appID: Int
            var groupID: Int
            var image: String
            var updateRevision: String
            var activeFlow: String?
            var lastFlow: String?
        }
        return try Self.encode(
            Instance(
                namespace: namespace, name: name, replicas: workload.replicas, availableReplicas: workload.status.readyReplicas,
                status: summary?.isDeleting == true ? "Deleting" : (summary?.activeFlowID == nil ? "Idle" : "Releasing"), appID: summary?.appID ?? 0, groupID: summary?.groupID ?? 0,
                image: workload.image ?? "", updateRevision: workload.status.updateRevision ?? "",
                activeFlow: summary?.activeFlowID, lastFlow: summary?.lastFlowID
            )
        )
    }

    /// `DELETE /instances/{name}`: records who asked to delete the CloneSet and why; the engine's executor
    /// deletes it (its pods go with it) and records that it did. 202 with the deletion; asking again while
    /// it is pending answers the same. Refused (409) while a flow runs on the instance.
    @Sendable func deleteInstance(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.deployer, for: "deleting an instance")
        let namespace = try context.parameters.require("namespace")
        let name = try context.parameters.require("name")
        let state = try await self.handler.requestDeletion(
            InstanceRef(namespace: namespace, name: name), cluster: self.cluster, metadata: self.metadata(request, context, reason: nil)
        )
        return try Self.encode(InstanceDeletionStatus(InstanceRef(namespace: namespace, name: name), state), status: .accepted)
    }

    /// `POST /instances/{name}/rollbacks|restarts|scales`.
    func instanceAction(_ action: String, _ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.deployer, for: "\(action.dropLast()) of an instance")
        let namespace = try context.parameters.require("namespace")
        let name = try context.parameters.require("name")
        let instance = InstanceRef(namespace: namespace, name: name)
        let body = try await JSONBody.parse(request)
        let release: ReleaseRequest.Action
        let strategy: Strategy
        switch action {
        case "rollbacks":
            try body.rejectUnknown(["deployName", "strategy", "reason"])
            release = .rollback(to: try body.string("deployName").map { FlowID($0) })
            strategy = try Self.updateStrategy(try body.object("strategy"))
        case "restarts":
            try body.rejectUnknown(["strategy", "reason"])
            let strategyBody = try body.require("strategy", body.object)
            strategy = try Self.nonUpdateStrategy(strategyBody)
            guard !strategy.podsToDelete.isEmpty else { throw APIError.badRequest(strategyBody.name("podsToDelete"), "name at least one pod") }
            release = .restart
        default:
            try body.rejectUnknown(["replicas", "strategy", "reason"])
            release = .scale(replicas: try body.require("replicas", body.int))
            strategy = try Self.nonUpdateStrategy(try body.object("strategy"))
        }
        let state = try await self.release(
            instance, release, strategy: strategy, metadata: self.metadata(request, context, reason: try body.string("reason"))
        )
        struct Reply: Encodable {
            var deployName: String
            var rollbackTo: String?
            var deploy: FlowStatus
        }
        return try Self.encode(
            Reply(deployName: state.spec!.flowID.rawValue, rollbackTo: state.spec?.rollbackTo?.rawValue, deploy: FlowStatus(state: state)),
            status: .created
        )
    }
}
