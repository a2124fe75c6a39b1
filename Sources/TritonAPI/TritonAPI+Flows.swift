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
    @Sendable func listFlows(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "listing flows")
        let namespace = try context.parameters.require("namespace")
        let query = request.uri.queryParameters
        var filter = FlowFilter(namespace: namespace, instanceName: query.get("instanceName"))
        if let action = query.get("action") {
            guard let parsed = Action(rawValue: action) else {
                throw APIError.badRequest("action", "'\(action)' is not one of \(Action.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.action = parsed
        }
        if let text = query.get("pageSize") {
            guard let size = Int(text), size > 0, size <= 1000 else { throw APIError.badRequest("pageSize", "must be 1...1000") }
            filter.pageSize = size
        }
        if let text = query.get("start") {
            guard let start = Int(text), start >= 0 else { throw APIError.badRequest("start", "must be 0 or more") }
            filter.start = start
        }
        let flows = try await FlowQueries(store: self.store).list(filter)
        return try Self.encode(["deploys": flows])
    }

    /// A flow as the log has it now (folded from its stream, never behind).
    func flowState(_ context: APIContext) async throws -> DeployFlow.State {
        let namespace = try context.parameters.require("namespace")
        let name = try context.parameters.require("name")
        let (state, _) = try await self.handler.load(DeployFlow.self, stream: Streams.flow(FlowID(name)))
        guard let spec = state.spec, spec.instance.namespace == namespace else {
            throw APIError.notFound("name", "no deployflow \(name) in namespace \(namespace)")
        }
        return state
    }

    @Sendable func getFlow(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "reading a flow")
        return try Self.encode(FlowStatus(state: try await self.flowState(context)))
    }

    func metadata(_ request: Request, _ context: APIContext, reason: String?) -> EventMetadata {
        EventMetadata(
            actor: context.user.name,
            reason: reason ?? request.headers[HTTPField.Name("X-Triton-Reason")!],
            requestID: request.headers[HTTPField.Name("X-Request-ID")!] ?? context.id,
            clientAddress: context.clientAddress,
            source: .api,
            time: Date()
        )
    }

    /// `POST /deployflows`: create the instance when its CloneSet does not exist, else update it.
    func createFlow(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.deployer, for: "creating a flow")
        let namespace = try context.parameters.require("namespace")
        let body = try await JSONBody.parse(request)
        try body.rejectUnknown(["applicationSpec", "updateStrategy", "reason"])
        let app = try body.require("applicationSpec", body.object)
        try app.rejectUnknown(["appID", "groupID", "appName", "instanceName", "template", "replicas", "image"])
        let instanceName = try app.require("instanceName", app.string)
        let replicas = try app.int("replicas")
        let template = try app.rawJSON("template")
        guard let image = try app.string("image") ?? app.templateImage("template") else {
            throw APIError.badRequest(app.name("template"), "needs spec.containers[0].image (or give applicationSpec.image)")
        }
        let spec = AppSpec(
            appID: try app.int("appID") ?? 0, groupID: try app.int("groupID") ?? 0,
            appName: try app.string("appName") ?? instanceName, image: image, template: template
        )
        let strategy = try Self.updateStrategy(try body.object("updateStrategy"))
        let state = try await self.createOrUpdate(
            InstanceRef(namespace: namespace, name: instanceName), spec: spec, replicas: replicas, replicasField: app.name("replicas"),
            strategy: strategy, metadata: self.metadata(request, context, reason: try body.string("reason"))
        )
        return try Self.encode(FlowStatus(state: state), status: .created)
    }

    /// Creates the instance when its CloneSet does not exist (with `replicas`), else updates it to
    /// `spec`'s image.
    public func createOrUpdate(
        _ instance: InstanceRef, spec: AppSpec, replicas: Int?, replicasField: String = "replicas", strategy: Strategy,
        strategyField: String = "updateStrategy", metadata: EventMetadata
    ) async throws -> DeployFlow.State {
        try await self.release(
            instance, .deploy(spec, replicas: replicas), strategy: strategy, strategyField: strategyField, replicasField: replicasField,
            metadata: metadata
        )
    }

    /// Creates the flow of a release (REST and gRPC), named `<instance>-<5 random characters>` as Triton
    /// names them; a refusal names the fields as the request sent them.
    func release(
        _ instance: InstanceRef, _ action: ReleaseRequest.Action, strategy: Strategy, strategyField: String = "strategy",
        replicasField: String = "replicas", metadata: EventMetadata
    ) async throws -> DeployFlow.State {
        let flowID = FlowID("\(instance.name)-\(CommandHandler.randomSuffix())")
        return try await Self.renamingFields(strategy: strategyField, replicas: replicasField) {
            try await self.handler.create(
                ReleaseRequest(instance: instance, action: action, strategy: strategy, flowID: flowID), cluster: self.cluster,
                metadata: metadata
            )
        }
    }


    /// `PATCH /deployflows/{name}`: `paused`, `canceled`, `batches` (continue to), as Triton's strategy fields.
    @Sendable func patchFlow(_ request: Request, _ context: APIContext) async throws -> Response {
        let body = try await JSONBody.parse(request)
        try body.rejectUnknown(["paused", "canceled", "batches", "stage", "reason"])
        let state = try await self.flowState(context)
        let reason = try body.string("reason")
        var commands: [DeployFlow.Command.Kind] = []
        if let paused = try body.bool("paused") { commands.append(paused ? .pause : .resume) }
        if try body.bool("canceled") == true { commands.append(.cancel) }
        if let batches = try body.int("batches") { commands.append(.continueTo(batch: batches)) }
        if let stage = try body.string("stage"), stage != "" {
            throw APIError.badRequest(body.name("stage"), "stages are not supported; use batches")
        }
        guard !commands.isEmpty else { throw APIError.badRequest(nil, "give at least one of paused, canceled, batches") }
        for command in commands { try self.authorize(command, state, context) }
        // All the fields as one change: applied together, or (one is refused) none of them.
        let metadata = self.metadata(request, context, reason: reason)
        let outcome = try await Self.renaming(["batch": body.name("batches")]) {
            try await self.handler.send(commands, to: state.spec!.flowID, metadata: metadata)
        }
        return try Self.encode(FlowStatus(state: outcome.state))
    }

    /// `DELETE /deployflows/{name}`: cancels an active flow; the log keeps every flow.
    @Sendable func deleteFlow(_ request: Request, _ context: APIContext) async throws -> Response {
        let state = try await self.flowState(context)
        try self.authorize(.cancel, state, context)
        guard !state.isFinished else {
            throw APIError(.conflict, code: "flowFinished", field: "name", "the flow is finished (\(state.phase.rawValue)); the log keeps it")
        }
        let outcome = try await self.handler.send(.cancel, to: state.spec!.flowID, metadata: self.metadata(request, context, reason: nil))
        return try Self.encode(FlowStatus(state: outcome.state))
    }

    func control(_ intent: String, _ request: Request, _ context: APIContext) async throws -> Response {
        let body = try await JSONBody.parse(request)
        try body.rejectUnknown(["reason", "batch", "batches"])
        let state = try await self.flowState(context)
        let command: DeployFlow.Command.Kind
        switch intent {
        case "next": command = .next
        case "continue": command = .continueTo(batch: try body.int("batch") ?? body.int("batches") ?? state.plan.count)
        case "pause": command = .pause
        case "resume": command = .resume
        default: command = .cancel
        }
        try self.authorize(command, state, context)
        let metadata = self.metadata(request, context, reason: try body.string("reason"))
        let batchField = try body.int("batch") != nil ? body.name("batch") : body.name("batches")
        let outcome = try await Self.renaming(["batch": batchField]) {
            try await self.handler.send(command, to: state.spec!.flowID, metadata: metadata)
        }
        return try Self.encode(FlowStatus(state: outcome.state))
    }
}
