import CLibPQ
import EventStore
import Foundation

/// One libpq connection.
///
/// `PGconn` is not thread-safe, and every libpq call blocks its thread until the server answers.
/// So each connection owns a thread (``BlockingWorker``): every call on the handle runs there, one
/// at a time, and callers `await` the result. The cooperative thread pool never blocks on libpq.
/// The handle is only touched from that thread, which is what makes the `@unchecked Sendable` sound.
final class PGConnection: @unchecked Sendable {
    private let handle: OpaquePointer
    private let worker: BlockingWorker
    /// Set (on its thread) when the server connection was found dead; the pool then discards it.
    private(set) var isBroken = false

    private init(handle: OpaquePointer, worker: BlockingWorker) {
        self.handle = handle
        self.worker = worker
    }

    deinit {
        let handle = UncheckedHandle(pointer: self.handle)
        self.worker.submit { PQfinish(handle.pointer) }
        self.worker.stop()
    }

    private struct UncheckedHandle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    /// Opens a connection (off the cooperative pool) and sets the session up for `schema`.
    static func connect(url: String, schema: String?, applicationName: String = "triton") async throws -> PGConnection {
        let worker = BlockingWorker(name: "triton.pg.connection")
        let connection: PGConnection = try await withCheckedThrowingContinuation { continuation in
            worker.submit {
                guard let handle = PQconnectdb(url) else {
                    continuation.resume(throwing: EventStoreError(.connectionFailed, "libpq could not allocate a connection"))
                    return
                }
                guard PQstatus(handle) == CONNECTION_OK else {
                    let message = PGConnection.lastError(handle)
                    PQfinish(handle)
                    worker.stop()
                    continuation.resume(throwing: EventStoreError(.connectionFailed, "cannot connect to PostgreSQL at \(PostgresURL.redacted(url)): \(message)"))
                    return
                }
                continuation.resume(returning: PGConnection(handle: handle, worker: worker))
            }
        }
        var setup = "SET application_name = \(PGConnection.quoteLiteral(applicationName)); SET client_min_messages = warning;"
        if let schema {
            setup += " SET search_path TO \(PGConnection.quoteIdentifier(schema));"
        }
        try await connection.execute(setup)
        return connection
    }

    /// Runs one or more statements without parameters (`PQexec`), discarding any rows.
    func execute(_ sql: String) async throws {
        try await self.run { handle in
            let result = PQexec(handle, sql)
            defer { PQclear(result) }
            try self.check(result)
        }
    }

    /// Runs one parameterised statement (text format) and hands the result to `decode` on the
    /// connection's thread, before the result is freed. The statement is prepared on this connection
    /// the first time it is seen and executed by name afterwards, so it is parsed and planned once.
    func query<T: Sendable>(
        _ sql: String, _ parameters: [String?] = [], decode: @escaping @Sendable (PGResultReader) throws -> T
    ) async throws -> T {
        try await self.run { handle in
            let name = try self.preparedName(for: sql, parameterCount: parameters.count, handle: handle)
            let result = PGConnection.execPrepared(handle, name, parameters)
            defer { PQclear(result) }
            try self.check(result)
            return try decode(PGResultReader(result: result!))
        }
    }

    /// SQL text → prepared statement name; only touched on the connection's thread.
    private var preparedStatements: [String: String] = [:]

    private func preparedName(for sql: String, parameterCount: Int, handle: OpaquePointer) throws -> String {
        if let name = self.preparedStatements[sql] { return name }
        let name = "triton_\(self.preparedStatements.count + 1)"
        let result = PQprepare(handle, name, sql, Int32(parameterCount), nil)
        defer { PQclear(result) }
        try self.check(result)
        self.preparedStatements[sql] = name
        return name
    }

    /// Runs a statement whose rows are not needed.
    func command(_ sql: String, _ parameters: [String?] = []) async throws {
        _ = try await self.query(sql, parameters) { _ in () }
    }

