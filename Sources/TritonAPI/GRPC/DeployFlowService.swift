import EventStore
import Foundation
import GRPCCore
import HTTPTypes
import PostgresStore
import ServiceLifecycle
import SwiftProtobuf
import TritonDomain
import TritonEngine
import TritonGRPC
import TritonProjections

/// `deployflow.DeployFlow`, as the open-source Triton names its methods and messages, on the engine.
struct DeployFlowService: Deployflow_DeployFlow.SimpleServiceProtocol {
    let api: TritonAPI

    func flow(_ meta: Deployflow_DeployMeta) async throws -> FlowRecord {
        guard !meta.name.isEmpty else { throw APIError.badRequest("deploy.name", "is required") }
        return try await self.api.intents.flow(FlowID(meta.name), namespace: meta.namespace.isEmpty ? nil : meta.namespace, field: "deploy.name")
    }

    /// The flow as a reply shows it to the caller: who did what, and what the caller may do now.
    func reply(_ record: FlowRecord) throws -> Deployflow_DeployReply {
        Deployflow_DeployReply(record, allowedActions: self.api.intents.allowedActions(record, try caller()))
    }

    func send(_ control: Intents.Control, _ meta: Deployflow_DeployMeta, reason: String, _ context: ServerContext) async throws
        -> FlowRecord
    {
        let record = try await self.flow(meta)
        return try await self.api.intents.control(record.id, namespace: nil, control, try intentCaller(context, reason: reason))
    }

    /// Writes the flow now (unless it has no event after `resumeAfter`) and after each of its events
    /// (one reply per event, following the log), until `done` holds for it or it is finished.
    func follow(
        _ flow: FlowID, resumeAfter: Int64 = 0, writer: RPCWriter<Deployflow_DeployReply>, until done: (DeployFlow.State) -> Bool
    ) async throws {
        var sent: Int64 = -1
        func send(_ record: FlowRecord) async throws {
            guard record.logPosition.position > sent else { return }
            try await writer.write(try self.reply(record))
            sent = record.logPosition.position
        }
        // Resumed: from the state at that event of the flow on, one reply per later event.
        guard let start = try await TritonAPI.flowEvents(flow, through: resumeAfter > 0 ? resumeAfter : nil, store: self.api.store) else {
            throw APIError.badRequest("resumeAfter", "no event of flow \(flow) has log position \(resumeAfter)")
        }
        let first = try FlowRecord(id: flow, recorded: start)
        if resumeAfter > 0 { sent = resumeAfter } else { try await send(first) }
        if done(first.state) || first.state.isFinished { return }
        for try await state in TritonAPI.flowStates(flow, after: start, store: self.api.store, heartbeat: .seconds(60)) {
            guard let state else { continue }
            try await send(state)
            if done(state.state) || state.state.isFinished { return }
        }
    }

    func get(request: Deployflow_DeployMetaRequest, context: ServerContext) async throws -> Deployflow_DeployReply {
        try await rpc {
            try caller().require(.viewer, for: "reading a flow")
            let record = try await self.flow(request.deploy)
            guard !request.asOf.isEmpty else { return try self.reply(record) }
            // The flow as it was: no action is allowed on a past state.
            guard let point = LogPoint(request.asOf) else {
                throw APIError.badRequest("asOf", "'\(request.asOf)' is neither a log position (an integer) nor an RFC 3339 time (2026-12-07T14:03:12Z)")
            }
            guard let (past, stopped) = try await FlowHistory.asOf(record.id, point, store: self.api.store) else {
                throw APIError.notFound("asOf", "flow \(record.id) had no event yet at \(point)")
            }
            var reply = Deployflow_DeployReply(past, allowedActions: [])
            reply.stoppedAt.position = stopped.position
            reply.stoppedAt.version = stopped.version
            reply.stoppedAt.type = stopped.type
            reply.stoppedAt.recordedAt = Google_Protobuf_Timestamp(date: stopped.recordedAt)
            return reply
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
            let record = try await self.send(Intents.Control(.cancel), request.deploy, reason: request.reason, context)
            try await self.follow(record.id, writer: response) { $0.isFinished }
        }
    }

    func pause(request: Deployflow_DeployMetaRequest, response: RPCWriter<Deployflow_DeployReply>, context: ServerContext) async throws {
        try await rpc {
            let record = try await self.send(Intents.Control(.pause), request.deploy, reason: request.reason, context)
            try await self.follow(record.id, writer: response) { $0.paused }
        }
    }

    func resume(request: Deployflow_DeployMetaRequest, response: RPCWriter<Deployflow_DeployReply>, context: ServerContext) async throws {
        try await rpc {
            let record = try await self.send(Intents.Control(.resume), request.deploy, reason: request.reason, context)
            try await self.follow(record.id, writer: response) { !$0.paused }
        }
    }

