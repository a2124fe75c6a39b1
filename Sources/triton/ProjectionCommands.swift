import ArgumentParser
import Foundation
import PostgresStore
import TritonDomain
import TritonEngine
import TritonProjections

struct Projections: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The query tables folded from the log.",
        subcommands: [ProjectionsRebuild.self]
    )
}

struct ProjectionsRebuild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Empty the query tables and fold them again from the whole log; prints any row that came out different."
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    struct Result: Encodable {
        var events: Int
        var identical: Bool
        var differences: [String]
    }

    func run() async throws {
        let store = try self.database.makeStore()
        defer { store.shutdown() }
        try await store.migrate()
        let projector = FlowProjector(store: store)
        _ = try await projector.catchUp()
        let before = try await ProjectionTables.dump(store)
        if !self.output.isJSON { self.output.progress("rebuilding the projections from the log…") }
        let events = try await projector.rebuild()
        let after = try await ProjectionTables.dump(store)
        let differences = ProjectionTables.differences(before, after)
        if self.output.isJSON {
            try self.output.printJSON(Result(events: events, identical: differences.isEmpty, differences: differences))
        } else {
            print("rebuilt from \(events) events: \(differences.isEmpty ? "identical to the tables before" : "\(differences.count) rows differ")")
            for line in differences { print("  \(line)") }
        }
        if !differences.isEmpty { throw ExitCode(1) }
    }
}
