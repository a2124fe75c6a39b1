import EventStore
import Synchronization

/// A small pool of libpq connections. Connections are opened lazily up to `maxConnections`;
/// callers beyond that wait their turn. A connection found dead is discarded and the next caller
/// opens a fresh one, so a lost server connection is re-established transparently.
final class PGConnectionPool: Sendable {
    private enum Lease {
        case connection(PGConnection)
        case mayConnect
    }

    private struct State {
        var idle: [PGConnection] = []
        var open = 0
        var waiters: [CheckedContinuation<Lease, any Error>] = []
        var closed = false
    }

    let url: String
    let schema: String?
    let applicationName: String
    let maxConnections: Int
    private let state = Mutex(State())

    init(url: String, schema: String?, applicationName: String, maxConnections: Int) {
        self.url = url
        self.schema = schema
        self.applicationName = applicationName
        self.maxConnections = max(1, maxConnections)
    }

    /// Runs `body` with a connection that no one else uses meanwhile.
    func withConnection<T: Sendable>(_ body: (PGConnection) async throws -> T) async throws -> T {
        let connection = try await self.lease()
        do {
            let value = try await body(connection)
            self.release(connection)
            return value
        } catch {
            self.release(connection)
            throw error
        }
    }

    /// Opens connections until `count` (at most the pool's size) are open, so the first callers of a
    /// burst do not each pay a connection's set-up (TCP, authentication, search_path).
    func warmUp(_ count: Int) async throws {
        var leased: [PGConnection] = []
        defer { leased.forEach(self.release) }
        for _ in 0..<min(count, self.maxConnections) { leased.append(try await self.lease()) }
    }

    /// Closes idle connections and refuses new leases.
    func close() {
        let waiters = self.state.withLock { state in
            state.closed = true
            state.open -= state.idle.count
            state.idle.removeAll()
            let waiters = state.waiters
            state.waiters.removeAll()
            return waiters
        }
        for waiter in waiters {
            waiter.resume(throwing: EventStoreError(.connectionFailed, "the connection pool is closed"))
        }
    }

    // MARK: - Private Methods -

    private func lease() async throws -> PGConnection {
        enum Next { case use(PGConnection), connect, wait, closed }
        let next: Next = self.state.withLock { state in
            if state.closed { return .closed }
            if let connection = state.idle.popLast() { return .use(connection) }
            if state.open < self.maxConnections {
                state.open += 1
                return .connect
            }
            return .wait
        }
        switch next {
        case .use(let connection):
            return connection
        case .connect:
            return try await self.openConnection()
        case .closed:
            throw EventStoreError(.connectionFailed, "the connection pool is closed")
        case .wait:
            let lease = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                let handled: Lease? = self.state.withLock { state in
                    // Re-check: a connection may have come back between the two locks.
                    if let connection = state.idle.popLast() { return .connection(connection) }
                    if state.open < self.maxConnections {
                        state.open += 1
                        return .mayConnect
                    }
                    state.waiters.append(continuation)
                    return nil
                }
                if let handled { continuation.resume(returning: handled) }
            }
            switch lease {
            case .connection(let connection): return connection
            case .mayConnect: return try await self.openConnection()
            }
        }
    }

    /// Opens a connection against a slot already counted in `open`.
    private func openConnection() async throws -> PGConnection {
        do {
            return try await PGConnection.connect(url: self.url, schema: self.schema, applicationName: self.applicationName)
        } catch {
            self.giveBackSlot()
            throw error
        }
    }

    private func release(_ connection: PGConnection) {
        if connection.isBroken {
            self.giveBackSlot()
            return
        }
        let waiter: CheckedContinuation<Lease, any Error>? = self.state.withLock { state in
            if state.closed {
                state.open -= 1
                return nil
            }
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.idle.append(connection)
            return nil
        }
        waiter?.resume(returning: .connection(connection))
    }

    private func giveBackSlot() {
        let waiter: CheckedContinuation<Lease, any Error>? = self.state.withLock { state in
            if !state.closed, !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.open -= 1
            return nil
        }
        waiter?.resume(returning: .mayConnect)
    }
}
