import EventStore
import Foundation
import TritonSeals
import PostgresStore
import TritonAudit
import TritonDomain
import TritonEngine
import TritonProjections

/// Every release in a period with the fields an auditor samples from (SOC 2 CC8.1, ISO 27001 A.8.32,
/// PCI DSS 6.5 and 10.x, SOX change management), and the summaries they ask first: self-approvals,
/// emergencies awaiting review, failed and canceled releases, approval latency, change-failure rate.
public struct PeriodReport: Codable, Sendable, Equatable {
    public struct Filter: Codable, Sendable, Equatable {
        public var from: Date?
        public var to: Date?
        public var namespace: String?
        /// Releases this person authored or approved.
        public var actor: String?

        public init(from: Date? = nil, to: Date? = nil, namespace: String? = nil, actor: String? = nil) {
            self.from = from
            self.to = to
            self.namespace = namespace
            self.actor = actor
        }

        public func includes(_ record: ComplianceRecord) -> Bool {
            guard let actor else { return true }
            return record.author?.actor == actor || record.approvals.contains { $0.actor == actor }
        }
    }

    /// One release, flattened to the columns of the CSV.
    public struct Row: Codable, Sendable, Equatable {
        public var flow: String
        public var namespace: String
        public var cloneSet: String
        public var action: String
        public var fromImage: String
        public var toImage: String
        public var author: String
        public var createdAt: Date?
        public var approvers: String
        public var firstApprovalAt: Date?
        public var segregationOfDuties: String
        public var emergency: String
        public var outcome: String
        public var finishedAt: Date?
        public var durationSeconds: Double?
        public var exceptions: Int
        public var complete: Bool
        public var firstPosition: Int64
        public var lastPosition: Int64
        public var seal: UInt64?

        public init(_ record: ComplianceRecord) {
            self.flow = record.release.flow
            self.namespace = record.release.namespace
            self.cloneSet = record.release.cloneSet
            self.action = record.release.action
            self.fromImage = record.release.fromImage ?? ""
            self.toImage = record.release.toImage ?? ""
            self.author = record.author?.actor ?? ""
            self.createdAt = record.outcome.createdAt
            self.approvers = record.segregationOfDuties.approvers.joined(separator: " ")
            self.firstApprovalAt = record.approvals.first?.at
            self.segregationOfDuties = record.segregationOfDuties.verdict
            self.emergency = record.emergency?.status ?? ""
            self.outcome = record.outcome.phase
            self.finishedAt = record.outcome.finishedAt
            self.durationSeconds = record.outcome.durationSeconds
            self.exceptions = record.exceptions.count
            self.complete = record.completeness.complete
            self.firstPosition = record.integrity.firstPosition
            self.lastPosition = record.integrity.lastPosition
            self.seal = record.integrity.seal?.sequence
        }

        public static let csvHeader =
            "flow,namespace,cloneSet,action,fromImage,toImage,author,createdAt,approvers,firstApprovalAt,segregationOfDuties,emergency,outcome,finishedAt,durationSeconds,exceptions,complete,firstPosition,lastPosition,seal"

        public var csvLine: String {
            let time = { (date: Date?) in date.map(ReportText.time) ?? "" }
            return [
                self.flow, self.namespace, self.cloneSet, self.action, self.fromImage, self.toImage, self.author, time(self.createdAt), self.approvers,
                time(self.firstApprovalAt), self.segregationOfDuties, self.emergency, self.outcome, time(self.finishedAt),
                self.durationSeconds.map { String(format: "%.1f", $0) } ?? "", String(self.exceptions), self.complete ? "true" : "false",
                String(self.firstPosition), String(self.lastPosition), self.seal.map(String.init) ?? "",
            ].map(ReportText.csvField).joined(separator: ",")
        }
    }

    public struct Summary: Codable, Sendable, Equatable {
        public var releases: Int
        public var byOutcome: [String: Int]
        public var selfApprovals: [String]
        public var emergencies: [String]
        public var emergenciesAwaitingReview: [String]
        public var failed: [String]
        public var canceled: [String]
        /// Seconds from the flow waiting for a decision to the decision, over every approval.
        public var approvalLatencyMedianSeconds: Double?
        public var approvalLatencyP90Seconds: Double?
        public var approvalLatencyMaxSeconds: Double?
        /// Failed among the finished releases that change what runs (create, update, rollback), canceled ones left out.
        public var changeFailureRate: Double?
        public var incomplete: [String]
    }

