import ArgumentParser
import EventStore
import Foundation
import PostgresStore

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply the event log's schema migrations (re-running is a no-op).")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let store = try self.database.makeStore()
        defer { store.shutdown() }
        let applied = try await store.migrate()
        if self.output.isJSON {
            try self.output.printJSON(["applied": applied])
        } else if applied.isEmpty {
            print("schema \(self.database.resolvedSchema) is up to date")
        } else {
            print("applied \(applied.joined(separator: ", ")) to schema \(self.database.resolvedSchema)")
        }
    }
}
