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

/// `deployflow.DeployFlow`, as the open-source Triton names its methods and messages, on the engine.
struct DeployFlowService: Deployflow_DeployFlow.SimpleServiceProtocol {
    let api: TritonAPI

    func flow(_ meta: Deployflow_DeployMeta) async throws -> DeployFlow.State {
        guard !meta.name.isEmpty else { throw APIError.badRequest("deploy.name", "is required") }
        let (state, _) = try await self.api.handler.load(DeployFlow.self, stream: Streams.flow(FlowID(meta.name)))
        guard let spec = state.spec, meta.namespace.isEmpty || spec.instance.namespace == meta.namespace else {
            throw APIError.notFound("deploy.name", "no deployflow \(meta.name) in namespace \(meta.namespace)")
        }
        return state
    }

    func send(_ command: DeployFlow.Command.Kind, _ meta: Deployflow_DeployMeta, reason: String, _ context: ServerContext) async throws
        -> DeployFlow.State
    {
        let state = try await self.flow(meta)
        try TritonAPI.authorize(command, state, user: try caller())
        return try await self.api.handler.send(command, to: state.spec!.flowID, metadata: try metadata(context, reason: reason)).state
    }

    /// Writes the flow now and after each change until `done` holds for it (or it is finished).
    func follow(
        _ flow: FlowID, writer: RPCWriter<Deployflow_DeployReply>, until done: (DeployFlow.State) -> Bool
    ) async throws {
        var sent: Int64 = -1
        while true {
            let (state, version) = try await self.api.handler.load(DeployFlow.self, stream: Streams.flow(flow))
            if version != sent {
                try await writer.write(Deployflow_DeployReply(state))
                sent = version
            }
            if done(state) || state.isFinished { return }
            try await Task.sleep(for: self.api.watchInterval)
        }
    }

    func get(request: Deployflow_DeployMetaRequest, context: ServerContext) async throws -> Deployflow_DeployReply {
        try await rpc {
            try caller().require(.viewer, for: "reading a flow")
            return Deployflow_DeployReply(try await self.flow(request.deploy))
        }
    }

    func gets(request: Deployflow_DeploysRequest, context: ServerContext) async throws -> Deployflow_DeploysReply {
        try await rpc {
            try caller().require(.viewer, for: "listing flows")
            var reply = Deployflow_DeploysReply()
            reply.deploys = try await self.list(request.filter).map { Deployflow_Deploy($0) }
            return reply
        }
    }

