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
/// own intents (`next|continue|pause|resume|cancel` with a reason), history and a Server-Sent Events
/// watch. Every event an API call appends records the caller, the reason (`X-Triton-Reason` or the
/// body's `reason`), the request id (`X-Request-ID`, else generated) and the client address.
public struct TritonAPI: Sendable {
    public let store: PostgresEventStore
    public let handler: CommandHandler
    public let cluster: any ClusterPort
    public let authenticator: Authenticator
    public let idempotency: IdempotencyStore
    /// How often the SSE watch looks for new events of its flow.
    public var watchInterval: Duration = .milliseconds(200)

    public init(store: PostgresEventStore, handler: CommandHandler, cluster: any ClusterPort, authenticator: Authenticator) {
        self.store = store
        self.handler = handler
        self.cluster = cluster
        self.authenticator = authenticator
        self.idempotency = IdempotencyStore(store: store)
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
        let v1 = router.group("/api/v1/namespaces/:namespace")
        v1.get("deployflows", use: self.listFlows)
        v1.post("deployflows") { request, context in
            try await self.idempotent(request, context) { request, context in try await self.createFlow(request, context) }
        }
        v1.get("deployflows/:name", use: self.getFlow)
        v1.patch("deployflows/:name", use: self.patchFlow)
        v1.delete("deployflows/:name", use: self.deleteFlow)
        v1.get("deployflows/:name/history", use: self.history)
        v1.get("deployflows/:name/watch", use: self.watch)
        for intent in ["next", "continue", "pause", "resume", "cancel"] {
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
        return router
    }

    // MARK: - Flows

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

    /// deployer for everything; passing a canary batch that is not in traffic yet needs approver.
    func authorize(_ command: DeployFlow.Command.Kind, _ state: DeployFlow.State, _ context: APIContext) throws {
        try Self.authorize(command, state, user: context.user)
    }

    static func authorize(_ command: DeployFlow.Command.Kind, _ state: DeployFlow.State, user: APIUser) throws {
        switch command {
        case .next, .continueTo:
            if Self.passesCanary(command, state) {
                try user.require(.approver, for: "next/continue on the canary batch")
            } else if !user.has(.approver) {
                try user.require(.deployer, for: "next/continue")
            }
        default:
            try user.require(.deployer, for: "controlling a flow")
        }
    }

    /// Whether the command would pull a canary batch into traffic: `next` while the canary waits for it,
    /// or `continue` to any batch at or past a canary not pulled in yet (continuing pulls it in without
    /// stopping) — whether the flow runs, waits or is paused now.
    static func passesCanary(_ command: DeployFlow.Command.Kind, _ state: DeployFlow.State) -> Bool {
        guard let canary = state.batches.first(where: { $0.canary && $0.pulledInAt == nil }) else { return false }
        switch command {
        case .next:
            if case .pullIn(let number)? = DeployFlow.waitingStep(state) { return number == canary.number }
            return false
        case .continueTo(let batch):
            return batch >= canary.number
        default:
            return false
        }
    }

    struct HistoryEntry: Encodable {
        var version: Int64
        var type: String
        var recordedAt: Date
        var actor: String
        var source: String
        var reason: String?
        var requestID: String?
        var clientAddress: String?
        var data: JSONValue
    }

    @Sendable func history(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "reading a flow's history")
        let state = try await self.flowState(context)
        let events = try await self.store.readStream(Streams.flow(state.spec!.flowID), afterVersion: 0)
        let entries = try events.map { event in
            let metadata = try EventMetadata.decode(json: event.metadata)
            return HistoryEntry(
                version: event.version, type: event.type, recordedAt: event.recordedAt, actor: metadata.actor,
                source: metadata.source.rawValue, reason: metadata.reason, requestID: metadata.requestID,
                clientAddress: metadata.clientAddress, data: try JSONValue.parse(event.data)
            )
        }
        return try Self.encode(["events": entries])
    }

