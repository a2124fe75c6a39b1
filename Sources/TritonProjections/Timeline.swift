import EventStore
import Foundation
import PostgresStore
import TritonDomain
import TritonEngine

/// One event of an incident timeline: what happened, to which flow and instance, who did it and why,
/// and where the flow stood after it.
public struct TimelineEntry: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Somebody asked (create, next, continue, pause, resume, cancel, an emergency and its review).
        case intent
        /// The cluster as the engine saw it (the CloneSet, a pod).
        case observation
        /// A change the engine made to the cluster.
        case mutation
        /// A batch or the flow failed.
        case failure
        /// The engine's own steps (batches starting and finishing, timers, the flow's end).
        case progress
    }

    public var position: Int64
    public var recordedAt: Date
    public var namespace: String
    public var instance: String
    public var flow: String
    public var version: Int64
    public var type: String
    public var kind: Kind
    public var actor: String
    public var source: String
    public var reason: String?
    /// The flow's phase and batch after the event (`BatchStarted 2/4 Smoking`).
    public var state: String

    public static let csvHeader = "position,recordedAt,namespace,instance,flow,version,type,kind,actor,source,reason,state"

    public var csvLine: String {
        [
            String(self.position), FlowHistory.timeText(self.recordedAt), self.namespace, self.instance, self.flow, String(self.version), self.type,
            self.kind.rawValue, self.actor, self.source, self.reason ?? "", self.state,
        ].map(Self.csvField).joined(separator: ",")
    }

    /// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
    public static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func kind(of type: String) -> Kind {
        if FlowRecord.intentTypes.contains(type) { return .intent }
        if type.hasSuffix("Observed") { return .observation }
        if type == "MutationApplied" { return .mutation }
        if type.contains("Failed") { return .failure }
        return .progress
    }
}

/// Every flow's events in a namespace (optionally one instance) within a time window, merged in global
/// log order.
public enum Timeline {
    public static func entries(
        _ store: PostgresEventStore, namespace: String, instance: String? = nil, from: Date? = nil, to: Date? = nil
    ) async throws -> [TimelineEntry] {
        let flows = try await FlowQueries(store: store).list(FlowFilter(namespace: namespace, instanceName: instance))
        var entries: [(LogPosition, TimelineEntry)] = []
        for flow in flows {
            var state = DeployFlow.initialState
            for event in try await store.readStream(Streams.flow(FlowID(flow.name)), afterVersion: 0) {
                state = DeployFlow.evolve(state, try DeployFlow.Event.decode(type: event.type, data: Data(event.data.utf8)))
                if let from, event.recordedAt < from { continue }
                if let to, event.recordedAt > to { continue }
                let metadata = try? EventMetadata.decode(json: event.metadata)
                entries.append(
                    (
                        event.logPosition,
                        TimelineEntry(
                            position: event.position, recordedAt: event.recordedAt, namespace: flow.namespace, instance: flow.instanceName,
                            flow: flow.name, version: event.version, type: event.type, kind: TimelineEntry.kind(of: event.type),
                            actor: metadata?.actor ?? "", source: metadata?.source.rawValue ?? "", reason: metadata?.reason,
                            state: Self.stateText(state)
                        )
                    )
                )
            }
        }
        return entries.sorted { $0.0 < $1.0 }.map(\.1)
    }

    static func stateText(_ state: DeployFlow.State) -> String {
        var text = state.phase.rawValue
        if state.currentBatch > 0 {
            text += " \(state.currentBatch)/\(state.plan.count)"
            if state.currentBatch <= state.batches.count { text += " \(state.batches[state.currentBatch - 1].phase.rawValue)" }
        }
        if state.paused { text += " (paused)" }
        return text
    }
}
