import CLibPQ
import EventStore
import Synchronization

/// One open transaction on a pooled connection, handed to the body of
/// ``PostgresEventStore/withTransaction(_:)``. Statements run one at a time, in order, between
/// `BEGIN` and `COMMIT` / `ROLLBACK`; parameters and results travel as text (`nil` is SQL NULL).
///
/// The transaction is usable only inside that body: afterwards every call throws.
public final class PostgresTransaction: Sendable {
    private let connection: PGConnection
    private let isOpen = Mutex(true)

    init(connection: PGConnection) {
        self.connection = connection
    }

    /// Runs one statement (parameters `$1`, `$2`, … as text) and discards any rows.
    /// - Throws: ``EventStoreError`` with the server's message, or `.invalidInput` after the
    ///   transaction ended.
    public func execute(_ sql: String, _ parameters: [String?] = []) async throws {
        try self.requireOpen()
        try await self.connection.command(sql, parameters)
    }

    /// Runs one statement and returns its rows, each as one text value per column (`nil` for NULL).
    /// - Throws: ``EventStoreError`` with the server's message, or `.invalidInput` after the
    ///   transaction ended.
    public func query(_ sql: String, _ parameters: [String?] = []) async throws -> [[String?]] {
        try self.requireOpen()
        return try await self.connection.query(sql, parameters) { reader in
            let columns = reader.columnCount
            return (0..<reader.rowCount).map { row in (0..<columns).map { reader.optionalString(row, $0) } }
        }
    }

    func close() {
        self.isOpen.withLock { $0 = false }
    }

    private func requireOpen() throws {
        guard self.isOpen.withLock({ $0 }) else {
            throw EventStoreError(.invalidInput, "transaction: used after its withTransaction body returned")
        }
    }
}

extension PostgresEventStore {
    /// Runs `body` in one transaction on one pooled connection: `BEGIN`, the body's statements,
    /// then `COMMIT` when the body returns or `ROLLBACK` when it throws (the error is rethrown).
    ///
    /// The isolation level is PostgreSQL's default (READ COMMITTED); lock rows (`SELECT … FOR
    /// UPDATE`) where the body relies on them not changing. The event log itself stays append-only:
    /// its triggers refuse UPDATE, DELETE and TRUNCATE here as anywhere.
    /// - Throws: the body's error, or ``EventStoreError`` when a statement, `BEGIN` or `COMMIT`
    ///   fails. If the connection is lost during `COMMIT`, whether the transaction committed is
    ///   unknown: re-read what it wrote.
    public func withTransaction<T: Sendable>(_ body: (PostgresTransaction) async throws -> T) async throws -> T {
        try await self.pool.withConnection { connection in
            try await connection.execute("BEGIN")
            let transaction = PostgresTransaction(connection: connection)
            do {
                let value = try await body(transaction)
                transaction.close()
                try await connection.execute("COMMIT")
                return value
            } catch {
                transaction.close()
                if !connection.isBroken { try? await connection.execute("ROLLBACK") }
                throw error
            }
        }
    }
}

extension PGResultReader {
    /// The number of columns of the result.
    var columnCount: Int { Int(PQnfields(self.result)) }
}
