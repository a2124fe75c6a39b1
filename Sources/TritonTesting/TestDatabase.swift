import EventStore
import Foundation
import PostgresStore
import Synchronization
import Testing

/// The real PostgreSQL the tests run against: `TRITON_TEST_DATABASE_URL`, which `ops/test.sh` sets after
/// starting a throwaway server. A missing URL fails the test loudly: these tests never skip themselves.
public enum TestDatabase {
    public static func url() throws -> String {
        let url = ProcessInfo.processInfo.environment["TRITON_TEST_DATABASE_URL"]
        return try #require(url, "TRITON_TEST_DATABASE_URL is not set: run the tests through ops/test.sh")
    }

    /// A fresh schema name (`<prefix>_` and 16 hex digits), so tests can run in parallel.
    public static func schemaName(prefix: String = "t") -> String {
        prefix + "_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
    }

    /// A migrated store in a schema of its own.
    public static func makeStore(
        notifyMode: PostgresEventStore.NotifyMode = .coalesced, pollInterval: Duration = .milliseconds(200),
        poolSize: Int = 10, schema: String? = nil
    ) async throws -> PostgresEventStore {
        let schema = schema ?? self.schemaName()
        let store = try PostgresEventStore(
            configuration: .init(
                url: try self.url(), schema: schema, poolSize: poolSize, notifyMode: notifyMode, pollInterval: pollInterval,
                applicationName: "test-\(schema)"
            )
        )
        try await store.migrate()
        return store
    }
}

/// A thread-safe list that concurrent tasks (or callbacks) append to.
public final class Collected<Element: Sendable>: Sendable {
    private let elements = Mutex<[Element]>([])

    public init() {}

    public func append(_ element: Element) { self.elements.withLock { $0.append(element) } }
    public var items: [Element] { self.elements.withLock { $0 } }
    public var count: Int { self.elements.withLock { $0.count } }
}