    /// Server-Sent Events: the flow (Triton status shape) now and each time it changes, until it finishes.
    @Sendable func watch(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "watching a flow")
        let flow = try await self.flowState(context).spec!.flowID
        let handler = self.handler
        let interval = self.watchInterval
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        let body = ResponseBody { writer in
            // The handler's state cache makes each look read only the events appended since the last.
            var sent: Int64 = -1
            while true {
                let (state, version) = try await handler.load(DeployFlow.self, stream: Streams.flow(flow))
                if version != sent {
                    let data = try FlowStatus.makeEncoder().encode(FlowStatus(state: state))
                    try await writer.write(ByteBuffer(string: "id: \(version)\nevent: deploy\ndata: \(String(decoding: data, as: UTF8.self))\n\n"))
                    sent = version
                }
                if state.isFinished { break }
                try await Task.sleep(for: interval)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    // MARK: - Instances

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

    /// The domain names fields as its commands do (`strategy.batchSize`, `targetReplicas`); a client
    /// sent them under the request's names (`updateStrategy.batchSize`, `applicationSpec.replicas`).
    static func renaming<T>(_ names: [String: String], _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch var rejection as DomainRejection {
            if let field = rejection.field, let name = names[field] { rejection.field = name }
            throw rejection
        }
    }

    static func renamingFields<T>(strategy: String, replicas: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch var rejection as DomainRejection {
            if let field = rejection.field {
                if field.hasPrefix("strategy.") {
                    rejection.field = strategy + field.dropFirst("strategy".count)
                } else if field == "targetReplicas" {
                    rejection.field = replicas
                } else if field == "appSpec.image" || field == "appSpec" {
                    rejection.field = "applicationSpec.template"
                } else if field.hasPrefix("appSpec.") {
                    rejection.field = "applicationSpec." + field.dropFirst("appSpec.".count)
                } else if field == "rollbackTo" {
                    rejection.field = "deployName"
                }
            }
            throw rejection
        }
    }

    // MARK: - Strategies

    static func updateStrategy(_ body: JSONBody?) throws -> Strategy {
        var strategy = Strategy()
        guard let body else { return strategy }
        try body.rejectUnknown(["batchSize", "canary", "mode", "batchIntervalSeconds", "noPullIn", "stage", "batches", "startupTimeoutSeconds", "pullOutWaitSeconds"])
        try Self.common(body, into: &strategy)
        strategy.canary = try body.int("canary") ?? 0
        strategy.noPullIn = try body.bool("noPullIn") ?? false
        if let stage = try body.string("stage"), !stage.isEmpty {
            throw APIError.badRequest(body.name("stage"), "stages are not supported; use batches")
        }
        return strategy
    }

    static func nonUpdateStrategy(_ body: JSONBody?) throws -> Strategy {
        var strategy = Strategy()
        guard let body else { return strategy }
        try body.rejectUnknown(["batchSize", "podsToDelete", "batches", "batchIntervalSeconds", "mode", "startupTimeoutSeconds", "pullOutWaitSeconds"])
        try Self.common(body, into: &strategy)
        strategy.podsToDelete = try body.strings("podsToDelete") ?? []
        return strategy
    }

    private static func common(_ body: JSONBody, into strategy: inout Strategy) throws {
        if let text = try body.numberOrString("batchSize") {
            guard let size = BatchSize(parsing: text) else {
                throw APIError.badRequest(body.name("batchSize"), "'\(text)' is neither a number nor a percent such as \"30%\"")
            }
            strategy.batchSize = size
        }
        strategy.batches = try body.int("batches")
        if let mode = try body.string("mode") {
            guard let parsed = Mode(rawValue: mode) else { throw APIError.badRequest(body.name("mode"), "'\(mode)' is not one of auto, manual") }
            strategy.mode = parsed
        }
        strategy.batchIntervalSeconds = try body.int("batchIntervalSeconds") ?? strategy.batchIntervalSeconds
        strategy.startupTimeoutSeconds = try body.int("startupTimeoutSeconds") ?? strategy.startupTimeoutSeconds
        strategy.pullOutWaitSeconds = try body.int("pullOutWaitSeconds") ?? strategy.pullOutWaitSeconds
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
