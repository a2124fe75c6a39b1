import EventStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PostgresStore
import TritonDomain
import TritonEngine
import TritonJSON
import TritonProjections

extension TritonAPI {
    struct HistoryEntry: Encodable {
        var version: Int64
        var type: String
        var recordedAt: Date
        var actor: String
        var source: String
        var reason: String?
        var requestID: String?
        var clientAddress: String?
        var data: JSONValue
    }

    @Sendable func history(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "reading a flow's history")
        let record = try await self.flowRecord(context)
        let events = try await self.store.readStream(Streams.flow(record.id), afterVersion: 0)
        let entries = try events.map { event in
            let metadata = try EventMetadata.decode(json: event.metadata)
            return HistoryEntry(
                version: event.version, type: event.type, recordedAt: event.recordedAt, actor: metadata.actor,
                source: metadata.source.rawValue, reason: metadata.reason, requestID: metadata.requestID,
                clientAddress: metadata.clientAddress, data: try JSONValue.parse(event.data)
            )
        }
        return try Self.encode(["events": entries])
    }

    /// Server-Sent Events: the flow (Triton status shape) now and each time it changes, until it finishes.
    @Sendable func watch(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "watching a flow")
        let flow = try await self.flowRecord(context).id
        let handler = self.handler
        let intents = self.intents
        let user = context.user
        let interval = self.watchInterval
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        let body = ResponseBody { writer in
            // The handler's state cache makes each look read only the events appended since the last.
            var sent: Int64 = -1
            while true {
                let (state, version) = try await handler.load(DeployFlow.self, stream: Streams.flow(flow))
                if version != sent {
                    let record = try await FlowRecord.load(flow, from: handler.store)
                    let status = record.map { FlowStatus(record: $0, allowedActions: intents.allowedActions($0, user)) } ?? FlowStatus(state: state)
                    let data = try FlowStatus.makeEncoder().encode(status)
                    try await writer.write(ByteBuffer(string: "id: \(version)\nevent: deploy\ndata: \(String(decoding: data, as: UTF8.self))\n\n"))
                    sent = version
                }
                if state.isFinished { break }
                try await Task.sleep(for: interval)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}
