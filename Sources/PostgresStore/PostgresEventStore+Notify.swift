import CLibPQ
import EventStore
import Logging
import Foundation
import Synchronization

extension PostgresEventStore {
    /// Runs the store's background work until cancelled: LISTEN for other processes' appends (waking
    /// this process's followers), and, in `.coalesced` mode, one NOTIFY per burst of local appends.
    /// A lost LISTEN connection is re-opened; followers fall back to polling meanwhile.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.runListener() }
            if self.configuration.notifyMode == .coalesced {
                group.addTask { await self.runNotifier() }
            }
            await group.waitForAll()
        }
    }

    private func runNotifier() async {
        // Listen first, then announce once: appends that committed before this loop started (when no
        // one was listening for them) are covered by that first NOTIFY, later ones by the stream.
        let appends = self.localAppends.listen()
        var connection: PGConnection?
        connection = await self.notifyOthers(on: connection)
        for await _ in appends {
            connection = await self.notifyOthers(on: connection)
            // Coalesce: however many appends land during this pause, they cost one more NOTIFY at
            // most. Other processes learn of new events within about this long.
            try? await Task.sleep(for: self.configuration.notifyCoalescing)
        }
    }

    /// Sends one NOTIFY on the notifier's own connection (opened on first use, and again after a
    /// failure): not one of the pool's, which the appends use. Its transaction carries no data, so it
    /// commits with `synchronous_commit = off` and does not wait for the WAL to reach the disk (the
    /// appends it announces committed durably before it was sent). Returns the connection to reuse.
    private func notifyOthers(on connection: PGConnection?) async -> PGConnection? {
        do {
            let connection = if let connection { connection } else { try await self.openNotifierConnection() }
            try await connection.command("SELECT pg_notify($1, '')", [Self.notificationChannel])
            return connection
        } catch {
            self.logger.debug("NOTIFY failed; other processes will poll", metadata: ["error": "\(error)"])
            return nil
        }
    }

    private func openNotifierConnection() async throws -> PGConnection {
        let connection = try await PGConnection.connect(
            url: self.configuration.url, schema: self.configuration.schema, applicationName: self.configuration.applicationName
        )
        try await connection.execute("SET synchronous_commit = off")
        return connection
    }

    private func runListener() async {
        var delay: Duration = .milliseconds(100)
        while !Task.isCancelled {
            do {
                let connection = try await PGConnection.connect(
                    url: self.configuration.url, schema: self.configuration.schema, applicationName: self.configuration.applicationName
                )
                try await connection.execute("LISTEN \(Self.notificationChannel)")
                delay = .milliseconds(100)
                // A notification may have been missed while (re)connecting.
                self.remoteAppends.signal()
                while !Task.isCancelled {
                    let received = try await connection.run { handle in try PGListen.wait(handle, timeoutMilliseconds: 250) }
                    if received > 0 { self.remoteAppends.signal() }
                }
            } catch {
                if Task.isCancelled { break }
                self.logger.warning("LISTEN connection failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }
}

enum PGListen {
    /// Waits up to `timeoutMilliseconds` for notifications on a LISTENing connection and returns
    /// how many arrived. Runs on the connection's thread.
    static func wait(_ handle: OpaquePointer, timeoutMilliseconds: Int32) throws -> Int {
        var count = Self.drain(handle)
        if count > 0 { return count }
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, timeoutMilliseconds)
        if ready < 0 && errno != EINTR {
            throw EventStoreError(.connectionLost, "polling the LISTEN connection failed (errno \(errno))")
        }
        if ready > 0 {
            guard PQconsumeInput(handle) == 1 else {
                throw EventStoreError(.connectionLost, "the LISTEN connection was lost")
            }
            count = Self.drain(handle)
        }
        return count
    }

    private static func drain(_ handle: OpaquePointer) -> Int {
        var count = 0
        while let notification = PQnotifies(handle) {
            count += 1
            PQfreemem(notification)
        }
        return count
    }
}
