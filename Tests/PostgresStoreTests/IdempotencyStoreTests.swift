import EventStore
import Foundation
import Testing
import TritonTesting

@testable import PostgresStore

@Suite("Idempotency keys")
struct IdempotencyStoreTests {
    @Test("first, replay, another body, in progress; a claim left unanswered past its lease is taken over")
    func claims() async throws {
        let store = try await TestDatabase.makeStore(poolSize: 2)
        defer { store.shutdown() }
        let keys = IdempotencyStore(store: store)
        #expect(try await keys.claim(scope: "dave POST /x", key: "k1", fingerprint: "a") == .new)
        #expect(try await keys.claim(scope: "dave POST /x", key: "k1", fingerprint: "a") == .inProgress)
        #expect(try await keys.claim(scope: "dave POST /x", key: "k1", fingerprint: "b") == .mismatch)
        try await keys.complete(scope: "dave POST /x", key: "k1", status: 201, body: "{}")
        #expect(try await keys.claim(scope: "dave POST /x", key: "k1", fingerprint: "a") == .replay(status: 201, body: "{}"))

        // The process handling k2 died before answering: after the lease a retry may handle it.
        #expect(try await keys.claim(scope: "dave POST /x", key: "k2", fingerprint: "a") == .new)
        try await store.withTransaction { tx in
            try await tx.execute(
                "UPDATE idempotency_keys SET created_at = now() - make_interval(secs => $1::int + 1) WHERE key = 'k2'",
                [String(IdempotencyStore.claimLease)]
            )
        }
        #expect(try await keys.claim(scope: "dave POST /x", key: "k2", fingerprint: "b") == .mismatch, "only the same request")
        #expect(try await keys.claim(scope: "dave POST /x", key: "k2", fingerprint: "a") == .new)
        #expect(try await keys.claim(scope: "dave POST /x", key: "k2", fingerprint: "a") == .inProgress, "taken over once")
    }
}