    func `continue`(request: Deployflow_ContinueRequest, context: ServerContext) async throws -> Deployflow_DeployReply {
        try await rpc {
            if !request.target.stage.isEmpty { throw APIError.badRequest("target.stage", "stages are not supported; use batches") }
            let control = Intents.Control(
                .continue, batch: request.target.batches > 0 ? Int(request.target.batches) : nil, emergency: request.emergency,
                batchField: "target.batches"
            )
            return try self.reply(try await self.send(control, request.deploy, reason: request.reason, context))
        }
    }

    func next(request: Deployflow_NextRequest, context: ServerContext) async throws -> Deployflow_DeployReply {
        try await rpc {
            try self.reply(try await self.send(Intents.Control(.next, emergency: request.emergency), request.deploy, reason: request.reason, context))
        }
    }

    func review(request: Deployflow_DeployMetaRequest, context: ServerContext) async throws -> Deployflow_DeployReply {
        try await rpc {
            try self.reply(try await self.send(Intents.Control(.review), request.deploy, reason: request.reason, context))
        }
    }

    func inbox(request: Deployflow_InboxRequest, context: ServerContext) async throws -> Deployflow_DeploysReply {
        try await rpc {
            var reply = Deployflow_DeploysReply()
            reply.deploys = try await self.api.needsDecision(try caller()).map { try self.reply($0).deploy }
            return reply
        }
    }

    func delete(request: Deployflow_DeployMetaRequest, context: ServerContext) async throws -> Deployflow_EmptyReply {
        try await rpc {
            // As REST's DELETE: cancels an active flow; a finished one stays in the log (FAILED_PRECONDITION).
            _ = try await self.send(Intents.Control(.cancel), request.deploy, reason: request.reason, context)
            return Deployflow_EmptyReply()
        }
    }

    func watch(request: Deployflow_WatchRequest, response: RPCWriter<Deployflow_DeployReply>, context: ServerContext) async throws {
        try await rpc {
            try caller().require(.viewer, for: "watching a flow")
            let record = try await self.flow(request.deploy)
            let target = Int(request.target.batches)
            try await self.follow(record.id, resumeAfter: request.resumeAfter, writer: response) { state in
                target > 0 && state.finishedBatches >= target
            }
        }
    }

    func listAndWatch(request: Deployflow_DeploysRequest, response: RPCWriter<Deployflow_DeploysReply>, context: ServerContext) async throws {
        try await rpc {
            try caller().require(.viewer, for: "listing flows")
            // The list now, then again when a flow's event lands (once the projector has it), at most
            // every 100 ms; a change held back by that is sent at the next second's heartbeat.
            var last: [FlowStatus]?
            var lookedAt = ContinuousClock.now
            var pending = false
            func look() async throws {
                lookedAt = .now
                pending = false
                let flows = try await self.list(request.filter)
                guard flows != last else { return }
                var reply = Deployflow_DeploysReply()
                reply.deploys = flows.map { Deployflow_Deploy($0) }
                try await response.write(reply)
                last = flows
            }
            let store = self.api.store
            let projector = FlowProjector(store: store)
            let head = try await store.head()
            try await look()
            for try await item in TritonAPI.followWithHeartbeat(store, from: head, heartbeat: .seconds(1)) {
                if let event = item {
                    guard event.streamID.rawValue.hasPrefix("deployflow-") else { continue }
                    guard ContinuousClock.now - lookedAt >= .milliseconds(100) else {
                        pending = true
                        continue
                    }
                } else if !pending {
                    continue
                }
                _ = try await projector.waitUntilProjected(timeout: .seconds(2))
                try await look()
            }
        }
    }

    func create(request: Deployflow_CreateRequest, context: ServerContext) async throws -> Deployflow_DeployReply {
        try await rpc {
            let instanceName = request.instanceName.isEmpty ? request.applicationSpec.instanceName : request.instanceName
            guard !instanceName.isEmpty else { throw APIError.badRequest("instanceName", "is required") }
            guard !request.namespace.isEmpty else { throw APIError.badRequest("namespace", "is required") }
            let image = request.applicationSpec.image
            guard !image.isEmpty else { throw APIError.badRequest("applicationSpec.image", "is required") }
            let appID = request.appID != 0 ? request.appID : request.applicationSpec.appID
            let groupID = request.groupID != 0 ? request.groupID : request.applicationSpec.groupID
            let appName = [request.appName, request.applicationSpec.appName, instanceName].first { !$0.isEmpty }!
            let spec = AppSpec(appID: Int(appID), groupID: Int(groupID), appName: appName, image: image)
            let release = Intents.Release(
                instance: InstanceRef(namespace: request.namespace, name: instanceName),
                action: .deploy(spec, replicas: request.applicationSpec.hasReplicas ? Int(request.applicationSpec.replicas.value) : nil),
                strategy: strategy(request.hasStrategy ? request.strategy : nil), replicasField: "applicationSpec.replicas"
            )
            return try self.reply(try await self.api.intents.release(release, try intentCaller(context, reason: request.reason)))
        }
    }
}
