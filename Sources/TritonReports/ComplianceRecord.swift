import EventStore
import Foundation
import PostgresStore
import TritonAudit
import TritonDomain
import TritonEngine
import TritonProjections
import TritonSeals

/// The compliance record of one release, generated from the log alone: what changed and where, who
/// asked and who approved (with a segregation-of-duties verdict), the strategy in force, every intent,
/// the evidence of each batch, the outcome, the emergency and its review, the exceptions, whether the
/// cluster ran what was approved at the end, and where in the sealed log it all is.
public struct ComplianceRecord: Codable, Sendable, Equatable {
    public struct Identity: Codable, Sendable, Equatable {
        public var flow: String
        public var action: String
        public var namespace: String
        public var cloneSet: String
        public var appName: String
        public var appID: Int
        /// What the instance ran before the flow (the latest successful release's image), if known.
        public var fromImage: String?
        /// What the flow rolls out (create, update, rollback); `nil` for scale and restart.
        public var toImage: String?
        public var fromReplicas: Int
        public var toReplicas: Int
    }

    public struct Intent: Codable, Sendable, Equatable {
        public var position: Int64
        public var at: Date
        /// `FlowCreated`, `NextRequested`, `ContinueRequested`, `Paused`, `Resumed`, `Canceled`, `EmergencyDeclared`, `EmergencyReviewed`.
        public var intent: String
        public var actor: String
        public var source: String
        public var reason: String?
        /// The batch it concerned (the batch `next` passed or started, or the current one).
        public var batch: Int?
    }

    public struct Approval: Codable, Sendable, Equatable {
        public var actor: String
        public var at: Date
        public var reason: String?
        /// `next` (one step) or `continue` (every remaining step).
        public var intent: String
        public var batch: Int
        /// Passing the canary (pulling it into traffic).
        public var canary: Bool
        /// How long the flow had waited for this decision.
        public var waitedSeconds: Double?
    }

    public struct SegregationOfDuties: Codable, Sendable, Equatable {
        /// `segregated` (nobody approved their own change), `self-approved`, `no-approval` (nothing
        /// waited for a decision: auto mode), or `emergency` (declared; see the emergency block).
        public var verdict: String
        public var author: String
        public var approvers: [String]
        public var detail: String
    }

    public struct StrategyInForce: Codable, Sendable, Equatable {
        public var mode: String
        public var canary: Int
        public var plan: [Int]
        public var batchIntervalSeconds: Int
        public var startupTimeoutSeconds: Int
        public var pullOutWaitSeconds: Int
        public var noPullIn: Bool
    }

    public struct BatchEvidence: Codable, Sendable, Equatable {
        public var batch: Int
        public var size: Int
        public var canary: Bool
        public var phase: String
        /// The batch's pods at the end: pending/running/ready/failed.
        public var pods: ReplicaCounts
        public var failedReplicas: Int
        public var startedAt: Date?
        public var pulledInAt: Date?
        public var finishedAt: Date?
        /// Started → pulled in (smoke), pulled in → finished (bake), started → finished.
        public var smokeSeconds: Double?
        public var bakeSeconds: Double?
        public var totalSeconds: Double?
        public var failureReason: String?
    }

    public struct Outcome: Codable, Sendable, Equatable {
        public var phase: String
        public var finished: Bool
        public var createdAt: Date?
        public var finishedAt: Date?
        public var durationSeconds: Double?
        public var failureReason: String?
    }

    public struct EmergencyChange: Codable, Sendable, Equatable {
        public var rules: [String]
        public var justification: String
        public var declaredBy: String
        public var declaredAt: Date
        /// `reviewed` or `awaiting review`.
        public var status: String
        public var reviewedBy: String?
        public var reviewedAt: Date?
        public var reviewNote: String?
    }

    public struct Completeness: Codable, Sendable, Equatable {
        public var approvedImage: String?
        /// The CloneSet's update revision at the flow's last observation.
        public var finalRevision: String?
        public var replicas: Int
        public var updatedReplicas: Int
        public var updatedReadyReplicas: Int
        /// Every pod ran the flow's revision and was ready at the end.
        public var complete: Bool
        public var detail: String
    }

