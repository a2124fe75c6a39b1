import EventStore
import Logging
import Foundation

extension PostgresEventStore {
    /// A versioned SQL migration from `schema/`.
    public struct Migration: Sendable {
        public var version: Int
        public var name: String
        public var sql: String
        public var checksum: String { SHA256.hash(Array(self.sql.utf8)).hexString }
    }

    /// The migrations shipped with this build, in version order.
    public static func bundledMigrations() throws -> [Migration] {
        let files: [URL] = (Bundle.module.urls(forResourcesWithExtension: "sql", subdirectory: nil) ?? []).map { $0 as URL }
        guard !files.isEmpty else {
            throw EventStoreError(.migrationFailed, "the bundled schema migrations are missing from this build")
        }
        return try files.map { (url: URL) throws -> Migration in
            let name = url.deletingPathExtension().lastPathComponent
            guard let version = Int(name.prefix { $0.isNumber }) else {
                throw EventStoreError(.migrationFailed, "migration file \(url.lastPathComponent) does not start with a version number")
            }
            return Migration(version: version, name: name, sql: try String(contentsOf: url, encoding: .utf8))
        }
        .sorted { $0.version < $1.version }
    }

    /// Applies every migration not applied yet, each in its own transaction, under an advisory lock
    /// so concurrent starters do not race. Re-running is a no-op. Returns the names applied now.
    @discardableResult
    public func migrate(_ migrations: [Migration]? = nil) async throws -> [String] {
        let migrations = try migrations ?? Self.bundledMigrations()
        let schema = PGConnection.quoteIdentifier(self.configuration.schema)
        // Its own connection: the session-level advisory lock must be released with it.
        let connection = try await PGConnection.connect(
                    url: self.configuration.url, schema: self.configuration.schema, applicationName: self.configuration.applicationName
                )
        try await connection.command("SELECT pg_advisory_lock(hashtext('triton.migrate.' || $1))", [self.configuration.schema])
        do {
            try await connection.execute(
                """
                CREATE SCHEMA IF NOT EXISTS \(schema);
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    int PRIMARY KEY,
                    name       text NOT NULL,
                    checksum   text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                );
                """
            )
            let applied = try await connection.query("SELECT version, name, checksum FROM schema_migrations") { reader in
                Dictionary(uniqueKeysWithValues: (0..<reader.rowCount).map { (Int(reader.int64($0, 0)), reader.string($0, 2)) })
            }
            var names: [String] = []
            for migration in migrations {
                if let checksum = applied[migration.version] {
                    if checksum != migration.checksum {
                        self.logger.warning("migration \(migration.name) differs from the one applied", metadata: ["schema": "\(self.configuration.schema)"])
                    }
                    continue
                }
                try await connection.execute("BEGIN")
                do {
                    try await connection.execute(migration.sql)
                    try await connection.command(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1::int, $2, $3)",
                        [String(migration.version), migration.name, migration.checksum]
                    )
                    try await connection.execute("COMMIT")
                } catch {
                    try? await connection.execute("ROLLBACK")
                    throw EventStoreError(.migrationFailed, "migration \(migration.name) failed: \(error)")
                }
                names.append(migration.name)
            }
            try await connection.command("SELECT pg_advisory_unlock(hashtext('triton.migrate.' || $1))", [self.configuration.schema])
            return names
        } catch {
            _ = try? await connection.command("SELECT pg_advisory_unlock(hashtext('triton.migrate.' || $1))", [self.configuration.schema])
            throw error
        }
    }
}
