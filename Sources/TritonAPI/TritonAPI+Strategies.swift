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
}