    public struct Integrity: Codable, Sendable, Equatable {
        public var stream: String
        public var events: Int
        public var firstPosition: Int64
        public var lastPosition: Int64
        public var lastVersion: Int64
        /// The hash of the flow's last event in its stream's chain.
        public var lastHash: String
        /// The first seal that covers the flow's last event (made at its end), if sealed yet.
        public var seal: Seal?
        public var verify: [String]
    }

    public var format = "triton-compliance-record/v1"
    public var generatedAt: Date
    public var release: Identity
    public var author: Intent?
    public var approvals: [Approval]
    public var segregationOfDuties: SegregationOfDuties
    public var strategy: StrategyInForce
    public var intents: [Intent]
    public var batches: [BatchEvidence]
    public var outcome: Outcome
    public var emergency: EmergencyChange?
    /// Overrides and skipped gates: an emergency, `continue` past manual stops, no pull-in, a cancel, a failure.
    public var exceptions: [String]
    public var completeness: Completeness
    public var integrity: Integrity
}

/// Builds compliance records from the log (the flow's stream, its instance's stream and the seals).
public enum ComplianceRecords {
    public static func build(_ id: FlowID, store: PostgresEventStore, now: Date = Date()) async throws -> ComplianceRecord? {
        let events = try await store.readStream(Streams.flow(id), afterVersion: 0)
        guard !events.isEmpty else { return nil }
        let seals = try await SealRecords(store: store).records()
        return try await Self.build(id, events: events, seals: seals, store: store, now: now)
    }

    /// The record of a flow with the seals read already (a report builds many).
    public static func build(_ id: FlowID, store: PostgresEventStore, seals: [SealRecords.Record], now: Date = Date()) async throws -> ComplianceRecord? {
        let events = try await store.readStream(Streams.flow(id), afterVersion: 0)
        guard !events.isEmpty else { return nil }
        return try await Self.build(id, events: events, seals: seals, store: store, now: now)
    }

