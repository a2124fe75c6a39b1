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
}
