import ArgumentParser
import Foundation
import PostgresStore

/// `--output text|json` on every command.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json
}

struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: "Output format: text (for people) or json (for scripts).")
    var output: OutputFormat = .text

    var isJSON: Bool { self.output == .json }

    /// Prints a value as pretty JSON on standard output.
    func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Progress for people goes to standard error, so standard output stays parseable.
    func progress(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "PostgreSQL connection string (postgres://… or key=value). Defaults to $TRITON_DATABASE_URL.",
            valueName: "url"
        )
    )
    var databaseURL: String?

    @Option(name: .long, help: "Schema holding Triton's tables.")
    var schema: String = "triton"

    func resolvedURL() throws -> String {
        if let url = self.databaseURL ?? ProcessInfo.processInfo.environment["TRITON_DATABASE_URL"], !url.isEmpty {
            return url
        }
        throw ValidationError("--database-url: missing (or set TRITON_DATABASE_URL)")
    }

    func makeStore(notifyMode: PostgresEventStore.NotifyMode = .coalesced) throws -> PostgresEventStore {
        try PostgresEventStore(configuration: .init(url: try self.resolvedURL(), schema: self.schema, notifyMode: notifyMode))
    }
}
