import EventStore
import Foundation
import PostgresStore
import TritonDomain
import TritonEngine

/// Which flows ``FlowQueries/list(_:)`` returns (the fields of Triton's `DeployFilter`).
public struct FlowFilter: Sendable, Equatable {
    /// Only flows of this namespace; `nil` = every namespace.
    public var namespace: String?
    /// Only flows of this instance (CloneSet name).
    public var instanceName: String?
    /// Only flows of this action.
    public var action: Action?
    /// Only flows created after this time.
    public var after: Date?
    /// Only flows created at or before this time.
    public var before: Date?
    /// Flows to skip (newest first). Defaults to `0`.
    public var start: Int
    /// At most this many flows; `nil` = all.
    public var pageSize: Int?
    /// Only active (`false`) or only finished (`true`) flows; `nil` = both.
    public var finished: Bool?

    /// Creates a filter; without arguments it matches every flow.
    public init(
        namespace: String? = nil, instanceName: String? = nil, action: Action? = nil, after: Date? = nil, start: Int = 0,
        pageSize: Int? = nil, finished: Bool? = nil
    ) {
        self.finished = finished
        self.namespace = namespace
        self.instanceName = instanceName
        self.action = action
        self.after = after
        self.start = start
        self.pageSize = pageSize
    }
}

/// Reads flows from the projection tables in their Triton status shape: what `triton flow get` /
/// `triton flow list` and the API's `Get` / `Gets` return. The tables lag the log by the projector's
/// delay; `FlowStatus(state:)` of a fresh fold gives the same value once the projector caught up.
public struct FlowQueries: Sendable {
    public let store: PostgresEventStore

    /// Queries over `store`'s projection tables.
    public init(store: PostgresEventStore) {
        self.store = store
    }

    /// The flow with this id, or `nil` when the projection has no such flow.
    public func status(id: FlowID) async throws -> FlowStatus? {
        try await self.select(where: "f.id = $1", [id.rawValue], suffix: "").first
    }

    /// The flows of a namespace, newest first.
    public func list(namespace: String) async throws -> [FlowStatus] {
        try await self.list(FlowFilter(namespace: namespace))
    }

    /// The flows matching `filter`, newest first (by creation time, then id).
    /// - Throws: ``ProjectionError`` `.badColumn` naming `start` / `pageSize` when negative.
    public func list(_ filter: FlowFilter) async throws -> [FlowStatus] {
        guard filter.start >= 0 else { throw ProjectionError.badColumn("filter", "start", String(filter.start), "must not be negative") }
        if let size = filter.pageSize, size < 0 {
            throw ProjectionError.badColumn("filter", "pageSize", String(size), "must not be negative")
        }
        var conditions: [String] = []
        var parameters: [String?] = []
        func add(_ condition: String, _ value: String) {
            parameters.append(value)
            conditions.append(condition.replacingOccurrences(of: "?", with: "$\(parameters.count)"))
        }
        if let namespace = filter.namespace { add("f.namespace = ?", namespace) }
        if let instance = filter.instanceName { add("f.instance = ?", instance) }
        if let action = filter.action { add("f.action = ?", action.rawValue) }
        if let finished = filter.finished { add("f.finished = ?::boolean", finished ? "true" : "false") }
        if let after = filter.after { add("f.created_at > ?::timestamptz", ISO8601Milliseconds.string(from: after)) }
        if let before = filter.before { add("f.created_at <= ?::timestamptz", ISO8601Milliseconds.string(from: before)) }
        var suffix = " OFFSET \(filter.start)"
        if let size = filter.pageSize { suffix += " LIMIT \(size)" }
        return try await self.select(where: conditions.isEmpty ? "true" : conditions.joined(separator: " AND "), parameters, suffix: suffix)
    }

    /// The flows an admin declared an emergency change on, from the log itself (oldest first).
    public func emergencyFlows() async throws -> [FlowID] {
        let rows = try await self.store.withTransaction { tx in
            try await tx.query(
                "SELECT stream_id FROM events WHERE event_type = $1 GROUP BY stream_id ORDER BY min(position)",
                [DeployFlow.EmergencyDeclared.typeName]
            )
        }
        return rows.compactMap { $0.first ?? nil }.filter { $0.hasPrefix("deployflow-") }.map { FlowID(String($0.dropFirst("deployflow-".count))) }
    }

