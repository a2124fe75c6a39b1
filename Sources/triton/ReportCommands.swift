import ArgumentParser
import Foundation
import TritonProjections
import TritonReports

/// `triton compliance FLOW`: one release's compliance record, from the log.
struct ComplianceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compliance",
        abstract: "A release's compliance record from the log: who asked and approved, the evidence of each batch, the outcome, the seal."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, html, pdf
    }

    @OptionGroup var api: APIOptions

    @Argument(help: "The flow id.")
    var flow: String

    @Option(help: "text, json, html or pdf (pdf needs --out).")
    var format: Format = .text

    @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "path"))
    var out: String?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if self.format == .pdf, self.out == nil { throw ValidationError("--out: required with --format pdf") }
    }

    func run() async throws {
        try await self.api.calling(self.output) { client in
            let status = try await FlowLookup.flow(self.flow, client)
            let path = "/api/v1/deployflows/\(TritonClient.escape(status.name))/compliance"
            let format = self.output.isJSON && self.format == .text ? Format.json : self.format
            switch format {
            case .text:
                let record = try await client.get(ComplianceRecord.self, path)
                print(ReportText.summary(record))
            case .json, .html, .pdf:
                let data = try await client.request("GET", path + "?format=\(format.rawValue)")
                try ReportOutput.write(data, to: self.out)
            }
        }
    }
}

/// `triton report --from --to`: every release of a period, with the summaries auditors ask first.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "A change report for a period: every release with the fields auditors sample, self-approvals, emergencies, failures, approval latency."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, csv, json, html, pdf
    }

    @OptionGroup var api: APIOptions

    @Option(help: ArgumentHelp("From this time (RFC 3339).", valueName: "time"))
    var from: String?

    @Option(help: ArgumentHelp("Until this time (RFC 3339).", valueName: "time"))
    var to: String?

    @Option(name: .shortAndLong, help: "Only this namespace.")
    var namespace: String?

    @Option(help: "Only releases this person authored or approved.")
    var actor: String?

    @Option(help: "text, csv, json, html or pdf (pdf needs --out).")
    var format: Format = .text

    @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "path"))
    var out: String?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        for (flag, value) in [("--from", self.from), ("--to", self.to)] {
            guard let value else { continue }
            guard case .time = LogPoint(value) else { throw ValidationError("\(flag): '\(value)' is not an RFC 3339 time (2026-12-07T14:03:12Z)") }
        }
        if self.format == .pdf, self.out == nil { throw ValidationError("--out: required with --format pdf") }
    }

    func run() async throws {
        let output = self.output
        try await self.api.calling(output) { client in
            var query: [String] = []
            func add(_ name: String, _ value: String?) {
                if let value { query.append("\(name)=\(TritonClient.escape(value).replacingOccurrences(of: "+", with: "%2B"))") }
            }
            add("from", self.from)
            add("to", self.to)
            add("namespace", self.namespace)
            add("actor", self.actor)
            var filter = PeriodReport.Filter(namespace: self.namespace, actor: self.actor)
            if let from = self.from, case .time(let date) = LogPoint(from) { filter.from = date }
            if let to = self.to, case .time(let date) = LogPoint(to) { filter.to = date }
            // Records stream in as the server builds them: a progress line while they come.
            let decoder = FlowStatus.makeDecoder()
            var records: [ComplianceRecord] = []
            var total = 0
            for try await line in client.lines("/api/v1/reports/records?" + query.joined(separator: "&")) {
                if total == 0, let header = try? JSONDecoder().decode([String: Int].self, from: line), let count = header["total"] {
                    total = max(count, 1)
                    continue
                }
                records.append(try decoder.decode(ComplianceRecord.self, from: line))
                if records.count % 200 == 0 { output.progress("records \(records.count) of \(total)…") }
            }
            let report = PeriodReport(records: records, filter: filter)
            let format = output.isJSON && self.format == .text ? Format.json : self.format
            switch format {
            case .text:
                print(ReportText.summary(report))
            case .csv:
                try ReportOutput.write(Data(report.csv.utf8), to: self.out)
            case .json:
                let encoder = FlowStatus.makeEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try ReportOutput.write(try encoder.encode(report) + Data("\n".utf8), to: self.out)
            case .html:
                try ReportOutput.write(Data(ReportHTML.report(report).utf8), to: self.out)
            case .pdf:
                try ReportOutput.write(try await ReportPDF.render(html: ReportHTML.report(report)), to: self.out)
            }
        }
    }
}

enum ReportOutput {
    static func write(_ data: Data, to path: String?) throws {
        guard let path else {
            FileHandle.standardOutput.write(data)
            return
        }
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        FileHandle.standardError.write(Data("wrote \(path) (\(data.count) bytes)\n".utf8))
    }
}
