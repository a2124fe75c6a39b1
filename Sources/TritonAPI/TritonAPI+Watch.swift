import EventStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PostgresStore
import ServiceLifecycle
import TritonDomain
import TritonEngine
import TritonJSON
import TritonProjections

// Server-Sent Events that follow the log (the store's notifications, not a timer). Every `id:` is a
// global log position, so a client that reconnects with `Last-Event-ID` (the header, or `?lastEventId=`
// where a client cannot set headers) resumes exactly after what it saw, across server restarts too.

extension TritonAPI {
    /// The position a client saw last: `Last-Event-ID`, else `?lastEventId=`; `nil` for a first connection.
    static func lastEventID(_ request: Request) throws -> Int64? {
        let header = request.headers[HTTPField.Name("Last-Event-ID")!]
        guard let text = (header ?? request.uri.queryParameters.get("lastEventId"))?.trimmingCharacters(in: .whitespaces), !text.isEmpty
        else { return nil }
        guard let position = Int64(text), position >= 0 else {
            throw APIError.badRequest("Last-Event-ID", "'\(text)' is not a log position (a whole number, 0 or more)")
        }
        return position
    }

    static func eventStreamHeaders() -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return headers
    }

    /// The log from `position` as `follow` gives it, with a `nil` every `heartbeat` in between: a
    /// stream writes a comment then, so a client that went away while the log was quiet is noticed
    /// (the write fails) instead of holding its handler until the next event. Ends when the server
    /// shuts down gracefully, so an open page does not hold a restart up.
    static func followWithHeartbeat(
        _ store: PostgresEventStore, from position: LogPosition, heartbeat: Duration
    ) -> AsyncCancelOnGracefulShutdownSequence<AsyncThrowingStream<RecordedEvent?, any Error>> {
        let (merged, continuation) = AsyncThrowingStream.makeStream(of: RecordedEvent?.self, bufferingPolicy: .bufferingOldest(64))
        let events = Task {
            do {
                for try await event in store.follow(from: position) {
                    // Back-pressure: wait while the writer is behind.
                    while case .dropped = continuation.yield(event) { try await Task.sleep(for: .milliseconds(2)) }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        let beats = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeat)
                if case .terminated = continuation.yield(nil) { return }
            }
        }
        continuation.onTermination = { _ in
            events.cancel()
            beats.cancel()
        }
        return merged.cancelOnGracefulShutdown()
    }

    /// The flow after each of its events that come after `recorded` (the events of the state a client
    /// has), one state per event (a heartbeat is `nil`), in the flow's version order: an event of the
    /// flow the log delivers is folded onto the state it follows (``FlowRecord/apply(_:)``, not a refold
    /// of the whole stream); one that does not follow it (a gap) makes the stream reread the flow.
    static func flowStates(
        _ id: FlowID, after recorded: [RecordedEvent], store: PostgresEventStore, heartbeat: Duration
    ) -> AsyncThrowingStream<FlowRecord?, any Error> {
        let (states, continuation) = AsyncThrowingStream.makeStream(of: FlowRecord?.self, bufferingPolicy: .bufferingOldest(64))
        let task = Task {
            do {
                let stream = Streams.flow(id)
                var state = try FlowRecord(id: id, recorded: recorded)
                for try await item in Self.followWithHeartbeat(store, from: recorded.last?.logPosition ?? .start, heartbeat: heartbeat) {
                    guard let event = item else {
                        continuation.yield(nil)
                        continue
                    }
                    guard event.streamID == stream, event.version > state.version else { continue }
                    if event.version == state.version + 1 {
                        try state.apply(event)
                    } else {
                        state = try FlowRecord(id: id, recorded: try await store.readStream(stream, afterVersion: 0))
                    }
                    while case .dropped = continuation.yield(state) { try await Task.sleep(for: .milliseconds(2)) }
                    if state.state.isFinished { break }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return states
    }

    /// The flow's events up to and including its event at global `position` (all of them when `nil`);
    /// `nil` when no event of the flow has that position.
    static func flowEvents(_ id: FlowID, through position: Int64?, store: PostgresEventStore) async throws -> [RecordedEvent]? {
        let events = try await store.readStream(Streams.flow(id), afterVersion: 0)
        guard let position else { return events }
        return events.firstIndex { $0.position == position }.map { Array(events[...$0]) }
    }

    static let heartbeatFrame = ByteBuffer(string: ": keep-alive\n\n")

    /// One SSE frame: `id:` the log position, the event's name, the JSON data on one line.
    static func frame(id: Int64, event: String, data: Data) -> ByteBuffer {
        ByteBuffer(string: "id: \(id)\nevent: \(event)\ndata: \(String(decoding: data, as: UTF8.self))\n\n")
    }

    /// `GET …/deployflows/{name}/watch`: the flow (Triton's status shape, with this caller's allowed
    /// actions) now, and again after each of its events (one state per event), until it finishes. `id:`
    /// is the global position of the flow's last event in that state; after `Last-Event-ID: p` only the
    /// states of the flow's events after `p`, so a client never gets a state older than one it has shown.
    @Sendable func watch(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "watching a flow")
        let id = try await self.flowRecord(context).id
        let resume = try Self.lastEventID(request)
        let store = self.store
        // Resumed at one of the flow's events: from the state there, every later event's state (the
        // stream goes on exactly where it broke). Another position: the flow now, if it is newer.
        let start: [RecordedEvent]
        let resumed: Bool
        if let resume, let through = try await Self.flowEvents(id, through: resume, store: store) {
            (start, resumed) = (through, true)
        } else {
            (start, resumed) = (try await Self.flowEvents(id, through: nil, store: store) ?? [], false)
        }
        let heartbeat = self.heartbeatInterval
        let intents = self.intents
        let user = context.user
        let body = ResponseBody { writer in
            var sent = resume ?? -1
            var record = try FlowRecord(id: id, recorded: start)
            func send(_ record: FlowRecord) async throws {
                guard record.logPosition.position > sent else { return }
                let status = FlowStatus(record: record, allowedActions: intents.allowedActions(record, user))
                try await writer.write(Self.frame(id: record.logPosition.position, event: "deploy", data: try FlowStatus.makeEncoder().encode(status)))
                sent = record.logPosition.position
            }
            if !resumed { try await send(record) }
            if !record.state.isFinished {
                for try await state in Self.flowStates(id, after: start, store: store, heartbeat: heartbeat) {
                    guard let state else {
                        try await writer.write(Self.heartbeatFrame)
                        continue
                    }
                    record = state
                    try await send(record)
                }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: Self.eventStreamHeaders(), body: body)
    }

    /// One event of `GET /api/v1/events`: where it is and what it is, not its payload.
    struct LogEntry: Encodable {
        var position: Int64
        var stream: String
        var version: Int64
        var type: String
        var recordedAt: Date
        var actor: String
        /// The flow the event belongs to (its stream is `deployflow-<id>`).
        var flow: String?
    }

    /// `GET /api/v1/events`: the global log as it grows, one `log` event per appended event (`id:` its
    /// position), from now, or exactly after `Last-Event-ID` / `?lastEventId=` (`0`: from the start),
    /// with no event missed or repeated however many writers append. What pages follow to stay current.
    @Sendable func logEvents(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "following the log")
        let start: LogPosition
        switch try Self.lastEventID(request) {
        case nil: start = try await self.store.head()
        case 0?: start = .start
        case let position?:
            guard let found = try await self.store.logPosition(of: position) else {
                throw APIError.badRequest("Last-Event-ID", "no event has log position \(position)")
            }
            start = found
        }
        let store = self.store
        let heartbeat = self.heartbeatInterval
        let body = ResponseBody { writer in
            let encoder = FlowStatus.makeEncoder()
            for try await item in Self.followWithHeartbeat(store, from: start, heartbeat: heartbeat) {
                guard let event = item else {
                    try await writer.write(Self.heartbeatFrame)
                    continue
                }
                let actor = (try? EventMetadata.decode(json: event.metadata))?.actor ?? ""
                let stream = event.streamID.rawValue
                let entry = LogEntry(
                    position: event.logPosition.position, stream: stream, version: event.version, type: event.type,
                    recordedAt: event.recordedAt, actor: actor, flow: stream.hasPrefix("deployflow-") ? String(stream.dropFirst("deployflow-".count)) : nil
                )
                try await writer.write(Self.frame(id: entry.position, event: "log", data: try encoder.encode(entry)))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: Self.eventStreamHeaders(), body: body)
    }
}
