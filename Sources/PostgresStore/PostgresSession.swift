import CLibPQ

/// One dedicated PostgreSQL connection for tools outside the store (benchmarks, operator checks):
/// plain statements, parameterised commands and a first-row read, with no pool or transaction around
/// them. The connection closes when the session is released.
public struct PostgresSession: Sendable {
    private let connection: PGConnection

    private init(connection: PGConnection) { self.connection = connection }

    /// Connects; with a `schema`, unqualified names resolve in it.
    public static func connect(url: String, schema: String? = nil, applicationName: String = "triton") async throws -> PostgresSession {
        PostgresSession(connection: try await PGConnection.connect(url: url, schema: schema, applicationName: applicationName))
    }

    /// Runs one or more statements (simple query protocol, no parameters).
    public func execute(_ sql: String) async throws { try await self.connection.execute(sql) }

    /// Runs one parameterised statement (prepared on first use), ignoring its rows.
    public func command(_ sql: String, _ parameters: [String?] = []) async throws {
        try await self.connection.command(sql, parameters)
    }

    /// The text of the first row's columns (empty when the statement returns no row).
    public func firstRow(_ sql: String, _ parameters: [String?] = []) async throws -> [String?] {
        try await self.connection.query(sql, parameters) { reader in
            guard reader.rowCount > 0 else { return [] }
            return (0..<Int(PQnfields(reader.result))).map { reader.optionalString(0, $0) }
        }
    }

    /// `text` as an SQL string literal.
    public static func quoteLiteral(_ text: String) -> String { PGConnection.quoteLiteral(text) }
}
