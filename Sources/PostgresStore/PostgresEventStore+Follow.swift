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

extension PostgresEventStore {
    /// Reads the global log from its start, handing each page (in log order) to `page`, for a reader
    /// that needs the whole log as it stood: an audit, an export, a proof, a benchmark.
    ///
    /// The global read shows an event only once every transaction begun before it has ended, in any
    /// schema on the server, so the head can trail for a moment behind what has committed. Until
    /// `expected` events were read (say, the count taken when the reader started), a page that comes
    /// back empty is waited for, for at most `timeout`; after that an empty page ends the read, so the
    /// caller compares what it got. At most `maximum` events are read.
    /// - Returns: the time spent reading and in `page`, the waits not counted.
    @discardableResult
    public func readLog(
        expecting expected: Int64, maximum: Int64 = .max, pageSize: Int = 10_000, timeout: Duration = .seconds(30),
        _ page: ([RecordedEvent]) async throws -> Void
    ) async throws -> Duration {
        var after = LogPosition.start
        var seen: Int64 = 0
        var busy = Duration.zero
        let deadline = ContinuousClock.now + timeout
        while seen < maximum {
            let started = ContinuousClock.now
            let events = try await self.readAll(after: after, limit: Int(min(Int64(pageSize), maximum - seen)))
            guard let last = events.last else {
                guard seen < expected, ContinuousClock.now < deadline else { break }
                try await Task.sleep(for: .milliseconds(10))
                continue
            }
            try await page(events)
            seen += Int64(events.count)
            after = last.logPosition
            busy += ContinuousClock.now - started
        }
        return busy
    }
}
