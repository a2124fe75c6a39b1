import EventStore
import Foundation
import PostgresStore
import Testing

/// The real PostgreSQL the tests run against (`TRITON_TEST_DATABASE_URL`, set by `ops/test.sh`).
/// A missing URL fails the test: these tests never skip themselves.
enum TestDatabase {
    static func url() throws -> String {
        let url = ProcessInfo.processInfo.environment["TRITON_TEST_DATABASE_URL"]
        return try #require(url, "TRITON_TEST_DATABASE_URL is not set: run the tests through ops/test.sh")
    }

    /// A migrated store in a schema of its own, so tests can run in parallel.
    static func makeStore(poolSize: Int = 6) async throws -> PostgresEventStore {
        let schema = "p_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let store = try PostgresEventStore(
            configuration: .init(
                url: try self.url(), schema: schema, poolSize: poolSize, pollInterval: .milliseconds(100),
                applicationName: "test-\(schema)"
            )
        )
        try await store.migrate()
        return store
    }
}
