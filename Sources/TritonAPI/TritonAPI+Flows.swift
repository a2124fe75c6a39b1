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

// The flow routes: transport only. Each decodes the request, calls the intent layer (which validates,
// authorizes and records the principal as the actor) and encodes the flow it answers with.

extension TritonAPI {
    @Sendable func listFlows(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "listing flows")
        // `/api/v1/deployflows` lists every namespace (or the one of `?namespace=`).
        let query = request.uri.queryParameters
        let namespace = context.parameters.get("namespace") ?? query.get("namespace")
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
        try await self.waitForProjections(request)
        let flows = try await FlowQueries(store: self.store).list(filter)
        return try Self.encode(["deploys": flows])
    }

    /// The flow of the route, as the log has it now (never behind), with who did what.
    func flowRecord(_ context: APIContext) async throws -> FlowRecord {
        // `/api/v1/deployflows/{name}` finds the flow in any namespace (flow ids are unique across them).
        let namespace = context.parameters.get("namespace")
        let name = try context.parameters.require("name")
        do {
            return try await self.intents.flow(FlowID(name), namespace: namespace)
        } catch let rejection as DomainRejection where rejection.code == .unknownFlow {
            throw APIError.notFound("name", rejection.reason)
        }
    }

    /// The flow as a reply shows it to this caller: with who did what and the caller's allowed actions.
    func status(_ record: FlowRecord, for context: APIContext) -> FlowStatus {
        FlowStatus(record: record, allowedActions: self.intents.allowedActions(record, context.user))
    }

    @Sendable func getFlow(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "reading a flow")
        if let asOf = request.uri.queryParameters.get("asOf") { return try await self.flowAsOf(asOf, context) }
        return try Self.encode(self.status(try await self.flowRecord(context), for: context))
    }

    /// `POST /deployflows`: create the instance when its CloneSet does not exist, else update it.
    func createFlow(_ request: Request, _ context: APIContext) async throws -> Response {
        let namespace = try context.parameters.require("namespace")
        let body = try await JSONBody.parse(request)
        try body.rejectUnknown(["applicationSpec", "updateStrategy", "reason", "deployName"])
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
        let release = Intents.Release(
            instance: InstanceRef(namespace: namespace, name: instanceName), action: .deploy(spec, replicas: replicas),
            strategy: try Self.strategyInput(try body.object("updateStrategy"), .update), flowID: try body.string("deployName").map { FlowID($0) },
            strategyField: "updateStrategy", replicasField: app.name("replicas")
        )
        let record = try await self.intents.release(release, context.caller(request, reason: try body.string("reason")))
        return try Self.encode(self.status(record, for: context), status: .created)
    }

    /// `PATCH /deployflows/{name}`: `paused`, `canceled`, `batches` (continue to), as Triton's strategy
    /// fields, applied together or (one is refused) none of them.
    @Sendable func patchFlow(_ request: Request, _ context: APIContext) async throws -> Response {
        let body = try await JSONBody.parse(request)
        try body.rejectUnknown(["paused", "canceled", "batches", "stage", "reason", "emergency"])
        let emergency = try body.string("emergency")
        var controls: [Intents.Control] = []
        if let paused = try body.bool("paused") { controls.append(Intents.Control(paused ? .pause : .resume)) }
        if try body.bool("canceled") == true { controls.append(Intents.Control(.cancel)) }
        if let batches = try body.int("batches") {
            controls.append(Intents.Control(.continue, batch: batches, emergency: emergency, batchField: body.name("batches")))
        }
        if let stage = try body.string("stage"), stage != "" {
            throw APIError.badRequest(body.name("stage"), "stages are not supported; use batches")
        }
        guard !controls.isEmpty else { throw APIError.badRequest(nil, "give at least one of paused, canceled, batches") }
        let record = try await self.flowRecord(context)
        let updated = try await self.intents.control(
            record.id, namespace: nil, controls, context.caller(request, reason: try body.string("reason"))
        )
        return try Self.encode(self.status(updated, for: context))
    }

    /// `DELETE /deployflows/{name}`: cancels an active flow; the log keeps every flow.
    @Sendable func deleteFlow(_ request: Request, _ context: APIContext) async throws -> Response {
        let record = try await self.flowRecord(context)
        try context.require(.deployer, for: "controlling a flow")
        guard !record.state.isFinished else {
            throw APIError(.conflict, code: "flowFinished", field: "name", "the flow is finished (\(record.state.phase.rawValue)); the log keeps it")
        }
        let updated = try await self.intents.control(record.id, namespace: nil, Intents.Control(.cancel), context.caller(request, reason: nil))
        return try Self.encode(self.status(updated, for: context))
    }

    /// `POST /deployflows/{name}/next|continue|pause|resume|cancel|review`.
    func control(_ intent: String, _ request: Request, _ context: APIContext) async throws -> Response {
        let body = try await JSONBody.parse(request)
        try body.rejectUnknown(["reason", "batch", "batches", "emergency"])
        guard let action = FlowAction(rawValue: intent) else { throw APIError.notFound("intent", "no intent \(intent)") }
        let batch = try body.int("batch") ?? body.int("batches")
        let batchField = try body.int("batch") != nil ? body.name("batch") : body.name("batches")
        let record = try await self.flowRecord(context)
        let updated = try await self.intents.control(
            record.id, namespace: nil, Intents.Control(action, batch: batch, emergency: try body.string("emergency"), batchField: batchField),
            context.caller(request, reason: try body.string("reason"))
        )
        return try Self.encode(self.status(updated, for: context))
    }

    /// `GET /api/v1/inbox`: the flows across namespaces that wait for a decision this caller may take
    /// (a stop to pass, an emergency change to review), oldest first.
    @Sendable func inbox(_ request: Request, _ context: APIContext) async throws -> Response {
        let flows = try await self.needsDecision(context.user)
        return try Self.encode(["deploys": flows.map { self.status($0, for: context) }])
    }

    /// The flows waiting for `principal`: active flows, and finished ones with an unreviewed emergency.
    func needsDecision(_ principal: Principal) async throws -> [FlowRecord] {
        var ids = try await FlowQueries(store: self.store).list(FlowFilter(pageSize: 1000, finished: false)).map { FlowID($0.name) }
        // Finished flows wait for someone only as an unreviewed emergency; `needsDecision` tells which.
        ids += try await FlowQueries(store: self.store).emergencyFlows().filter { !ids.contains($0) }
        var records: [FlowRecord] = []
        for id in ids {
            guard let record = try await FlowRecord.load(id, from: self.store), self.intents.needsDecision(record, principal) else { continue }
            records.append(record)
        }
        return records.sorted { ($0.state.updatedAt ?? .distantPast) < ($1.state.updatedAt ?? .distantPast) }
    }

    /// `GET /api/v1/emergencies?reviewed=false`: emergency changes (by default those not reviewed yet).
    @Sendable func emergencies(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "listing emergency changes")
        let all = request.uri.queryParameters.get("reviewed") == "any"
        var records: [FlowRecord] = []
        for id in try await FlowQueries(store: self.store).emergencyFlows() {
            guard let record = try await FlowRecord.load(id, from: self.store), let emergency = record.state.emergency else { continue }
            if all || !emergency.isReviewed { records.append(record) }
        }
        return try Self.encode(["deploys": records.map { self.status($0, for: context) }])
    }
}