    /// Where a flow runner can start (see ``FlowRunner/Start``), read in one snapshot: the checkpoint of
    /// the projector `projector`, the flows not finished as of it (and finished flows whose end the
    /// instance has not recorded), and the deletions not carried out. The projector writes its rows and
    /// its checkpoint in one transaction, so they agree.
    public func runnerStart(projector: String = "flows") async throws -> FlowRunner.Start {
        let (checkpoint, flows, deletions) = try await self.store.withTransaction { tx in
            try await tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            let checkpoint = try await tx.query("SELECT tx::text, position FROM projection_checkpoints WHERE projector = $1", [projector])
            let flows = try await tx.query(
                """
                SELECT id FROM flows WHERE NOT finished
                UNION SELECT active_flow_id FROM instances WHERE active_flow_id IS NOT NULL ORDER BY 1
                """
            )
            let deletions = try await tx.query(
                "SELECT namespace, name FROM instances WHERE deletion_requested_at IS NOT NULL AND deleted_at IS NULL ORDER BY 1, 2"
            )
            return (checkpoint, flows, deletions)
        }
        // No checkpoint yet: nothing projected, so everything is read from the log.
        guard let row = checkpoint.first else { return FlowRunner.Start(position: .start, flows: [], deletions: []) }
        return FlowRunner.Start(
            position: try SQLText.logPosition(row, table: "projection_checkpoints"),
            flows: flows.compactMap { $0.first ?? nil }.map { FlowID($0) },
            deletions: deletions.compactMap { row in
                guard row.count == 2, let namespace = row[0], let name = row[1] else { return nil }
                return InstanceRef(namespace: namespace, name: name)
            }
        )
    }

    /// The instances of a namespace (every namespace when `nil`; only the one called `name` when given),
    /// by namespace and name; deleted ones only with `includeDeleted`.
    public func instances(namespace: String? = nil, name: String? = nil, includeDeleted: Bool = false) async throws -> [InstanceSummary] {
        let columns = InstanceSummary.columns
        let rows = try await self.store.withTransaction { tx in
            try await tx.query(
                """
                SELECT \(ProjectionColumns.selectList(columns, alias: "i")) FROM instances i
                WHERE ($1::text IS NULL OR i.namespace = $1) AND ($2::text IS NULL OR i.name = $2)
                  AND ($3::bool OR i.deleted_at IS NULL)
                ORDER BY i.namespace, i.name
                """,
                [namespace, name, includeDeleted ? "true" : "false"]
            )
        }
        return try rows.map { try InstanceSummary(RowReader(table: "instances", columns: columns, row: $0)) }
    }

    // MARK: - Reading rows

    /// Flows matching `condition` (over alias `f`), with their started batches and their pods, in one
    /// transaction so the three reads agree.
    private func select(where condition: String, _ parameters: [String?], suffix: String) async throws -> [FlowStatus] {
        let flowColumns = ProjectionColumns.flows
        let batchColumns = ProjectionColumns.flowBatches
        let podColumns = ProjectionColumns.flowPods
        let (flows, batches, pods) = try await self.store.withTransaction { tx in
            try await tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            let flows = try await tx.query(
                """
                SELECT \(ProjectionColumns.selectList(flowColumns, alias: "f")) FROM flows f WHERE \(condition)
                ORDER BY f.created_at DESC NULLS LAST, f.id\(suffix)
                """,
                parameters
            )
            let ids = SQLText.textArray(flows.compactMap { $0.first ?? nil })
            let batches = try await tx.query(
                """
                SELECT \(ProjectionColumns.selectList(batchColumns, alias: "b")) FROM flow_batches b
                WHERE b.flow_id = ANY($1::text[]) AND b.started_at IS NOT NULL ORDER BY b.flow_id, b.batch
                """,
                [ids]
            )
            let pods = try await tx.query(
                """
                SELECT \(ProjectionColumns.selectList(podColumns, alias: "p")) FROM flow_pods p
                WHERE p.flow_id = ANY($1::text[]) ORDER BY p.flow_id, p.batch, p.ordinal
                """,
                [ids]
            )
            return (flows, batches, pods)
        }
        var podsByBatch: [String: [FlowStatus.PodInfo]] = [:]
        for row in pods {
            let reader = RowReader(table: "flow_pods", columns: podColumns, row: row)
            let key = "\(try reader.string("flow_id"))\n\(try reader.int("batch"))"
            podsByBatch[key, default: []].append(
                FlowStatus.PodInfo(
                    name: try reader.string("pod_name"), ip: try reader.string("ip"), port: try reader.int("port"),
                    phase: try reader.string("phase"), pullInStatus: try reader.string("pull_in_status")
                )
            )
        }
        var conditionsByFlow: [String: [FlowStatus.Batch]] = [:]
        for row in batches {
            let reader = RowReader(table: "flow_batches", columns: batchColumns, row: row)
            let flowID = try reader.string("flow_id")
            let number = try reader.int("batch")
            conditionsByFlow[flowID, default: []].append(
                FlowStatus.Batch(
                    batch: number, batchSize: try reader.int("size"), canary: try reader.bool("canary"),
                    phase: try reader.string("phase"), failedReplicas: try reader.int("failed_replicas"),
                    pods: podsByBatch["\(flowID)\n\(number)"] ?? [], startedAt: try reader.date("started_at"),
                    pulledInAt: try reader.date("pulled_in_at"), finishedAt: try reader.date("finished_at")
                )
            )
        }
        return try flows.map { row in
            let reader = RowReader(table: "flows", columns: flowColumns, row: row)
            return try Self.status(reader, conditions: conditionsByFlow[try reader.string("id")] ?? [])
        }
    }

