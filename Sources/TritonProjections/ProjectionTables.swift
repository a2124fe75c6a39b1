import PostgresStore

/// The projection's tables, for comparisons: after a rebuild, or between a projection and a replay.
public enum ProjectionTables {
    /// The query tables and the checkpoints, in dump order.
    public static let names = ["flows", "flow_batches", "flow_pods", "instances", "projection_checkpoints"]

    /// Every row of every table in ``names`` as PostgreSQL's row text (`(a,b,…)`), sorted bytewise:
    /// two projections are identical exactly when their dumps are equal.
    public static func dump(_ store: PostgresEventStore) async throws -> [String: [String]] {
        try await store.withTransaction { tx in
            try await tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            var tables: [String: [String]] = [:]
            for name in Self.names {
                let rows = try await tx.query("SELECT t::text FROM \(name) t ORDER BY t::text COLLATE \"C\"")
                tables[name] = rows.map { $0.first.flatMap { $0 } ?? "" }
            }
            return tables
        }
    }

    /// Human-readable differences between two dumps (empty when equal): per table, the rows only in
    /// `expected` (`-`) and only in `actual` (`+`), at most `limit` lines per table.
    public static func differences(_ expected: [String: [String]], _ actual: [String: [String]], limit: Int = 20) -> [String] {
        var lines: [String] = []
        for name in Set(expected.keys).union(actual.keys).sorted() {
            let left = expected[name] ?? []
            let right = actual[name] ?? []
            guard left != right else { continue }
            let missing = left.filter { !right.contains($0) }
            let extra = right.filter { !left.contains($0) }
            lines.append("\(name): \(left.count) rows expected, \(right.count) found")
            lines += missing.prefix(limit).map { "  - \($0)" }
            lines += extra.prefix(limit).map { "  + \($0)" }
        }
        return lines
    }
}