    /// The record of a flow whose events are read already; `seals` in sequence order.
    static func build(
        _ id: FlowID, events: [RecordedEvent], seals: [SealRecords.Record], store: PostgresEventStore, now: Date
    ) async throws -> ComplianceRecord {
        var state = DeployFlow.initialState
        var intents: [ComplianceRecord.Intent] = []
        var approvals: [ComplianceRecord.Approval] = []
        var exceptions: [String] = []
        var waitingSince: Date?
        var waited = false
        for event in events {
            let decoded = try DeployFlow.Event.decode(type: event.type, data: Data(event.data.utf8))
            let before = state
            state = DeployFlow.evolve(state, decoded)
            let metadata = try? EventMetadata.decode(json: event.metadata)
            let at = metadata?.time ?? event.recordedAt
            if FlowRecord.intentTypes.contains(event.type) {
                var batch: Int? = before.currentBatch > 0 ? before.currentBatch : nil
                switch decoded {
                case .nextRequested(let next):
                    batch = next.batch
                    let canary = next.batch == 1 && before.current?.canary == true && before.current?.phase == .smoked
                    approvals.append(
                        .init(
                            actor: metadata?.actor ?? "", at: at, reason: metadata?.reason, intent: "next", batch: next.batch, canary: canary,
                            waitedSeconds: waitingSince.map { at.timeIntervalSince($0) }
                        )
                    )
                case .continueRequested:
                    let canary = before.current?.canary == true && before.current?.phase == .smoked
                    approvals.append(
                        .init(
                            actor: metadata?.actor ?? "", at: at, reason: metadata?.reason, intent: "continue", batch: before.currentBatch,
                            canary: canary, waitedSeconds: waitingSince.map { at.timeIntervalSince($0) }
                        )
                    )
                    let remaining = state.plan.count - before.currentBatch
                    if remaining > 0 { exceptions.append("continue by \(metadata?.actor ?? "?") at batch \(before.currentBatch): the remaining \(remaining) batch(es) ran without manual stops") }
                case .canceled:
                    exceptions.append("canceled by \(metadata?.actor ?? "?")\(metadata?.reason.map { ": \($0)" } ?? "")")
                case .emergencyDeclared(let declared):
                    exceptions.append("emergency change declared by \(declared.by), overriding \(declared.rule): \(declared.justification)")
                case .flowCreated, .emergencyReviewed:
                    batch = nil
                default:
                    break
                }
                intents.append(
                    .init(
                        position: event.position, at: at, intent: event.type, actor: metadata?.actor ?? "", source: metadata?.source.rawValue ?? "",
                        reason: metadata?.reason, batch: batch
                    )
                )
            }
            // How long each decision was waited for: from the event that made the flow wait.
            if DeployFlow.waitingStep(state) != nil {
                waited = true
                if waitingSince == nil { waitingSince = event.recordedAt }
            } else {
                waitingSince = nil
            }
        }
        guard let spec = state.spec else { throw ComplianceError("flow \(id): its log has no FlowCreated event") }
        if spec.strategy.noPullIn { exceptions.append("no pull-in: new pods were never put into traffic by the release (noPullIn)") }
        if state.phase == .failed { exceptions.append("failed: \(state.failureReason ?? "no reason recorded")") }

        let author = intents.first { $0.intent == DeployFlow.FlowCreated.typeName }
        let approvers = Array(Set(approvals.map(\.actor))).sorted()
        let sod: ComplianceRecord.SegregationOfDuties
        let authorName = author?.actor ?? ""
        if let emergency = state.emergency {
            sod = .init(
                verdict: "emergency", author: authorName, approvers: approvers,
                detail: "emergency change by \(emergency.declaredBy): \(emergency.reviewedBy.map { "reviewed by \($0)" } ?? "awaiting review")"
            )
        } else if approvals.isEmpty {
            let detail =
                waited
                ? "no step was approved (the flow ended \(state.phase.rawValue) before any approval)"
                : "nothing waited for a decision (\(spec.strategy.mode.rawValue) mode)"
            sod = .init(verdict: "no-approval", author: authorName, approvers: [], detail: detail)
        } else if approvers.contains(authorName) {
            sod = .init(verdict: "self-approved", author: authorName, approvers: approvers, detail: "\(authorName) approved their own change")
        } else {
            sod = .init(
                verdict: "segregated", author: authorName, approvers: approvers,
                detail: "every approval by someone other than the author (\(approvers.joined(separator: ", ")))"
            )
        }

        // What the instance ran before: the latest successful revision-changing release before this one.
        let instance = try await store.readStream(Streams.instance(spec.instance), afterVersion: 0)
        var history = Instance.State()
        for event in instance {
            history = Instance.evolve(history, try Instance.Event.decode(type: event.type, data: Data(event.data.utf8)))
        }
        let index = history.releases.firstIndex { $0.flowID == id } ?? history.releases.count
        let fromImage = history.releases[..<index].last { $0.outcome == .success && $0.action.changesRevision && $0.appSpec != nil }?.appSpec?.image

        let batches = state.batches.filter(\.isStarted).map { batch -> ComplianceRecord.BatchEvidence in
            let counts = FlowStatus.Batch(batch: batch).pods.reduce(into: ReplicaCounts(pending: 0, running: 0, ready: 0, failed: 0)) { counts, pod in
                switch pod.phase {
                case "Ready": counts.ready += 1
                case "Failed": counts.failed += 1
                case "Pending", "": counts.pending += 1
                default: counts.running += 1
                }
            }
            func seconds(_ from: Date?, _ to: Date?) -> Double? { from.flatMap { f in to.map { $0.timeIntervalSince(f) } } }
            return .init(
                batch: batch.number, size: batch.size, canary: batch.canary, phase: batch.phase.rawValue, pods: counts,
                failedReplicas: FlowStatus.Batch(batch: batch).failedReplicas, startedAt: batch.startedAt, pulledInAt: batch.pulledInAt,
                finishedAt: batch.finishedAt, smokeSeconds: seconds(batch.startedAt, batch.pulledInAt),
                bakeSeconds: seconds(batch.pulledInAt, batch.finishedAt), totalSeconds: seconds(batch.startedAt, batch.finishedAt),
                failureReason: batch.failureReason
            )
        }

        let changesImage = spec.action.changesRevision
        let workload = state.workload
        let replicas = workload?.replicas ?? 0
        let updated = workload?.updatedReplicas ?? 0
        let updatedReady = workload?.updatedReadyReplicas ?? 0
        let complete = state.phase == .success && (!changesImage || (replicas > 0 && updated == replicas && updatedReady == replicas))
        let completenessDetail: String =
            if !state.isFinished {
                "the flow has not finished"
            } else if !changesImage {
                "a \(spec.action.rawValue) keeps the template; \(replicas) pods at the end"
            } else if complete {
                "all \(replicas) pods ran the flow's revision \(workload?.updateRevision ?? "?") (image \(spec.appSpec.image)) and were ready"
            } else {
                "at the end \(updatedReady) of \(replicas) pods ran the flow's revision ready (\(updated) updated)"
            }

        let last = events[events.count - 1]
        // The first seal whose last sealed event is at or after the flow's last one covers it.
        let seal = seals.first { ($0.lastPosition ?? .start) >= last.logPosition }?.seal
        let stream = Streams.flow(id).rawValue
        let emergency = state.emergency.map {
            ComplianceRecord.EmergencyChange(
                rules: $0.rules, justification: $0.justification, declaredBy: $0.declaredBy, declaredAt: $0.declaredAt,
                status: $0.reviewedBy == nil ? "awaiting review" : "reviewed", reviewedBy: $0.reviewedBy, reviewedAt: $0.reviewedAt, reviewNote: $0.reviewNote
            )
        }
        return ComplianceRecord(
            generatedAt: now,
            release: .init(
                flow: id.rawValue, action: spec.action.rawValue, namespace: spec.instance.namespace, cloneSet: spec.instance.name,
                appName: spec.appSpec.appName, appID: spec.appSpec.appID, fromImage: fromImage, toImage: changesImage ? spec.appSpec.image : nil,
                fromReplicas: spec.currentReplicas, toReplicas: spec.targetReplicas
            ),
            author: author, approvals: approvals, segregationOfDuties: sod,
            strategy: .init(
                mode: spec.strategy.mode.rawValue, canary: spec.strategy.canary, plan: state.plan.batches.map(\.size),
                batchIntervalSeconds: spec.strategy.batchIntervalSeconds, startupTimeoutSeconds: spec.strategy.startupTimeoutSeconds,
                pullOutWaitSeconds: spec.strategy.pullOutWaitSeconds, noPullIn: spec.strategy.noPullIn
            ),
            intents: intents, batches: batches,
            outcome: .init(
                phase: state.phase.rawValue, finished: state.isFinished, createdAt: state.createdAt, finishedAt: state.finishedAt,
                durationSeconds: state.createdAt.flatMap { created in state.finishedAt.map { $0.timeIntervalSince(created) } },
                failureReason: state.failureReason
            ),
            emergency: emergency, exceptions: exceptions,
            completeness: .init(
                approvedImage: changesImage ? spec.appSpec.image : nil, finalRevision: workload?.updateRevision, replicas: replicas,
                updatedReplicas: updated, updatedReadyReplicas: updatedReady, complete: complete, detail: completenessDetail
            ),
            integrity: .init(
                stream: stream, events: events.count, firstPosition: events[0].position, lastPosition: last.position, lastVersion: last.version,
                lastHash: last.hash, seal: seal,
                verify: [
                    "triton audit proof inclusion --flow \(id.rawValue)", "triton audit verify --trusted-seal kept-seal.json",
                ]
            )
        )
    }
}

public struct ComplianceError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
