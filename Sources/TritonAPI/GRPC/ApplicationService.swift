import EventStore
import Foundation
import GRPCCore
import HTTPTypes
import PostgresStore
import SwiftProtobuf
import TritonDomain
import TritonEngine
import TritonGRPC
import TritonProjections

/// `application.Application`: instances and the actions on them.
struct ApplicationService: Application_Application.SimpleServiceProtocol {
    let api: TritonAPI

    func instance(_ meta: Application_InstanceMeta) throws -> InstanceRef {
        guard !meta.namespace.isEmpty else { throw APIError.badRequest("instance.namespace", "is required") }
        guard !meta.name.isEmpty else { throw APIError.badRequest("instance.name", "is required") }
        return InstanceRef(namespace: meta.namespace, name: meta.name)
    }

    func get(request: Application_InstanceMetaRequest, context: ServerContext) async throws -> Application_InstanceReply {
        try await rpc {
            try caller().require(.viewer, for: "reading an instance")
            let ref = try self.instance(request.instance)
            guard let workload = try await self.api.cluster.workload(ref) else {
                throw APIError.notFound("instance.name", "no instance \(ref.name) in namespace \(ref.namespace)")
            }
            let summary = try await FlowQueries(store: self.api.store).instances(namespace: ref.namespace, name: ref.name).first
            var reply = Application_InstanceReply()
            reply.instance = Self.message(ref, workload: workload, summary: summary)
            return reply
        }
    }

    static func message(_ ref: InstanceRef, workload: ClusterWorkload?, summary: InstanceSummary?) -> Application_Instance {
        var instance = Application_Instance()
        instance.namespace = ref.namespace
        instance.name = ref.name
        instance.replicas = Int32(clamping: workload?.replicas ?? summary?.replicas ?? 0)
        instance.availableReplicas = Int32(clamping: workload?.status.readyReplicas ?? summary?.availableReplicas ?? 0)
        if summary?.isDeleting == true {
            instance.status = "Deleting"
        } else {
            instance.status = summary?.activeFlowID == nil ? "Idle" : "Releasing"
        }
        instance.appID = Int32(clamping: summary?.appID ?? 0)
        instance.groupID = Int32(clamping: summary?.groupID ?? 0)
        instance.image = workload?.image ?? summary?.currentImage ?? ""
        instance.updateRevision = workload?.status.updateRevision ?? summary?.updateRevision ?? ""
        return instance
    }

    func gets(request: Application_GetsRequest, context: ServerContext) async throws -> Application_InstancesReply {
        try await rpc {
            try caller().require(.viewer, for: "listing instances")
            let namespace = request.filter.namespace.isEmpty ? nil : request.filter.namespace
            var reply = Application_InstancesReply()
            reply.instances = try await FlowQueries(store: self.api.store).instances(namespace: namespace).map {
                Self.message(InstanceRef(namespace: $0.namespace, name: $0.name), workload: nil, summary: $0)
            }
            return reply
        }
    }

    func release(_ ref: InstanceRef, _ action: ReleaseRequest.Action, _ strategy: StrategyInput, reason: String, _ context: ServerContext)
        async throws -> FlowRecord
    {
        try await self.api.intents.release(
            Intents.Release(instance: ref, action: action, strategy: strategy), try intentCaller(context, reason: reason)
        )
    }

    func restart(request: Application_RestartRequest, context: ServerContext) async throws -> Application_RestartReply {
        try await rpc {
            let record = try await self.release(
                try self.instance(request.instance), .restart, strategy(request.hasStrategy ? request.strategy : nil), reason: request.reason,
                context
            )
            var reply = Application_RestartReply()
            reply.deployName = record.id.rawValue
            return reply
        }
    }

    func scale(request: Application_ScaleRequest, context: ServerContext) async throws -> Application_ScaleReply {
        try await rpc {
            // proto3 cannot tell a 0 from a field left out: scaling every pod away takes a Delete.
            guard request.replicas > 0 else {
                throw APIError.badRequest("replicas", "give the replicas to scale to (1 or more); to remove the instance, delete it")
            }
            let record = try await self.release(
                try self.instance(request.instance), .scale(replicas: Int(request.replicas)),
                strategy(request.hasStrategy ? request.strategy : nil), reason: request.reason, context
            )
            var reply = Application_ScaleReply()
            reply.deployName = record.id.rawValue
            return reply
        }
    }

    func rollback(request: Application_RollbackRequest, context: ServerContext) async throws -> Application_RollbackReply {
        try await rpc {
            let to = request.deployName.isEmpty ? nil : FlowID(request.deployName)
            let record = try await self.release(
                try self.instance(request.instance), .rollback(to: to), strategy(request.hasStrategy ? request.strategy : nil),
                reason: request.reason, context
            )
            var reply = Application_RollbackReply()
            reply.deployName = record.id.rawValue
            reply.rollbackTo = record.state.spec?.rollbackTo?.rawValue ?? ""
            return reply
        }
    }

    func delete(request: Application_InstanceMetaRequest, context: ServerContext) async throws -> Application_EmptyReply {
        try await rpc {
            let instance = try self.instance(request.instance)
            _ = try await TritonAPI.renaming(["name": "instance.name"]) {
                try await self.api.intents.deleteInstance(instance, try intentCaller(context, reason: ""))
            }
            return Application_EmptyReply()
        }
    }
}

/// `pod.Pod`: an instance's pods as the cluster shows them.
struct PodService: Pod_Pod.SimpleServiceProtocol {
    let api: TritonAPI

    static func message(_ pod: ClusterPod, namespace: String, instance: String) -> Pod_PodInfo {
        var info = Pod_PodInfo()
        info.namespace = namespace
        info.name = pod.name
        info.instanceName = instance
        info.status = pod.terminating ? "Terminating" : (pod.ready ? "Ready" : pod.phase.rawValue)
        info.updateRevision = pod.revision ?? ""
        return info
    }

    func get(request: Pod_PodMetaRequest, context: ServerContext) async throws -> Pod_PodReply {
        try await rpc {
            try caller().require(.viewer, for: "reading a pod")
            let name = request.pod.name
            // CloneSet pods are named <cloneset>-<5 characters>.
            guard !request.pod.namespace.isEmpty, name.count > 6, let dash = name.lastIndex(of: "-") else {
                throw APIError.badRequest("pod", "give the pod's namespace and name")
            }
            let instance = String(name[..<dash])
            let pods = try await self.api.cluster.pods(InstanceRef(namespace: request.pod.namespace, name: instance))
            guard let pod = pods.first(where: { $0.name == name }) else {
                throw APIError.notFound("pod.name", "no pod \(name) in namespace \(request.pod.namespace)")
            }
            var reply = Pod_PodReply()
            reply.pod = Self.message(pod, namespace: request.pod.namespace, instance: instance)
            return reply
        }
    }

    func gets(request: Pod_GetsRequest, context: ServerContext) async throws -> Pod_PodsReply {
        try await rpc {
            try caller().require(.viewer, for: "listing pods")
            guard !request.filter.namespace.isEmpty, !request.filter.instanceName.isEmpty else {
                throw APIError.badRequest("filter", "give namespace and instanceName")
            }
            var pods = try await self.api.cluster.pods(InstanceRef(namespace: request.filter.namespace, name: request.filter.instanceName))
            if !request.noSort { pods.sort { $0.name < $1.name } }
            var reply = Pod_PodsReply()
            reply.pods = pods.map { Self.message($0, namespace: request.filter.namespace, instance: request.filter.instanceName) }
            return reply
        }
    }
}
