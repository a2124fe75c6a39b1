import EventStore
import Foundation
import Synchronization
import Testing

@testable import PostgresStore

/// The real PostgreSQL that `ops/test.sh` starts. A missing URL fails the test loudly: these tests
/// never skip themselves.
enum TestDatabase {
    static func url() throws -> String {
        let url = ProcessInfo.processInfo.environment["TRITON_TEST_DATABASE_URL"]
        return try #require(url, "TRITON_TEST_DATABASE_URL is not set: run the tests through ops/test.sh")
    }

    /// A migrated store in a schema of its own, so tests can run in parallel.
    static func makeStore(
        notifyMode: PostgresEventStore.NotifyMode = .coalesced, pollInterval: Duration = .milliseconds(200),
        poolSize: Int = 10, schema: String? = nil
    ) async throws -> PostgresEventStore {
        let schema = schema ?? "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let store = try PostgresEventStore(
            configuration: .init(
                url: try self.url(), schema: schema, poolSize: poolSize, notifyMode: notifyMode, pollInterval: pollInterval,
                applicationName: "test-\(schema)"
            )
        )
        try await store.migrate()
        return store
    }

    static func event(_ n: Int, type: String = "Tested", padding: Int = 0) -> NewEvent {
        let pad = String(repeating: "x", count: padding)
        return NewEvent(type: type, data: "{\"n\":\(n),\"pad\":\"\(pad)\"}", metadata: "{\"actor\":\"test\",\"source\":\"cli\"}")
    }
}

/// A thread-safe list that concurrent tasks append to.
final class Collected<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])
    func append(_ element: Element) { self.items.withLock { $0.append(element) } }
    var all: [Element] { self.items.withLock { $0 } }
    var count: Int { self.items.withLock { $0.count } }
}
