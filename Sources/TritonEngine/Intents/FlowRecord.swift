import EventStore
import Foundation
import TritonDomain

/// Who did what and why: one intent as its event records it.
public struct Attribution: Sendable, Hashable, Codable {
    /// The stored event type of the intent (`FlowCreated`, `NextRequested`, `Paused`, …).
    public var intent: String
    public var actor: String
    public var reason: String?
    public var at: Date
    /// The event's global log position.
    public var position: Int64

    public init(intent: String, actor: String, reason: String?, at: Date, position: Int64) {
        self.intent = intent
        self.actor = actor
        self.reason = reason
        self.at = at
        self.position = position
    }
}

/// A flow as the log has it, with the people behind it: its state, who created it, the last intent on
/// the flow and on each batch.
public struct FlowRecord: Sendable, Equatable {
    public var id: FlowID
    public var state: DeployFlow.State
    public var version: Int64
    /// Where the flow's last event is in the global log (what an SSE `id:` of this state names).
    public var logPosition: LogPosition
    public var createdBy: String?
    /// The last intent on the flow (creation included).
    public var lastIntent: Attribution?
    /// The last intent on each batch (1-based number → attribution): `next` on the batch, or `continue`,
    /// `pause`, `resume`, `cancel` while it was the current one.
    public var batchIntents: [Int: Attribution]

    /// The event types that are intents of people (everything else is the engine's).
    public static let intentTypes: Set<String> = [
        DeployFlow.FlowCreated.typeName, DeployFlow.Paused.typeName, DeployFlow.Resumed.typeName,
        DeployFlow.NextRequested.typeName, DeployFlow.ContinueRequested.typeName, DeployFlow.Canceled.typeName,
        DeployFlow.EmergencyDeclared.typeName, DeployFlow.EmergencyReviewed.typeName,
    ]

    /// Folds the recorded events of one flow stream.
    public init(id: FlowID, recorded: [RecordedEvent]) throws {
        self.id = id
        self.state = DeployFlow.initialState
        self.version = 0
        self.logPosition = .start
        self.batchIntents = [:]
        for event in recorded { try self.apply(event) }
    }

    /// Folds one more event of the flow's stream (the one after ``version``) onto this record.
    public mutating func apply(_ event: RecordedEvent) throws {
        let decoded = try DeployFlow.Event.decode(type: event.type, data: Data(event.data.utf8))
        let before = self.state
        self.state = DeployFlow.evolve(self.state, decoded)
        self.version = event.version
        self.logPosition = event.logPosition
        guard Self.intentTypes.contains(event.type), let metadata = try? EventMetadata.decode(json: event.metadata) else { return }
        let attribution = Attribution(
            intent: event.type, actor: metadata.actor, reason: metadata.reason, at: metadata.time, position: event.logPosition.position
        )
        if case .flowCreated = decoded { self.createdBy = metadata.actor }
        self.lastIntent = attribution
        switch decoded {
        case .flowCreated, .emergencyDeclared, .emergencyReviewed:
            break
        case .nextRequested(let next):
            self.batchIntents[next.batch] = attribution
        default:
            if before.currentBatch > 0 { self.batchIntents[before.currentBatch] = attribution }
        }
    }

    /// Reads and folds the flow's stream; `nil` when no such flow exists.
    public static func load(_ id: FlowID, from store: any EventStore) async throws -> FlowRecord? {
        let recorded = try await store.readStream(Streams.flow(id), afterVersion: 0)
        guard !recorded.isEmpty else { return nil }
        return try FlowRecord(id: id, recorded: recorded)
    }
}