    private static func status(_ r: RowReader, conditions: [FlowStatus.Batch]) throws -> FlowStatus {
        var status = FlowStatus(state: DeployFlow.initialState)
        status.namespace = try r.string("namespace")
        status.name = try r.string("id")
        status.appID = try r.int("app_id")
        status.groupID = try r.int("group_id")
        status.appName = try r.string("app_name")
        status.instanceName = try r.string("instance")
        status.replicas = try r.int("replicas")
        status.action = try r.string("action")
        status.availableReplicas = try r.int("available_replicas")
        status.updatedReplicas = try r.int("updated_replicas")
        status.updatedReadyReplicas = try r.int("updated_ready_replicas")
        status.updateRevision = try r.string("update_revision")
        status.conditions = conditions
        status.paused = try r.bool("paused")
        status.phase = try r.string("phase")
        status.finished = try r.bool("finished")
        status.batches = try r.int("batches")
        status.batchSize = try r.int("batch_size")
        status.finishedBatches = try r.int("finished_batches")
        status.finishedReplicas = try r.int("finished_replicas")
        status.failedReplicas = try r.int("failed_replicas")
        status.startedAt = try r.date("started_at")
        status.finishedAt = try r.date("finished_at")
        status.updatedAt = try r.date("updated_at")
        status.mode = try r.string("mode")
        status.batchIntervalSeconds = try r.int("batch_interval_seconds")
        status.timeoutSeconds = try r.int("startup_timeout_seconds")
        status.gracefulPeriodSeconds = try r.int("pull_out_wait_seconds")
        status.canary = try r.int("canary")
        return status
    }
}

/// One application instance as the projection shows it.
public struct InstanceSummary: Sendable, Equatable, Codable {
    public var namespace: String
    public var name: String
    /// The flow running now, if any.
    public var activeFlowID: String?
    public var activeAction: String?
    /// The flow that began last.
    public var lastFlowID: String?
    public var lastSuccessfulFlowID: String?
    /// The image of the latest successful create / update / rollback.
    public var currentImage: String?
    public var appID: Int?
    public var groupID: Int?
    public var appName: String?
    /// Flows that began on the instance.
    public var flows: Int
    /// From the latest observation of the CloneSet.
    public var replicas: Int?
    public var availableReplicas: Int?
    public var updateRevision: String?
    public var observedAt: Date?
    /// When deleting the instance's CloneSet was asked for, while that is the instance's latest news.
    public var deletionRequestedAt: Date?
    /// When the executor deleted it.
    public var deletedAt: Date?
    /// Its deletion is asked for and not carried out yet.
    public var isDeleting: Bool { self.deletionRequestedAt != nil && self.deletedAt == nil }

    static let columns = [
        "namespace", "name", "active_flow_id", "active_action", "last_flow_id", "last_successful_flow_id", "current_image",
        "app_id", "group_id", "app_name", "flows", "replicas", "available_replicas", "update_revision", "observed_at",
        "deletion_requested_at", "deleted_at",
    ]

    init(_ r: RowReader) throws {
        self.namespace = try r.string("namespace")
        self.name = try r.string("name")
        self.activeFlowID = r.optionalString("active_flow_id")
        self.activeAction = r.optionalString("active_action")
        self.lastFlowID = r.optionalString("last_flow_id")
        self.lastSuccessfulFlowID = r.optionalString("last_successful_flow_id")
        self.currentImage = r.optionalString("current_image")
        self.appID = try r.optionalString("app_id").map { _ in try r.int("app_id") }
        self.groupID = try r.optionalString("group_id").map { _ in try r.int("group_id") }
        self.appName = r.optionalString("app_name")
        self.flows = try r.int("flows")
        self.replicas = try r.optionalString("replicas").map { _ in try r.int("replicas") }
        self.availableReplicas = try r.optionalString("available_replicas").map { _ in try r.int("available_replicas") }
        self.updateRevision = r.optionalString("update_revision")
        self.observedAt = try r.date("observed_at")
        self.deletionRequestedAt = try r.date("deletion_requested_at")
        self.deletedAt = try r.date("deleted_at")
    }
}
