import EventStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PostgresStore
import TritonDomain
import TritonEngine
import TritonProjections

/// Looking back (viewer role): a flow as of a log position or a time, its replay from the log, and an
/// incident timeline across the flows of a namespace.
extension TritonAPI {
    /// `?asOf=` of a flow read: the flow folded up to that point, with the event it stopped at.
    func flowAsOf(_ text: String, _ context: APIContext) async throws -> Response {
        guard let point = LogPoint(text) else {
            throw APIError.badRequest("asOf", "'\(text)' is neither a log position (an integer) nor an RFC 3339 time (2026-12-07T14:03:12Z)")
        }
        let record = try await self.flowRecord(context)
        guard let (past, stopped) = try await FlowHistory.asOf(record.id, point, store: self.store) else {
            throw APIError.notFound("asOf", "flow \(record.id) had no event yet at \(point)")
        }
        var status = FlowStatus(record: past)
        status.asOf = stopped
        return try Self.encode(status)
    }

    /// `GET …/deployflows/{name}/replay[?at=P]`: every event of the flow with the state after it; at the
    /// end, whether the fold equals the projection (and each field that differs).
    @Sendable func replay(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "replaying a flow")
        var at: Int64?
        if let text = request.uri.queryParameters.get("at") {
            guard let position = Int64(text), position >= 0 else { throw APIError.badRequest("at", "must be a global log position (an integer)") }
            at = position
        }
        let record = try await self.flowRecord(context)
        guard let replay = try await FlowHistory.replay(record.id, at: at, store: self.store) else {
            throw APIError.notFound("name", "flow \(record.id) has no events")
        }
        return try Self.encode(replay)
    }

    /// `GET …/namespaces/{ns}/timeline[?from=&to=&instance=&format=json|jsonl|csv]`: every flow's events
    /// in the window, in global log order.
    @Sendable func timeline(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "reading a timeline")
        let namespace = try context.parameters.require("namespace")
        let query = request.uri.queryParameters
        func time(_ field: String) throws -> Date? {
            guard let text = query.get(field) else { return nil }
            guard case .time(let date) = LogPoint(text) else { throw APIError.badRequest(field, "'\(text)' is not an RFC 3339 time (2026-12-07T14:03:12Z)") }
            return date
        }
        let (from, to) = (try time("from"), try time("to"))
        if let from, let to, from > to { throw APIError.badRequest("to", "comes before from") }
        let format = query.get("format") ?? "json"
        guard ["json", "jsonl", "csv"].contains(format) else { throw APIError.badRequest("format", "'\(format)' is not one of json, jsonl, csv") }
        let entries = try await Timeline.entries(self.store, namespace: namespace, instance: query.get("instance"), from: from, to: to)
        switch format {
        case "csv":
            return Self.text(([TimelineEntry.csvHeader] + entries.map(\.csvLine)).joined(separator: "\r\n") + "\r\n", type: "text/csv; charset=utf-8")
        case "jsonl":
            let encoder = FlowStatus.makeEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let lines = try entries.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
            return Self.text(lines.map { $0 + "\n" }.joined(), type: "application/jsonl")
        default:
            return try Self.encode(["entries": entries])
        }
    }

    static func text(_ body: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
