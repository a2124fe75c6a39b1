import EventStore
import Foundation
import PostgresStore
import TritonDomain
import TritonEngine
import TritonTesting

@testable import TritonProjections

extension PostgresEventStore {
    /// One text value per row of a single-column query.
    func column(_ sql: String, _ parameters: [String?] = []) async throws -> [String?] {
        try await self.withTransaction { tx in try await tx.query(sql, parameters) }.map { $0.first ?? nil }
    }

    /// A single integer (e.g. a count).
    func integer(_ sql: String, _ parameters: [String?] = []) async throws -> Int {
        let value = try await self.column(sql, parameters).first ?? nil
        guard let text = value, let number = Int(text) else { throw QueryError(description: "\(sql): not an integer: \(value ?? "NULL")") }
        return number
    }

    /// The state folded from a flow's stream, from scratch.
    func fold(_ id: FlowID) async throws -> DeployFlow.State {
        try await CommandHandler(store: self).load(DeployFlow.self, stream: Streams.flow(id)).state
    }
}

struct QueryError: Error, CustomStringConvertible {
    var description: String
}

/// Runs both releases (the create, then the canary update) with the real engine against the simulated
/// cluster, and returns their final states.
func runBothReleases(
    _ store: PostgresEventStore, onUpdateSecond: (DeployFlow.State) async throws -> Void = { _ in }
) async throws -> (created: DeployFlow.State, updated: DeployFlow.State) {
    let harness = try await EngineHarness(store: store)
    return try await harness.releaseBoth(onUpdateSecond: onUpdateSecond)
}
