import Foundation
import PostgresStore
import Testing

/// The embedded PostgreSQL of `ops/run.sh`: initialised and started in a fresh folder, stopped, and
/// started again on the initialised folder (the path that once hung), each time reachable.
@Suite("Embedded PostgreSQL", .timeLimit(.minutes(2)))
struct EmbeddedPostgresTests {
    @Test func startsStopsAndStartsAgain() async throws {
        let directory = "/var/tmp/triton-embedded-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let postgres = EmbeddedPostgres(configuration: .init(dataDirectory: directory, port: Int.random(in: 55000...55900)))
        for round in 1...2 {
            let url = try postgres.start()
            let store = try PostgresEventStore(configuration: .init(url: url, schema: "embedded_test"))
            try await store.ping()
            store.shutdown()
            try postgres.stop()
            #expect(FileManager.default.fileExists(atPath: directory + "/data/PG_VERSION"), "round \(round)")
        }
        // A start on a running server is a no-op; stop after it.
        _ = try postgres.start()
        _ = try postgres.start()
        try postgres.stop()
    }
}
