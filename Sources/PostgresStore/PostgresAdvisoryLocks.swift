import EventStore
import Foundation

/// ``OwnershipLocks`` on PostgreSQL session-level advisory locks, held on one dedicated connection.
///
/// A key maps to `hashtextextended('triton:<schema>:' || key, 0)`. When this process dies, its
/// connection closes and PostgreSQL drops its locks at once, so another process takes the keys over
/// on its next ``claim(_:)``. Every claim also proves the connection alive; when it is not, this
/// process holds nothing any more (the server released the locks), the claim throws, and the next one
/// reconnects and takes back what is still free.
public actor PostgresAdvisoryLocks: OwnershipLocks {
    private let url: String
    private let schema: String
    private let prefix: String
    /// Shown in `pg_stat_activity`: the store's application name + `-locks`.
    public nonisolated let applicationName: String
    private var connection: PGConnection?
    private var held: Set<String> = []

    public init(store: PostgresEventStore, label: String = "locks") {
        self.url = store.configuration.url
        self.schema = store.configuration.schema
        self.prefix = "triton:\(store.configuration.schema):"
        self.applicationName = store.configuration.applicationName + "-" + label
    }

    /// Keys held now.
    public var heldKeys: Set<String> { self.held }

    public func claim(_ keys: [String]) async throws -> Set<String> {
        let wanted = Array(Set(keys).subtracting(self.held)).sorted()
        do {
            let connection = try await self.connected()
            if wanted.isEmpty {
                try await connection.execute("SELECT 1")
            } else {
                let taken = try await connection.query(
                    "SELECT k FROM unnest($1::text[]) AS k WHERE pg_try_advisory_lock(hashtextextended($2 || k, 0))",
                    [PGArray.text(wanted), self.prefix]
                ) { reader in (0..<reader.rowCount).map { reader.string($0, 0) } }
                self.held.formUnion(taken)
            }
        } catch {
            self.dropConnection()
            throw error
        }
        return self.held.intersection(keys)
    }

    public func release(_ key: String) async throws {
        guard self.held.contains(key), let connection = self.connection else { return }
        do {
            try await connection.command("SELECT pg_advisory_unlock(hashtextextended($1 || $2, 0))", [self.prefix, key])
            self.held.remove(key)
        } catch {
            self.dropConnection()
            throw error
        }
    }

    public func releaseAll() async {
        guard let connection = self.connection, !self.held.isEmpty else { return }
        do {
            try await connection.execute("SELECT pg_advisory_unlock_all()")
            self.held.removeAll()
        } catch {
            self.dropConnection()
        }
    }

    private func connected() async throws -> PGConnection {
        if let connection = self.connection, !connection.isBroken { return connection }
        self.dropConnection()
        let connection = try await PGConnection.connect(url: self.url, schema: self.schema, applicationName: self.applicationName)
        self.connection = connection
        return connection
    }

    /// Closing the connection (or losing it) releases every lock it held.
    private func dropConnection() {
        self.connection = nil
        self.held.removeAll()
    }
}
