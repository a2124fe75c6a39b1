import EventStore
import Foundation

/// Remembers the replies of requests that carried an `Idempotency-Key`, so that a retried request
/// gets the first reply and does not act a second time — also when the two arrive at once.
public struct IdempotencyStore: Sendable {
    public enum Claim: Sendable, Equatable {
        /// First time: handle the request, then ``complete(scope:key:status:body:)`` or ``abandon(scope:key:)``.
        case new
        /// Seen and answered: send this reply again.
        case replay(status: Int, body: String)
        /// The key was used with a different body.
        case mismatch
        /// The first request with this key is still being handled.
        case inProgress
    }

    let store: PostgresEventStore

    public init(store: PostgresEventStore) {
        self.store = store
    }

    /// How long a claim may stay unanswered before a retry with the same body may take it over: the
    /// process handling it died (or could not store the reply) and would otherwise hold the key forever.
    public static let claimLease = 300

    public func claim(scope: String, key: String, fingerprint: String) async throws -> Claim {
        try await self.store.pool.withConnection { connection in
            let inserted = try await connection.query(
                """
                INSERT INTO idempotency_keys AS k (scope, key, fingerprint) VALUES ($1, $2, $3)
                ON CONFLICT (scope, key) DO UPDATE SET created_at = now()
                WHERE k.status IS NULL AND k.fingerprint = EXCLUDED.fingerprint
                  AND k.created_at < now() - make_interval(secs => $4::int)
                RETURNING 1
                """,
                [scope, key, fingerprint, String(Self.claimLease)]
            ) { $0.rowCount }
            if inserted == 1 { return .new }
            return try await connection.query(
                "SELECT fingerprint, status, body FROM idempotency_keys WHERE scope = $1 AND key = $2", [scope, key]
            ) { reader -> Claim in
                guard reader.rowCount == 1 else { return .inProgress }
                if reader.string(0, 0) != fingerprint { return .mismatch }
                if reader.isNull(0, 1) { return .inProgress }
                return .replay(status: Int(reader.int64(0, 1)), body: reader.optionalString(0, 2) ?? "")
            }
        }
    }

    public func complete(scope: String, key: String, status: Int, body: String) async throws {
        try await self.store.pool.withConnection { connection in
            try await connection.command(
                "UPDATE idempotency_keys SET status = $3, body = $4 WHERE scope = $1 AND key = $2", [scope, key, String(status), body]
            )
        }
    }

    /// Forgets a claim whose request failed without a reply worth repeating (a server error).
    public func abandon(scope: String, key: String) async throws {
        try await self.store.pool.withConnection { connection in
            try await connection.command("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL", [scope, key])
        }
    }

    public static func fingerprint(_ body: some Sequence<UInt8>) -> String {
        SHA256.hash(body).map { String(format: "%02x", $0) }.joined()
    }
}
