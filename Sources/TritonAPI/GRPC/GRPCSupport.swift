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

/// The caller of a gRPC call, bound by ``GRPCAuthInterceptor`` for the handler (and for the producer
/// of a streaming reply, which runs after the interceptor returned).
enum GRPCCaller {
    @TaskLocal static var user: Principal?
    @TaskLocal static var requestID: String?
    /// The `reason` (or `x-triton-reason`) metadata: why the caller acts, for requests without a reason field.
    @TaskLocal static var reason: String?
}

/// Reads the bearer token from the `authorization` metadata (as REST reads the header) and binds the
/// caller; an unknown or missing token is UNAUTHENTICATED.
struct GRPCAuthInterceptor: ServerInterceptor {
    let authenticator: Authenticator

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>, context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let authorization = request.metadata[stringValues: "authorization"].first(where: { _ in true })
        let userHeader = request.metadata[stringValues: "x-triton-user"].first(where: { _ in true })
        let requestID = request.metadata[stringValues: "x-request-id"].first(where: { _ in true }) ?? UUID().uuidString
        let reason = (request.metadata[stringValues: "reason"].first(where: { _ in true })
            ?? request.metadata[stringValues: "x-triton-reason"].first(where: { _ in true }))?.nilIfEmpty
        let user: Principal
        do {
            user = try self.authenticator.user(authorization: authorization, userHeader: userHeader)
        } catch let error as APIError {
            throw error.rpcError
        }
        var response = try await GRPCCaller.$user.withValue(user) {
            try await GRPCCaller.$requestID.withValue(requestID) {
                try await GRPCCaller.$reason.withValue(reason) { try await next(request, context) }
            }
        }
        if case .success(var contents) = response.accepted {
            let producer = contents.producer
            contents.producer = { writer in
                try await GRPCCaller.$user.withValue(user) {
                    try await GRPCCaller.$requestID.withValue(requestID) {
                        try await GRPCCaller.$reason.withValue(reason) { try await producer(writer) }
                    }
                }
            }
            response.accepted = .success(contents)
        }
        return response
    }
}

extension APIError {
    /// The gRPC status for an API error, its message naming the field.
    var rpcError: RPCError {
        let code: RPCError.Code
        switch self.status.code {
        case 400, 422: code = .invalidArgument
        case 401: code = .unauthenticated
        case 403: code = .permissionDenied
        case 404: code = .notFound
        case 409: code = self.code == "alreadyExists" ? .alreadyExists : .failedPrecondition
        case 405, 501: code = .unimplemented
        default: code = .internalError
        }
        return RPCError(code: code, message: self.field.map { "\($0): \(self.message)" } ?? self.message)
    }
}

/// Runs a handler body, turning the engine's and the API's errors into gRPC statuses.
func rpc<T: Sendable>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as RPCError {
        throw error
    } catch let error as APIError {
        throw error.rpcError
    } catch let rejection as DomainRejection {
        throw APIError(rejection).rpcError
    } catch let denied as IntentDenied {
        throw APIError(denied).rpcError
    } catch let error as EventStoreError where error.code == .invalidInput {
        throw RPCError(code: .invalidArgument, message: "the log refused the request: \(error.message)")
    } catch is CancellationError {
        throw RPCError(code: .cancelled, message: "cancelled")
    } catch {
        throw RPCError(code: .internalError, message: "the call failed: \(error)")
    }
}

func caller() throws -> Principal {
    guard let user = GRPCCaller.user else { throw RPCError(code: .unauthenticated, message: "no caller") }
    return user
}

/// Who calls and why, for the intent layer: the authenticated caller, the request's `reason` field (else
/// the `reason` metadata), the request id and the peer.
func intentCaller(_ context: ServerContext, reason: String) throws -> Intents.Caller {
    Intents.Caller(
        try caller(), reason: reason.isEmpty ? GRPCCaller.reason : reason, requestID: GRPCCaller.requestID,
        clientAddress: Peer.address(context.remotePeer), source: .api
    )
}

private enum Peer {
    /// `ipv4:127.0.0.1:5000` → `127.0.0.1:5000`.
    static func address(_ remote: String) -> String {
        for prefix in ["ipv4:", "ipv6:"] where remote.hasPrefix(prefix) { return String(remote.dropFirst(prefix.count)) }
        return remote
    }
}

func timestamp(_ date: Date?) -> Google_Protobuf_Timestamp? { date.map { Google_Protobuf_Timestamp(date: $0) } }

