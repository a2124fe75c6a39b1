import EventStore
import Foundation
import PostgresStore
import TritonDomain
import TritonEngine

/// A point in the log to look back to: a global log position, or a time (the log's own clock, when the
/// database recorded the event).
public enum LogPoint: Sendable, Equatable, CustomStringConvertible {
    case position(Int64)
    case time(Date)

    /// `1234` is a position; an RFC 3339 time (`2026-12-07T14:03:12Z`, fractional seconds and offsets
    /// allowed) is a time. `nil` for anything else.
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let position = Int64(trimmed), position >= 0 {
            self = .position(position)
            return
        }
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: trimmed) {
                self = .time(date)
                return
            }
        }
        return nil
    }

    /// Whether the event had happened at this point.
    public func includes(_ event: RecordedEvent) -> Bool {
        switch self {
        case .position(let position): event.position <= position
        case .time(let time): event.recordedAt <= time
        }
    }

    public var description: String {
        switch self {
        case .position(let position): "position \(position)"
        case .time(let time): FlowHistory.timeText(time)
        }
    }
}

/// The event a look back stopped at.
public struct StoppedAt: Codable, Sendable, Equatable {
    public var position: Int64
    public var version: Int64
    public var type: String
    public var recordedAt: Date

    public init(_ event: RecordedEvent) {
        self.position = event.position
        self.version = event.version
        self.type = event.type
        self.recordedAt = event.recordedAt
    }
}

/// One event of a replay and the state the fold had after it.
public struct ReplayStep: Codable, Sendable, Equatable {
    public var position: Int64
    public var version: Int64
    public var type: String
    public var recordedAt: Date
    public var actor: String
    public var source: String
    public var reason: String?
    public var phase: String
    public var paused: Bool
    /// The batch the flow is on (1-based; 0 before the first).
    public var batch: Int
    public var batches: Int
    /// That batch's phase (`Pending`, `Smoking`, …), when there is one.
    public var batchPhase: String?
    public var finishedBatches: Int
    /// Pods of the flow's batches, pending/running/ready/failed, after this event.
    public var podCounts: ReplicaCounts
}

/// A flow re-folded from the log, event by event; at its end, the fold compared with the projection.
public struct FlowReplay: Codable, Sendable, Equatable {
    public struct ProjectionCheck: Codable, Sendable, Equatable {
        public var matches: Bool
        /// `field: projection …, log …` for each field that differs, in field order.
        public var differences: [String]
    }

    public var flow: String
    public var steps: [ReplayStep]
    /// Where `--at` stopped the replay (`nil`: at the flow's last event).
    public var stoppedAt: StoppedAt?
    public var final: FlowStatus
    /// `nil` when the replay was stopped early (a past state has no projection to compare with).
    public var projection: ProjectionCheck?
}

/// Time travel over one flow's events: its state as of a point, and its replay.
public enum FlowHistory {
    /// The flow as it was at `point`, and the event it stopped at; `nil` when the flow had no event yet.
    public static func asOf(_ id: FlowID, _ point: LogPoint, store: any EventStore) async throws -> (FlowRecord, StoppedAt)? {
        let events = try await store.readStream(Streams.flow(id), afterVersion: 0).filter(point.includes)
        guard let last = events.last else { return nil }
        return (try FlowRecord(id: id, recorded: events), StoppedAt(last))
    }

