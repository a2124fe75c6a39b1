import EventStore
import Foundation
import PostgresStore
import TritonSeals

/// Verifies the log in PostgreSQL against its seals: reads every event in global order, rebuilds the
/// leaves, and runs ``SealVerifier`` (signatures, the seal chain, every root, a kept seal).
public enum SealAudit {
    public static func verify(
        _ store: PostgresEventStore, trusted: Seal? = nil, progress: (@Sendable (UInt64) -> Void)? = nil
    ) async throws -> SealVerifier.Report {
        var leaves: [[UInt8]] = []
        var positions: [Int64] = []
        // Every event committed when the audit starts: the global read stops below transactions still
        // open (anywhere in the database), so it waits for them rather than call a late tail cut.
        let (committed, _) = try await store.statistics()
        let deadline = ContinuousClock.now + .seconds(30)
        var after = LogPosition.start
        while true {
            let events = try await store.readAll(after: after, limit: 10_000)
            guard let final = events.last else {
                if leaves.count < committed, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                    continue
                }
                break
            }
            for event in events {
                leaves.append(SealLeaf(event, actor: LogSealer.actor(event.metadata)).hash)
                positions.append(event.logPosition.position)
            }
            after = final.logPosition
            progress?(UInt64(leaves.count))
        }
        let records = SealRecords(store: store)
        return try SealVerifier(keys: try await records.keys()).verify(
            leafHashes: leaves, positions: positions, seals: try await records.all(), trusted: trusted
        )
    }
}