extension Deployflow_Deploy {
    init(_ status: FlowStatus, failureReason: String? = nil) {
        self.init()
        self.namespace = status.namespace
        self.name = status.name
        self.appID = Int32(clamping: status.appID)
        self.groupID = Int32(clamping: status.groupID)
        self.appName = status.appName
        self.instanceName = status.instanceName
        self.replicas = Int32(clamping: status.replicas)
        self.action = status.action
        self.availableReplicas = Int32(clamping: status.availableReplicas)
        self.updatedReplicas = Int32(clamping: status.updatedReplicas)
        self.updatedReadyReplicas = Int32(clamping: status.updatedReadyReplicas)
        self.updateRevision = status.updateRevision
        self.conditions = status.conditions.map { batch in
            var b = Deployflow_Batch()
            b.batch = Int32(clamping: batch.batch)
            b.batchSize = Int32(clamping: batch.batchSize)
            b.canary = batch.canary
            b.phase = batch.phase
            b.failedReplicas = Int32(clamping: batch.failedReplicas)
            b.pods = batch.pods.map { pod in
                var p = Deployflow_PodInfo()
                p.name = pod.name
                p.ip = pod.ip
                p.port = Int32(clamping: pod.port)
                p.phase = pod.phase
                p.pullInStatus = pod.pullInStatus
                return p
            }
            if let date = timestamp(batch.startedAt) { b.startedAt = date }
            if let date = timestamp(batch.finishedAt) { b.finishedAt = date }
            return b
        }
        self.paused = status.paused
        self.phase = status.phase
        self.finished = status.finished
        self.batches = Int32(clamping: status.batches)
        self.batchSize = Int32(clamping: status.batchSize)
        self.finishedBatches = Int32(clamping: status.finishedBatches)
        self.finishedReplicas = Int32(clamping: status.finishedReplicas)
        self.failedReplicas = Int32(clamping: status.failedReplicas)
        if let date = timestamp(status.startedAt) { self.startedAt = date }
        if let date = timestamp(status.finishedAt) { self.finishedAt = date }
        if let date = timestamp(status.updatedAt) { self.updatedAt = date }
        self.mode = status.mode
        self.batchIntervalSeconds = Int32(clamping: status.batchIntervalSeconds)
        self.timeoutSeconds = Int32(clamping: status.timeoutSeconds)
        self.gracefulPeriodSeconds = Int32(clamping: status.gracefulPeriodSeconds)
        self.canary = Int32(clamping: status.canary)
        if let failureReason { self.failureReason = failureReason }
    }

    init(_ state: DeployFlow.State) {
        self.init(FlowStatus(state: state), failureReason: state.failureReason)
    }
}

extension Deployflow_Attribution {
    init(_ attribution: Attribution) {
        self.init()
        self.intent = attribution.intent
        self.actor = attribution.actor
        self.reason = attribution.reason ?? ""
        self.at = Google_Protobuf_Timestamp(date: attribution.at)
        self.position = attribution.position
    }
}

extension Deployflow_DeployReply {
    /// The flow of a record: who did what on it and on each batch, and what the caller may do now.
    init(_ record: FlowRecord, allowedActions: [FlowAction]) {
        self.init()
        let status = FlowStatus(record: record, allowedActions: allowedActions)
        self.position = record.logPosition.position
        var deploy = Deployflow_Deploy(status, failureReason: record.state.failureReason)
        deploy.allowedActions = allowedActions.map(\.rawValue)
        deploy.createdBy = record.createdBy ?? ""
        if let last = record.lastIntent { deploy.lastIntent = Deployflow_Attribution(last) }
        for index in deploy.conditions.indices {
            if let last = status.conditions[index].lastIntent { deploy.conditions[index].lastIntent = Deployflow_Attribution(last) }
        }
        if let emergency = record.state.emergency {
            var message = Deployflow_Emergency()
            message.rules = emergency.rules
            message.justification = emergency.justification
            message.declaredBy = emergency.declaredBy
            message.declaredAt = Google_Protobuf_Timestamp(date: emergency.declaredAt)
            message.reviewedBy = emergency.reviewedBy ?? ""
            message.reviewNote = emergency.reviewNote ?? ""
            if let date = timestamp(emergency.reviewedAt) { message.reviewedAt = date }
            deploy.emergency = message
        }
        self.deploy = deploy
    }

    init(_ state: DeployFlow.State) {
        self.init()
        self.deploy = Deployflow_Deploy(state)
    }
}

/// A strategy as Triton's `UpdateStrategy` message sends it; proto3's defaults (empty, 0) mean "not given".
func strategy(_ message: Deployflow_UpdateStrategy?) -> StrategyInput {
    guard let message else { return StrategyInput() }
    return StrategyInput(
        batchSize: message.batchSize.nilIfEmpty, batches: message.batches > 0 ? Int(message.batches) : nil, canary: Int(message.canary),
        mode: message.mode.nilIfEmpty, batchIntervalSeconds: Int(message.batchIntervalSeconds), noPullIn: message.noPullIn,
        stage: message.stage.nilIfEmpty
    )
}

/// A strategy as Triton's `NonUpdateStrategy` message sends it.
func strategy(_ message: Deployflow_NonUpdateStrategy?) -> StrategyInput {
    guard let message else { return StrategyInput() }
    return StrategyInput(
        batchSize: message.batchSize.nilIfEmpty, batches: message.batches > 0 ? Int(message.batches) : nil, mode: message.mode.nilIfEmpty,
        batchIntervalSeconds: Int(message.batchIntervalSeconds), podsToDelete: message.podsToDelete
    )
}