    /// Re-folds the flow from its events (up to `at`, a global position, when given) and, when it ran to
    /// the flow's last event, compares the fold with the flow's row in the projection.
    public static func replay(_ id: FlowID, at: Int64? = nil, store: PostgresEventStore) async throws -> FlowReplay? {
        let all = try await store.readStream(Streams.flow(id), afterVersion: 0)
        guard !all.isEmpty else { return nil }
        let events = at.map { at in all.filter { $0.position <= at } } ?? all
        var state = DeployFlow.initialState
        var steps: [ReplayStep] = []
        for event in events {
            state = DeployFlow.evolve(state, try DeployFlow.Event.decode(type: event.type, data: Data(event.data.utf8)))
            let metadata = try? EventMetadata.decode(json: event.metadata)
            let current = state.currentBatch > 0 && state.currentBatch <= state.batches.count ? state.batches[state.currentBatch - 1] : nil
            steps.append(
                ReplayStep(
                    position: event.position, version: event.version, type: event.type, recordedAt: event.recordedAt,
                    actor: metadata?.actor ?? "", source: metadata?.source.rawValue ?? "", reason: metadata?.reason, phase: state.phase.rawValue,
                    paused: state.paused, batch: state.currentBatch, batches: state.plan.count, batchPhase: current?.phase.rawValue,
                    finishedBatches: state.finishedBatches, podCounts: ReplicaCounts(state.pods)
                )
            )
        }
        let record = try FlowRecord(id: id, recorded: events)
        var check: FlowReplay.ProjectionCheck?
        if events.count == all.count {
            let folded = FlowStatus(state: record.state)
            let differences: [String]
            if let projected = try await FlowQueries(store: store).status(id: id) {
                differences = try Self.differences(projected: projected, folded: folded)
            } else {
                differences = ["the projection has no row for flow \(id)"]
            }
            check = .init(matches: differences.isEmpty, differences: differences)
        }
        return FlowReplay(
            flow: id.rawValue, steps: steps, stoppedAt: events.count == all.count ? nil : events.last.map(StoppedAt.init),
            final: FlowStatus(record: record), projection: check
        )
    }

    /// Each field where the projection's status differs from the fold's, as `path: projection …, log …`.
    static func differences(projected: FlowStatus, folded: FlowStatus) throws -> [String] {
        let encoder = FlowStatus.makeEncoder()
        let left = try JSONSerialization.jsonObject(with: try encoder.encode(projected))
        let right = try JSONSerialization.jsonObject(with: try encoder.encode(folded))
        var out: [String] = []
        Self.compare(left, right, path: "", into: &out)
        return out
    }

    private static func compare(_ projected: Any?, _ folded: Any?, path: String, into out: inout [String]) {
        switch (projected, folded) {
        case (let a as [String: Any], let b as [String: Any]):
            for key in Set(a.keys).union(b.keys).sorted() {
                Self.compare(a[key], b[key], path: path.isEmpty ? key : "\(path).\(key)", into: &out)
            }
        case (let a as [Any], let b as [Any]):
            for index in 0..<max(a.count, b.count) {
                Self.compare(index < a.count ? a[index] : nil, index < b.count ? b[index] : nil, path: "\(path)[\(index)]", into: &out)
            }
        default:
            let a = projected.map { "\($0)" } ?? "(absent)"
            let b = folded.map { "\($0)" } ?? "(absent)"
            if a != b { out.append("\(path): projection \(a), log \(b)") }
        }
    }

    static func timeText(_ date: Date) -> String { date.formatted(Self.iso8601) }

    static let iso8601 = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}

/// An instance as it was at a point in the log: its releases so far, what it ran, the flow active then.
public struct InstanceAsOf: Codable, Sendable, Equatable {
    public struct Release: Codable, Sendable, Equatable {
        public var flow: String
        public var action: String
        public var image: String?
        public var beganAt: Date
        /// `nil` while the flow was still running.
        public var outcome: String?
        public var endedAt: Date?
    }

    public var namespace: String
    public var name: String
    public var stoppedAt: StoppedAt
    /// The image of the latest successful create, update or rollback by then.
    public var currentImage: String?
    public var activeFlow: String?
    public var releases: [Release]
    /// A deletion asked for and not carried out yet, or carried out.
    public var deletion: String?
}

extension FlowHistory {
    /// The instance folded from its stream up to `point`; `nil` when it had no event yet.
    public static func instanceAsOf(_ ref: InstanceRef, _ point: LogPoint, store: any EventStore) async throws -> InstanceAsOf? {
        let events = try await store.readStream(Streams.instance(ref), afterVersion: 0).filter(point.includes)
        guard let last = events.last else { return nil }
        var state = Instance.State()
        for event in events { state = Instance.evolve(state, try Instance.Event.decode(type: event.type, data: Data(event.data.utf8))) }
        return InstanceAsOf(
            namespace: ref.namespace, name: ref.name, stoppedAt: StoppedAt(last), currentImage: state.currentAppSpec?.image,
            activeFlow: state.activeFlow?.flowID.rawValue,
            releases: state.releases.map {
                .init(flow: $0.flowID.rawValue, action: $0.action.rawValue, image: $0.appSpec?.image, beganAt: $0.beganAt, outcome: $0.outcome?.rawValue, endedAt: $0.endedAt)
            },
            deletion: state.deletion.map { $0.deletedAt == nil ? "requested" : "deleted" }
        )
    }
}
