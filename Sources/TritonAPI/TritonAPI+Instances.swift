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
        // `/api/v1/instances` lists every namespace (or the one of `?namespace=`).
        let namespace = context.parameters.get("namespace") ?? request.uri.queryParameters.get("namespace")
        try await self.waitForProjections(request)
        return try Self.encode(["instances": try await FlowQueries(store: self.store).instances(namespace: namespace)])
    }

    @Sendable func getInstance(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "reading an instance")
        let namespace = try context.parameters.require("namespace")
        let name = try context.parameters.require("name")
        let instance = InstanceRef(namespace: namespace, name: name)
        if let text = request.uri.queryParameters.get("asOf") {
            // The instance as it was: from its stream in the log, not from the cluster.
            guard let point = LogPoint(text) else {
                throw APIError.badRequest("asOf", "'\(text)' is neither a log position (an integer) nor an RFC 3339 time (2026-12-07T14:03:12Z)")
            }
            guard let past = try await FlowHistory.instanceAsOf(instance, point, store: self.store) else {
                throw APIError.notFound("asOf", "instance \(namespace)/\(name) had no event yet at \(point)")
            }
            return try Self.encode(past)
        }
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
            /// The pods as the cluster shows them now, with their revision.
            var pods: [Pod]
        }
        struct Pod: Encodable {
            var name: String
            var revision: String?
            /// Of the CloneSet's update revision (the version being released).
            var updated: Bool
            var phase: String
            var containersReady: Bool
            var ready: Bool
            /// The traffic gate: `True` (in traffic), `False` or `Absent`.
            var gate: String
            var restartCount: Int
            var terminating: Bool
            var waitingReason: String?
        }
        let observed = try await self.cluster.pods(instance).map { $0.observation(updateRevision: workload.status.updateRevision) }
        let pods = observed.sorted { $0.name < $1.name }.map { pod in
            Pod(
                name: pod.name, revision: pod.revision, updated: pod.isUpdated, phase: pod.phase.rawValue, containersReady: pod.containersReady,
                ready: pod.ready, gate: pod.gate.rawValue, restartCount: pod.restartCount, terminating: pod.terminating,
                waitingReason: pod.waitingReason
            )
        }
        return try Self.encode(
            Instance(
                namespace: namespace, name: name, replicas: workload.replicas, availableReplicas: workload.status.readyReplicas,
                status: summary?.isDeleting == true ? "Deleting" : (summary?.activeFlowID == nil ? "Idle" : "Releasing"), appID: summary?.appID ?? 0, groupID: summary?.groupID ?? 0,
                image: workload.image ?? "", updateRevision: workload.status.updateRevision ?? "",
                activeFlow: summary?.activeFlowID, lastFlow: summary?.lastFlowID, pods: pods
            )
        )
    }

    /// `DELETE /instances/{name}`: records who asked to delete the CloneSet and why; the engine's executor
    /// deletes it (its pods go with it) and records that it did. 202 with the deletion; asking again while
    /// it is pending answers the same. Refused (409) while a flow runs on the instance. Why: `?reason=`.
    @Sendable func deleteInstance(_ request: Request, _ context: APIContext) async throws -> Response {
        let namespace = try context.parameters.require("namespace")
        let name = try context.parameters.require("name")
        let reason = request.uri.queryParameters.get("reason")
        let state = try await self.intents.deleteInstance(InstanceRef(namespace: namespace, name: name), context.caller(request, reason: reason))
        return try Self.encode(InstanceDeletionStatus(InstanceRef(namespace: namespace, name: name), state), status: .accepted)
    }

    /// `POST /instances/{name}/rollbacks|restarts|scales`.
    func instanceAction(_ action: String, _ request: Request, _ context: APIContext) async throws -> Response {
        let namespace = try context.parameters.require("namespace")
        let name = try context.parameters.require("name")
        let instance = InstanceRef(namespace: namespace, name: name)
        let body = try await JSONBody.parse(request)
        let release: Intents.Release
        switch action {
        case "rollbacks":
            try body.rejectUnknown(["deployName", "strategy", "reason"])
            release = Intents.Release(
                instance: instance, action: .rollback(to: try body.string("deployName").map { FlowID($0) }),
                strategy: try Self.strategyInput(try body.object("strategy"), .update)
            )
        case "restarts":
            try body.rejectUnknown(["strategy", "reason"])
            release = Intents.Release(
                instance: instance, action: .restart, strategy: try Self.strategyInput(try body.require("strategy", body.object), .nonUpdate)
            )
        default:
            try body.rejectUnknown(["replicas", "strategy", "reason"])
            release = Intents.Release(
                instance: instance, action: .scale(replicas: try body.require("replicas", body.int)),
                strategy: try Self.strategyInput(try body.object("strategy"), .nonUpdate)
            )
        }
        let record = try await self.intents.release(release, context.caller(request, reason: try body.string("reason")))
        struct Reply: Encodable {
            var deployName: String
            var rollbackTo: String?
            var deploy: FlowStatus
        }
        return try Self.encode(
            Reply(
                deployName: record.id.rawValue, rollbackTo: record.state.spec?.rollbackTo?.rawValue, deploy: self.status(record, for: context)
            ),
            status: .created
        )
    }
}