    /// Runs `body` with the raw handle on the connection's thread (for LISTEN polling).
    func run<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            self.worker.submit {
                do {
                    continuation.resume(returning: try body(self.handle))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// The server's socket, for polling notifications.
    var socket: Int32 { PQsocket(self.handle) }

    // MARK: - Private Methods -

    private static func execPrepared(_ handle: OpaquePointer, _ name: String, _ parameters: [String?]) -> OpaquePointer? {
        if parameters.isEmpty {
            return PQexecPrepared(handle, name, 0, nil, nil, nil, 0)
        }
        var cStrings: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { cStrings.forEach { free($0) } }
        return cStrings.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { values in
                PQexecPrepared(handle, name, Int32(parameters.count), values, nil, nil, 0)
            }
        }
    }

    private func check(_ result: OpaquePointer?) throws {
        let status = result.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY { return }
        let sqlState = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) }
        let primary = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "M"))) }.map { String(cString: $0) }
        if PQstatus(self.handle) != CONNECTION_OK {
            self.isBroken = true
            throw EventStoreError(.connectionLost, "the connection to PostgreSQL was lost: \(PGConnection.lastError(self.handle))", sqlState: sqlState)
        }
        let message = primary ?? PGConnection.lastError(self.handle)
        switch sqlState {
        case "TR001", "23505":
            // A unique violation's detail names the stream: "Key (stream_id, version)=(s, 2) already exists."
            let detail = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "D"))) }.map { String(cString: $0) }
            throw EventStoreError(.wrongExpectedVersion, detail.map { "\(message): \($0)" } ?? message, sqlState: sqlState)
        case "TR002":
            throw EventStoreError(.appendOnly, message, sqlState: sqlState)
        case let s? where s.hasPrefix("22"):
            throw EventStoreError(.invalidInput, message, sqlState: sqlState)
        default:
            throw EventStoreError(.queryFailed, message, sqlState: sqlState)
        }
    }

    private static func lastError(_ handle: OpaquePointer) -> String {
        guard let text = PQerrorMessage(handle) else { return "unknown error" }
        return String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func quoteLiteral(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Read access to a `PGresult` while it is alive (only inside a `query` decode closure).
struct PGResultReader {
    let result: OpaquePointer

    var rowCount: Int { Int(PQntuples(self.result)) }

    func isNull(_ row: Int, _ column: Int) -> Bool {
        PQgetisnull(self.result, Int32(row), Int32(column)) == 1
    }

    func string(_ row: Int, _ column: Int) -> String {
        let pointer = PQgetvalue(self.result, Int32(row), Int32(column))!
        let length = Int(PQgetlength(self.result, Int32(row), Int32(column)))
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    func optionalString(_ row: Int, _ column: Int) -> String? {
        self.isNull(row, column) ? nil : self.string(row, column)
    }

    func int64(_ row: Int, _ column: Int) -> Int64 {
        let pointer = PQgetvalue(self.result, Int32(row), Int32(column))!
        return strtoll(pointer, nil, 10)
    }

    func uint64(_ row: Int, _ column: Int) -> UInt64 {
        let pointer = PQgetvalue(self.result, Int32(row), Int32(column))!
        return strtoull(pointer, nil, 10)
    }

    func double(_ row: Int, _ column: Int) -> Double {
        let pointer = PQgetvalue(self.result, Int32(row), Int32(column))!
        return strtod(pointer, nil)
    }

    func bool(_ row: Int, _ column: Int) -> Bool {
        PQgetvalue(self.result, Int32(row), Int32(column))!.pointee == CChar(UInt8(ascii: "t"))
    }
}

/// PostgreSQL connection strings, for display.
public enum PostgresURL {
    /// The connection string with any password replaced by `********`, in both URL
    /// (`postgres://user:secret@host/db`) and key-value (`password=secret`) forms.
    public static func redacted(_ url: String) -> String {
        var text = url
        if let scheme = text.range(of: "://"), let at = text.range(of: "@", range: scheme.upperBound..<text.endIndex) {
            let userInfo = text[scheme.upperBound..<at.lowerBound]
            if let colon = userInfo.firstIndex(of: ":") {
                text.replaceSubrange(text.index(after: colon)..<at.lowerBound, with: "********")
            }
        }
        if let regex = try? NSRegularExpression(pattern: "(password\\s*=\\s*)('(?:[^'\\\\]|\\\\.)*'|[^\\s&]+)", options: [.caseInsensitive]) {
            text = regex.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "$1********")
        }
        return text
    }
}
