import EventStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PostgresStore
import TritonDomain
import TritonEngine
import TritonAudit
import TritonProjections
import TritonReports

/// Compliance records and period reports (viewer role), generated from the log at each request.
extension TritonAPI {
    /// `GET /api/v1/deployflows/{name}/compliance[?format=json|html|pdf]`.
    @Sendable func compliance(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "reading compliance records")
        let format = try Self.format(request, allowed: ["json", "html", "pdf"])
        let flow = try await self.flowRecord(context).id
        guard let record = try await ComplianceRecords.build(flow, store: self.store) else {
            throw APIError.notFound("name", "flow \(flow) has no events")
        }
        switch format {
        case "html": return Self.download(Data(ReportHTML.record(record).utf8), type: "text/html; charset=utf-8", name: nil)
        case "pdf": return Self.download(try await Self.pdf(ReportHTML.record(record)), type: "application/pdf", name: "\(flow.rawValue).pdf")
        default: return try Self.encode(record)
        }
    }

    /// `GET /api/v1/reports?from=&to=&namespace=&actor=&format=json|csv|html|pdf`: the period's report.
    @Sendable func report(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "reading reports")
        let format = try Self.format(request, allowed: ["json", "csv", "html", "pdf"])
        let filter = try Self.periodFilter(request)
        let report = PeriodReport(records: try await PeriodReports.records(self.store, filter), filter: filter)
        switch format {
        case "csv": return Self.download(Data(report.csv.utf8), type: "text/csv; charset=utf-8", name: "releases.csv")
        case "html": return Self.download(Data(ReportHTML.report(report).utf8), type: "text/html; charset=utf-8", name: nil)
        case "pdf": return Self.download(try await Self.pdf(ReportHTML.report(report)), type: "application/pdf", name: "releases.pdf")
        default: return try Self.encode(report)
        }
    }

    /// `GET /api/v1/reports/records?from=&to=&namespace=&actor=`: JSON lines, `{"total": N}` first, then
    /// each release's compliance record as it is built (the CLI shows its progress and renders locally).
    @Sendable func reportRecords(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "reading reports")
        let filter = try Self.periodFilter(request)
        let store = self.store
        let ids = try await PeriodReports.flows(store, filter)
        var headers = HTTPFields()
        headers[.contentType] = "application/jsonl"
        let body = ResponseBody { writer in
            let encoder = FlowStatus.makeEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try await writer.write(ByteBuffer(string: "{\"total\":\(ids.count)}\n"))
            let seals = try await SealRecords(store: store).records()
            for id in ids {
                guard let record = try await ComplianceRecords.build(id, store: store, seals: seals), filter.includes(record) else { continue }
                var line = try encoder.encode(record)
                line.append(0x0A)
                try await writer.write(ByteBuffer(bytes: line))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    static func format(_ request: Request, allowed: [String]) throws -> String {
        let format = request.uri.queryParameters.get("format") ?? "json"
        guard allowed.contains(format) else { throw APIError.badRequest("format", "'\(format)' is not one of \(allowed.joined(separator: ", "))") }
        return format
    }

    static func periodFilter(_ request: Request) throws -> PeriodReport.Filter {
        let query = request.uri.queryParameters
        func time(_ field: String) throws -> Date? {
            guard let text = query.get(field) else { return nil }
            guard case .time(let date) = LogPoint(text) else { throw APIError.badRequest(field, "'\(text)' is not an RFC 3339 time (2026-12-07T14:03:12Z)") }
            return date
        }
        let filter = PeriodReport.Filter(from: try time("from"), to: try time("to"), namespace: query.get("namespace"), actor: query.get("actor"))
        if let from = filter.from, let to = filter.to, from > to { throw APIError.badRequest("to", "comes before from") }
        return filter
    }

    static func pdf(_ html: String) async throws -> Data {
        do {
            return try await ReportPDF.render(html: html)
        } catch let error as ReportPDF.Unavailable {
            throw APIError(.serviceUnavailable, code: "pdfUnavailable", field: "format", error.description)
        }
    }

    static func download(_ data: Data, type: String, name: String?) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        if let name { headers[.contentDisposition] = "attachment; filename=\"\(name)\"" }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
