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

struct AuditVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-check every stream's hash chain; exits non-zero naming the first broken stream and version."
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    struct Result: Encodable {
        var ok: Bool
        var streams: Int
        var events: Int
        var brokenStream: String?
        var brokenVersion: Int64?
        var reason: String?
    }

    func run() async throws {
        let store = try self.database.makeStore()
        defer { store.shutdown() }
        let output = self.output
        let report = try await store.verify { checked in
            if !output.isJSON { output.progress("verified \(checked) events…") }
        }
        let result = Result(
            ok: report.firstBreak == nil, streams: report.streams, events: report.events,
            brokenStream: report.firstBreak?.stream.rawValue, brokenVersion: report.firstBreak?.version,
            reason: report.firstBreak?.reason
        )
        if self.output.isJSON {
            try self.output.printJSON(result)
        } else if let broken = report.firstBreak {
            print("BROKEN: \(broken) (\(report.events) events in \(report.streams) streams verified before it)")
        } else {
            print("ok: \(report.events) events in \(report.streams) streams, every hash chain intact")
        }
        if report.firstBreak != nil { throw ExitCode(1) }
    }
}
