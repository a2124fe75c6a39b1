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

    // MARK: - Strategies

    /// A strategy object as the request sent it; the intent layer turns it into a strategy (and names
    /// a bad field under the request's name).
    /// `kind` nil: a strategy for any action (Triton's own release route); the intent layer refuses the
    /// fields the action does not take.
    static func strategyInput(_ body: JSONBody?, _ kind: StrategyInput.Kind?) throws -> StrategyInput {
        guard let body else { return StrategyInput() }
        switch kind {
        case nil:
            try body.rejectUnknown([
                "batchSize", "batches", "canary", "mode", "batchIntervalSeconds", "startupTimeoutSeconds", "pullOutWaitSeconds", "noPullIn",
                "podsToDelete",
            ])
        case .update?:
            try body.rejectUnknown([
                "batchSize", "canary", "mode", "batchIntervalSeconds", "noPullIn", "stage", "batches", "startupTimeoutSeconds",
                "pullOutWaitSeconds",
            ])
        case .nonUpdate?:
            try body.rejectUnknown(["batchSize", "podsToDelete", "batches", "batchIntervalSeconds", "mode", "startupTimeoutSeconds", "pullOutWaitSeconds"])
        }
        return StrategyInput(
            batchSize: try body.numberOrString("batchSize"), batches: try body.int("batches"), canary: try body.int("canary"),
            mode: try body.string("mode"), batchIntervalSeconds: try body.int("batchIntervalSeconds"),
            startupTimeoutSeconds: try body.int("startupTimeoutSeconds"), pullOutWaitSeconds: try body.int("pullOutWaitSeconds"),
            noPullIn: try body.bool("noPullIn"), podsToDelete: try body.strings("podsToDelete"), stage: try body.string("stage")
        )
    }
}