    func list(_ filter: Deployflow_DeployFilter) async throws -> [FlowStatus] {
        var query = FlowFilter(
            namespace: filter.namespace.isEmpty ? nil : filter.namespace, instanceName: filter.instanceName.isEmpty ? nil : filter.instanceName
        )
        if !filter.action.isEmpty {
            guard let action = Action(rawValue: filter.action) else {
                throw APIError.badRequest("filter.action", "'\(filter.action)' is not one of \(Action.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.action = action
        }
        query.start = max(0, Int(filter.start))
        // As REST: at most 1000 a page (a Gets or ListAndWatch without a page size reads no more).
        query.pageSize = filter.pageSize > 0 ? min(Int(filter.pageSize), 1000) : 1000
        if filter.hasAfter { query.after = filter.after.date }
        return try await FlowQueries(store: self.api.store).list(query)
    }

    func cancel(request: Deployflow_DeployMetaRequest, response: RPCWriter<Deployflow_DeployReply>, context: ServerContext) async throws {
        try await rpc {
            let state = try await self.send(.cancel, request.deploy, reason: request.reason, context)
            try await self.follow(state.spec!.flowID, writer: response) { $0.isFinished }
        }
    }

    func pause(request: Deployflow_DeployMetaRequest, response: RPCWriter<Deployflow_DeployReply>, context: ServerContext) async throws {
        try await rpc {
            let state = try await self.send(.pause, request.deploy, reason: request.reason, context)
            try await self.follow(state.spec!.flowID, writer: response) { $0.paused }
        }
    }

    func resume(request: Deployflow_DeployMetaRequest, response: RPCWriter<Deployflow_DeployReply>, context: ServerContext) async throws {
        try await rpc {
            let state = try await self.send(.resume, request.deploy, reason: request.reason, context)
            try await self.follow(state.spec!.flowID, writer: response) { !$0.paused }
        }
    }

    func `continue`(request: Deployflow_ContinueRequest, context: ServerContext) async throws -> Deployflow_DeployReply {
        try await rpc {
            if !request.target.stage.isEmpty { throw APIError.badRequest("target.stage", "stages are not supported; use batches") }
            let state = try await self.flow(request.deploy)
            let target = request.target.batches > 0 ? Int(request.target.batches) : state.plan.count
            return Deployflow_DeployReply(
                try await TritonAPI.renaming(["batch": "target.batches"]) {
                    try await self.send(.continueTo(batch: target), request.deploy, reason: request.reason, context)
                }
            )
        }
    }

    func next(request: Deployflow_NextRequest, context: ServerContext) async throws -> Deployflow_DeployReply {
        try await rpc { Deployflow_DeployReply(try await self.send(.next, request.deploy, reason: request.reason, context)) }
    }

    func delete(request: Deployflow_DeployMetaRequest, context: ServerContext) async throws -> Deployflow_EmptyReply {
        try await rpc {
            // As REST's DELETE: cancels an active flow; a finished one stays in the log (FAILED_PRECONDITION).
            _ = try await self.send(.cancel, request.deploy, reason: request.reason, context)
            return Deployflow_EmptyReply()
        }
    }

    func watch(request: Deployflow_WatchRequest, response: RPCWriter<Deployflow_DeployReply>, context: ServerContext) async throws {
        try await rpc {
            try caller().require(.viewer, for: "watching a flow")
            let state = try await self.flow(request.deploy)
            let target = Int(request.target.batches)
            try await self.follow(state.spec!.flowID, writer: response) { state in
                target > 0 && state.finishedBatches >= target
            }
        }
    }

    func listAndWatch(request: Deployflow_DeploysRequest, response: RPCWriter<Deployflow_DeploysReply>, context: ServerContext) async throws {
        try await rpc {
            try caller().require(.viewer, for: "listing flows")
            var last: [FlowStatus]?
            while !Task.isCancelled {
                let flows = try await self.list(request.filter)
                if flows != last {
                    var reply = Deployflow_DeploysReply()
                    reply.deploys = flows.map { Deployflow_Deploy($0) }
                    try await response.write(reply)
                    last = flows
                }
                try await Task.sleep(for: self.api.watchInterval)
            }
        }
    }

    func create(request: Deployflow_CreateRequest, context: ServerContext) async throws -> Deployflow_DeployReply {
        try await rpc {
            try caller().require(.deployer, for: "creating a flow")
            let instanceName = request.instanceName.isEmpty ? request.applicationSpec.instanceName : request.instanceName
            guard !instanceName.isEmpty else { throw APIError.badRequest("instanceName", "is required") }
            guard !request.namespace.isEmpty else { throw APIError.badRequest("namespace", "is required") }
            let image = request.applicationSpec.image
            guard !image.isEmpty else { throw APIError.badRequest("applicationSpec.image", "is required") }
            let appID = request.appID != 0 ? request.appID : request.applicationSpec.appID
            let groupID = request.groupID != 0 ? request.groupID : request.applicationSpec.groupID
            let appName = [request.appName, request.applicationSpec.appName, instanceName].first { !$0.isEmpty }!
            let spec = AppSpec(appID: Int(appID), groupID: Int(groupID), appName: appName, image: image)
            let state = try await self.api.createOrUpdate(
                InstanceRef(namespace: request.namespace, name: instanceName), spec: spec,
                replicas: request.applicationSpec.hasReplicas ? Int(request.applicationSpec.replicas.value) : nil,
                replicasField: "applicationSpec.replicas",
                strategy: try strategy(request.hasStrategy ? request.strategy : nil, field: "strategy"), strategyField: "strategy",
                metadata: try metadata(context, reason: request.reason)
            )
            return Deployflow_DeployReply(state)
        }
    }
}
