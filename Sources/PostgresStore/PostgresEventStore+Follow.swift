import CLibPQ
import EventStore
import Foundation

extension PostgresEventStore {
    /// Follows the global log from `position`: every event after it, in log order, then each new
    /// event as it lands, until the consumer stops or the task is cancelled.
    ///
    /// A follower re-reads the log when an append in this process commits, when a NOTIFY from another
    /// process arrives (while ``run()`` is running), and at the latest every `pollInterval`.
    public func follow(from position: LogPosition, batchSize: Int = 1000) -> AsyncThrowingStream<RecordedEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: RecordedEvent.self, bufferingPolicy: .bufferingOldest(batchSize * 2))
        let local = self.localAppends.listen()
        let remote = self.remoteAppends.listen()
        let task = Task {
            let (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            await withTaskGroup(of: Void.self) { group in
                group.addTask { for await _ in local { wake.yield() } }
                group.addTask { for await _ in remote { wake.yield() } }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: self.configuration.pollInterval)
                        wake.yield()
                    }
                }
                group.addTask {
                    var cursor = position
                    do {
                        var wakeIterator = wakeUps.makeAsyncIterator()
                        var backoff: Duration = .milliseconds(5)
                        while !Task.isCancelled {
                            // Drain everything visible, then sleep until something may have changed.
                            while true {
                                let events = try await self.readAll(after: cursor, limit: batchSize)
                                for event in events {
                                    try await Self.deliver(event, to: continuation)
                                    cursor = event.logPosition
                                }
                                if events.count < batchSize { break }
                            }
                            // Events already committed but held back behind a transaction still
                            // running (perhaps an unrelated one) send no further wake-up when that
                            // transaction ends: look again soon rather than at the next poll.
                            if try await self.hasEventsBeyondHorizon(after: cursor) {
                                try await Task.sleep(for: backoff)
                                backoff = min(backoff * 2, .milliseconds(200), self.configuration.pollInterval)
                                continue
                            }
                            backoff = .milliseconds(5)
                            guard await wakeIterator.next() != nil else { break }
                        }
                        continuation.finish()
                    } catch {
                        continuation.finish(throwing: error)
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Whether events exist after `position` that ``readAll(after:limit:)`` holds back because a
    /// transaction that may commit behind them is still running.
    func hasEventsBeyondHorizon(after position: LogPosition) async throws -> Bool {
        try await self.pool.withConnection { connection in
            try await connection.query(
                """
                SELECT EXISTS (SELECT 1 FROM events WHERE (tx, position) > ($1::text::xid8, $2::bigint)
                               AND tx >= pg_snapshot_xmin(pg_current_snapshot()))
                """,
                [String(position.transaction), String(position.position)]
            ) { $0.bool(0, 0) }
        }
    }

    /// Yields with back-pressure: waits while the consumer's buffer is full.
    private static func deliver(
        _ event: RecordedEvent, to continuation: AsyncThrowingStream<RecordedEvent, any Error>.Continuation
    ) async throws {
        while true {
            switch continuation.yield(event) {
            case .enqueued: return
            case .terminated: throw CancellationError()
            case .dropped: try await Task.sleep(for: .milliseconds(2))
            @unknown default: return
            }
        }
    }
}