    public var format = "triton-period-report/v1"
    public var generatedAt: Date
    public var filter: Filter
    public var summary: Summary
    public var releases: [Row]

    /// The report of `records` (already filtered), oldest first.
    public init(records: [ComplianceRecord], filter: Filter, now: Date = Date()) {
        let sorted = records.sorted { ($0.outcome.createdAt ?? .distantPast, $0.release.flow) < ($1.outcome.createdAt ?? .distantPast, $1.release.flow) }
        self.generatedAt = now
        self.filter = filter
        self.releases = sorted.map(Row.init)
        let flows = { (predicate: (ComplianceRecord) -> Bool) in sorted.filter(predicate).map(\.release.flow) }
        let latencies = sorted.flatMap { $0.approvals.compactMap(\.waitedSeconds) }.sorted()
        func quantile(_ q: Double) -> Double? {
            guard !latencies.isEmpty else { return nil }
            return latencies[min(latencies.count - 1, Int((Double(latencies.count - 1) * q).rounded()))]
        }
        // Deployments that ran to an end (a canceled one is not a failed change).
        let changes = sorted.filter { $0.outcome.finished && $0.release.toImage != nil && $0.outcome.phase != FlowPhase.canceled.rawValue }
        self.summary = Summary(
            releases: sorted.count,
            byOutcome: sorted.reduce(into: [:]) { $0[$1.outcome.phase, default: 0] += 1 },
            selfApprovals: flows { $0.segregationOfDuties.verdict == "self-approved" },
            emergencies: flows { $0.emergency != nil },
            emergenciesAwaitingReview: flows { $0.emergency?.status == "awaiting review" },
            failed: flows { $0.outcome.phase == FlowPhase.failed.rawValue },
            canceled: flows { $0.outcome.phase == FlowPhase.canceled.rawValue },
            approvalLatencyMedianSeconds: quantile(0.5), approvalLatencyP90Seconds: quantile(0.9), approvalLatencyMaxSeconds: latencies.last,
            changeFailureRate: changes.isEmpty ? nil : Double(changes.filter { $0.outcome.phase == FlowPhase.failed.rawValue }.count) / Double(changes.count),
            incomplete: flows { $0.outcome.finished && !$0.completeness.complete && $0.outcome.phase == FlowPhase.success.rawValue }
        )
    }

    public var csv: String {
        ([Row.csvHeader] + self.releases.map(\.csvLine)).joined(separator: "\r\n") + "\r\n"
    }
}

/// Finds the releases of a period and builds their records.
public enum PeriodReports {
    /// The flows created in the period (and namespace), newest first as the projection lists them.
    public static func flows(_ store: PostgresEventStore, _ filter: PeriodReport.Filter) async throws -> [FlowID] {
        var query = FlowFilter(namespace: filter.namespace)
        query.after = filter.from.map { $0.addingTimeInterval(-0.001) }
        query.before = filter.to
        return try await FlowQueries(store: store).list(query).map { FlowID($0.name) }
    }

    /// The records of the period's releases, in the order ``flows(_:_:)`` lists them, with
    /// `progress(done, total)` every hundred. Up to `concurrency` records are built at once (each is two
    /// stream reads and a fold): a running server's runner and projector keep the rest of the pool.
    public static func records(
        _ store: PostgresEventStore, _ filter: PeriodReport.Filter, now: Date = Date(), concurrency: Int = 4,
        progress: (@Sendable (Int, Int) -> Void)? = nil
    ) async throws -> [ComplianceRecord] {
        let ids = try await Self.flows(store, filter)
        let seals = try await SealRecords(store: store).records()
        var built = [ComplianceRecord?](repeating: nil, count: ids.count)
        try await withThrowingTaskGroup(of: (Int, ComplianceRecord?).self) { group in
            var next = 0
            func add() {
                let index = next
                next += 1
                group.addTask { (index, try await ComplianceRecords.build(ids[index], store: store, seals: seals, now: now)) }
            }
            for _ in 0..<min(max(1, concurrency), ids.count) { add() }
            var done = 0
            while let (index, record) = try await group.next() {
                built[index] = record
                done += 1
                if done % 100 == 0 || done == ids.count { progress?(done, ids.count) }
                if next < ids.count { add() }
            }
        }
        return built.compactMap { $0 }.filter(filter.includes)
    }
}

