import EventStore
import PostgresStore

/// Everything one projector transaction writes: the changed rows and the new checkpoint.
struct ProjectionWrite: Sendable {
    /// Flows whose stored batch and pod rows are unknown to the projector (first touch after a start):
    /// their batch and pod rows are deleted and written afresh.
    var replacedFlows: [String] = []
    var flows: [[String?]] = []
    var batches: [[String?]] = []
    var pods: [[String?]] = []
    /// `(flow id, batch)` rows that no longer exist.
    var deletedBatches: [(String, Int)] = []
    /// `(flow id, batch, pod)` rows that no longer exist.
    var deletedPods: [(String, Int, String)] = []
    var instanceStates: [[String?]] = []
    var instanceObservations: [[String?]] = []

    /// Adds the difference between what was written for a flow and its new rows.
    mutating func add(_ rows: FlowRows, previous: FlowRows?, flowID: String) {
        guard let previous else {
            self.replacedFlows.append(flowID)
            self.flows.append(rows.flow)
            self.batches += rows.batches.sorted { $0.key < $1.key }.map(\.value)
            self.pods += rows.pods.sorted { $0.key < $1.key }.map(\.value)
            return
        }
        if rows.flow != previous.flow { self.flows.append(rows.flow) }
        for (number, row) in rows.batches.sorted(by: { $0.key < $1.key }) where previous.batches[number] != row {
            self.batches.append(row)
        }
        for (key, row) in rows.pods.sorted(by: { $0.key < $1.key }) where previous.pods[key] != row {
            self.pods.append(row)
        }
        for number in previous.batches.keys.sorted() where rows.batches[number] == nil {
            self.deletedBatches.append((flowID, number))
        }
        for key in previous.pods.keys.sorted() where rows.pods[key] == nil {
            self.deletedPods.append((flowID, key.batch, key.name))
        }
    }

    /// Rows written by this transaction (for logs and tests).
    var rowCount: Int {
        self.flows.count + self.batches.count + self.pods.count + self.instanceStates.count + self.instanceObservations.count
    }

    /// Writes the rows and moves the checkpoint from `expected` to `next` in one transaction.
    /// - Throws: ``ProjectionError`` `.checkpointMoved` when the stored checkpoint is not `expected`
    ///   (another projector got there first); nothing is written then.
    func commit(
        store: PostgresEventStore, projector: String, expected: LogPosition, next: LogPosition, events: Int,
        beforeCommit: (@Sendable () throws -> Void)?
    ) async throws {
        try await store.withTransaction { tx in
            let found = try await tx.query(
                "SELECT tx::text, position FROM projection_checkpoints WHERE projector = $1 FOR UPDATE", [projector]
            )
            let current = try found.first.map { try SQLText.logPosition($0, table: "projection_checkpoints") }
            guard current == expected else {
                throw ProjectionError(
                    .checkpointMoved,
                    "projector \(projector): checkpoint is \(current.map { "\($0)" } ?? "missing"), expected \(expected)"
                )
            }
            // One statement per kind of deletion, however many rows (arrays, not a round trip per row).
            if !self.replacedFlows.isEmpty {
                let ids = SQLText.textArray(self.replacedFlows)
                try await tx.execute("DELETE FROM flow_pods WHERE flow_id = ANY($1::text[])", [ids])
                try await tx.execute("DELETE FROM flow_batches WHERE flow_id = ANY($1::text[])", [ids])
            }
            if !self.deletedPods.isEmpty {
                try await tx.execute(
                    """
                    DELETE FROM flow_pods p USING unnest($1::text[], $2::int[], $3::text[]) AS d(flow_id, batch, pod_name)
                    WHERE p.flow_id = d.flow_id AND p.batch = d.batch AND p.pod_name = d.pod_name
                    """,
                    [
                        SQLText.textArray(self.deletedPods.map(\.0)), Self.intArray(self.deletedPods.map(\.1)),
                        SQLText.textArray(self.deletedPods.map(\.2)),
                    ]
                )
            }
            if !self.deletedBatches.isEmpty {
                try await tx.execute(
                    """
                    DELETE FROM flow_batches b USING unnest($1::text[], $2::int[]) AS d(flow_id, batch)
                    WHERE b.flow_id = d.flow_id AND b.batch = d.batch
                    """,
                    [SQLText.textArray(self.deletedBatches.map(\.0)), Self.intArray(self.deletedBatches.map(\.1))]
                )
            }
            try await Self.upsert(tx, table: "flows", columns: ProjectionColumns.flows, keys: ["id"], rows: self.flows)
            try await Self.upsert(
                tx, table: "flow_batches", columns: ProjectionColumns.flowBatches, keys: ["flow_id", "batch"], rows: self.batches
            )
            try await Self.upsert(
                tx, table: "flow_pods", columns: ProjectionColumns.flowPods, keys: ["flow_id", "batch", "pod_name"],
                rows: self.pods
            )
            try await Self.upsert(
                tx, table: "instances", columns: ProjectionColumns.instanceState, keys: ["namespace", "name"],
                rows: self.instanceStates
            )
            try await Self.upsert(
                tx, table: "instances", columns: ProjectionColumns.instanceObservation, keys: ["namespace", "name"],
                rows: self.instanceObservations
            )
            try await tx.execute(
                """
                UPDATE projection_checkpoints SET tx = $2::text::xid8, position = $3::bigint, events = events + $4::bigint
                WHERE projector = $1
                """,
                [projector, String(next.transaction), String(next.position), String(events)]
            )
            try beforeCommit?()
        }
    }

    /// A PostgreSQL array literal of integers, for `unnest($1::int[])`.
    static func intArray(_ values: [Int]) -> String { "{" + values.map(String.init).joined(separator: ",") + "}" }

    /// `INSERT … ON CONFLICT (keys) DO UPDATE` of many rows, in statements of at most ~30,000
    /// parameters. Rows must not repeat a key within one call.
    static func upsert(
        _ tx: PostgresTransaction, table: String, columns: [String], keys: [String], rows: [[String?]]
    ) async throws {
        guard !rows.isEmpty else { return }
        let updates = columns.filter { !keys.contains($0) }.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
        // Chunks of a power of two rows: a handful of statement shapes per table, each prepared once per
        // connection (a shape per row count would prepare, and keep, a statement for every count seen).
        var rowsPerStatement = 1
        while rowsPerStatement * 2 * columns.count <= 30_000 { rowsPerStatement *= 2 }
        var start = 0
        while start < rows.count {
            var size = rowsPerStatement
            while size > rows.count - start { size /= 2 }
            let chunk = rows[start..<(start + size)]
            var parameters: [String?] = []
            parameters.reserveCapacity(chunk.count * columns.count)
            var tuples: [String] = []
            for row in chunk {
                precondition(row.count == columns.count, "\(table): a row has \(row.count) values for \(columns.count) columns")
                let first = parameters.count
                tuples.append("(" + (1...columns.count).map { "$\(first + $0)" }.joined(separator: ", ") + ")")
                parameters += row
            }
            try await tx.execute(
                """
                INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", "))
                ON CONFLICT (\(keys.joined(separator: ", "))) DO UPDATE SET \(updates)
                """,
                parameters
            )
            start += size
        }
    }
}
