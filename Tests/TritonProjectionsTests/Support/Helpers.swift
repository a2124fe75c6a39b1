import EventStore
import Foundation
import PostgresStore
import TritonDemo
import TritonDomain
import TritonEngine

@testable import TritonProjections

extension PostgresEventStore {
    /// One text value per row of a single-column query.
    func column(_ sql: String, _ parameters: [String?] = []) async throws -> [String?] {
        try await self.withTransaction { tx in try await tx.query(sql, parameters) }.map { $0.first ?? nil }
    }

    /// A single integer (e.g. a count).
    func integer(_ sql: String, _ parameters: [String?] = []) async throws -> Int {
        let value = try await self.column(sql, parameters).first ?? nil
        guard let text = value, let number = Int(text) else { throw ReleaseDriverError(description: "\(sql): not an integer: \(value ?? "NULL")") }
        return number
    }

    /// The state folded from a flow's stream, from scratch.
    func fold(_ id: FlowID) async throws -> DeployFlow.State {
        try await CommandHandler(store: self).load(DeployFlow.self, stream: Streams.flow(id)).state
    }
}

/// Runs both demo releases (create, then the canary update) and returns their final states.
func runBothReleases(
    _ store: PostgresEventStore, onUpdateSecond: (DeployFlow.State) async throws -> Void = { _ in }
) async throws -> (created: DeployFlow.State, updated: DeployFlow.State) {
    var driver = ReleaseDriver(handler: CommandHandler(store: store), now: Date(timeIntervalSince1970: 1_760_000_000))
    driver.approverDelay = 2
    let created = try await driver.release(DemoReleases.create())
    let updated = try await driver.release(
        DemoReleases.canaryUpdate(existingPods: driver.cluster.live.map(\.name)),
        onSecond: { _, state, _ in try await onUpdateSecond(state) }
    )
    return (created, updated)
}