public enum ReportText {
    /// RFC 3339 UTC with milliseconds (one format style for every call: a report formats thousands).
    public static func time(_ date: Date) -> String { date.formatted(Self.iso8601) }

    static let iso8601 = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// RFC 4180 quoting, as the timeline's CSV does it.
    static func csvField(_ text: String) -> String { TimelineEntry.csvField(text) }
}

extension ReportText {
    /// A compliance record for people, in a terminal.
    public static func summary(_ r: ComplianceRecord) -> String {
        var lines = [
            "release \(r.release.flow): \(r.release.action) of \(r.release.namespace)/\(r.release.cloneSet) (\(r.release.appName)), \(r.release.fromImage ?? "—") → \(r.release.toImage ?? "(image unchanged)")",
            "outcome: \(r.outcome.phase)\(r.outcome.failureReason.map { " (\($0))" } ?? ""), created \(r.outcome.createdAt.map(Self.time) ?? "—"), finished \(r.outcome.finishedAt.map(Self.time) ?? "—")",
            "author: \(r.author?.actor ?? "—")\(r.author?.reason.map { " — \($0)" } ?? "")",
            "segregation of duties: \(r.segregationOfDuties.verdict) — \(r.segregationOfDuties.detail)",
        ]
        for approval in r.approvals {
            lines.append(
                "  approved: \(approval.intent) batch \(approval.batch)\(approval.canary ? " (canary)" : "") by \(approval.actor) at \(Self.time(approval.at))\(approval.reason.map { " — \($0)" } ?? "")"
            )
        }
        if let emergency = r.emergency {
            lines.append("EMERGENCY change by \(emergency.declaredBy): \(emergency.justification) — \(emergency.status)\(emergency.reviewedBy.map { " by \($0)" } ?? "")")
        }
        lines.append("strategy: \(r.strategy.mode), plan \(r.strategy.plan.map(String.init).joined(separator: ", "))\(r.strategy.noPullIn ? ", no pull-in" : "")")
        for batch in r.batches {
            lines.append(
                "  batch \(batch.batch)\(batch.canary ? " (canary)" : ""): \(batch.phase), \(batch.size) pods, P/R/R/F \(batch.pods.pending)/\(batch.pods.running)/\(batch.pods.ready)/\(batch.pods.failed)"
            )
        }
        for exception in r.exceptions { lines.append("exception: \(exception)") }
        lines.append("completeness: \(r.completeness.complete ? "complete" : "NOT complete") — \(r.completeness.detail)")
        let seal = r.integrity.seal.map { "seal \($0.sequence) (\($0.treeSize) events)" } ?? "not sealed yet"
        lines.append("integrity: \(r.integrity.events) events at log positions \(r.integrity.firstPosition)–\(r.integrity.lastPosition), \(seal); check: \(r.integrity.verify.joined(separator: "; "))")
        return lines.joined(separator: "\n")
    }

    /// A period report for people, in a terminal.
    public static func summary(_ report: PeriodReport) -> String {
        let s = report.summary
        func list(_ flows: [String]) -> String { flows.isEmpty ? "none" : flows.joined(separator: ", ") }
        var lines = [
            "releases: \(s.releases) (\(s.byOutcome.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))",
            "self-approved: \(list(s.selfApprovals))",
            "emergencies: \(list(s.emergencies)); awaiting review: \(list(s.emergenciesAwaitingReview))",
            "failed: \(list(s.failed)); canceled: \(list(s.canceled))",
            "approval latency: median \(s.approvalLatencyMedianSeconds.map { String(format: "%.1f s", $0) } ?? "—"), p90 \(s.approvalLatencyP90Seconds.map { String(format: "%.1f s", $0) } ?? "—")",
            "change-failure rate: \(s.changeFailureRate.map { String(format: "%.1f%%", $0 * 100) } ?? "—")",
            "",
            "FLOW                      OUTCOME    AUTHOR        APPROVERS              SOD            EMERGENCY",
        ]
        for row in report.releases {
            lines.append(
                [row.flow, row.outcome, row.author, row.approvers, row.segregationOfDuties, row.emergency].enumerated().map { index, text in
                    let width = [26, 11, 14, 23, 15, 0][index]
                    return width == 0 || text.count >= width ? text + " " : text.padding(toLength: width, withPad: " ", startingAt: 0)
                }.joined()
            )
        }
        return lines.joined(separator: "\n")
    }
}
