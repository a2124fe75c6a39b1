import EventStore
import Foundation
import Testing
import TritonTesting

@testable import PostgresStore

@Suite("Ownership by advisory locks")
struct OwnershipLockTests {
    @Test func eachKeyHasOneHolderAndADeadHoldersKeysAreFreeAtOnce() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        let first = PostgresAdvisoryLocks(store: store, label: "first")
        let second = PostgresAdvisoryLocks(store: store, label: "second")
        #expect(try await first.claim(["a", "b"]) == ["a", "b"])
        // Claiming again is a no-op for held keys (no second lock level to release later).
        #expect(try await first.claim(["a", "b"]) == ["a", "b"])
        #expect(try await second.claim(["a", "b", "c"]) == ["c"])

        // A released key goes to the next claimant.
        try await first.release("b")
        #expect(try await second.claim(["a", "b", "c"]) == ["b", "c"])

        // The first holder's connection dies (as when its process is killed): its keys are free now,
        // and it knows it holds nothing.
        let admin = try await PGConnection.connect(url: try TestDatabase.url(), schema: nil)
        let killed = try await admin.query(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
            [first.applicationName]
        ) { $0.int64(0, 0) }
        #expect(killed == 1)
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await second.claim(["a", "b", "c"]) == ["a", "b", "c"])
        await #expect(throws: EventStoreError.self) { _ = try await first.claim(["a"]) }
        #expect(await first.heldKeys.isEmpty)
        // Reconnected on the next claim; still nothing while the other holds them.
        #expect(try await first.claim(["a", "d"]) == ["d"])

        await second.releaseAll()
        #expect(try await first.claim(["a", "b", "c"]) == ["a", "b", "c"])
        await first.releaseAll()
    }

    @Test func schemasDoNotShareKeys() async throws {
        let one = try await TestDatabase.makeStore()
        let two = try await TestDatabase.makeStore()
        defer {
            one.shutdown()
            two.shutdown()
        }
        let a = PostgresAdvisoryLocks(store: one)
        let b = PostgresAdvisoryLocks(store: two)
        #expect(try await a.claim(["flow:x"]) == ["flow:x"])
        #expect(try await b.claim(["flow:x"]) == ["flow:x"])
        await a.releaseAll()
        await b.releaseAll()
    }
}
