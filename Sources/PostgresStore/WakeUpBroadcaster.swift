import Synchronization

/// Fans a "something new happened" signal out to any number of listeners. Each listener gets a
/// stream that holds at most one pending wake-up, so a burst of signals costs a listener one
/// wake-up, never a backlog.
final class WakeUpBroadcaster: Sendable {
    private struct State {
        var next = 0
        var listeners: [Int: AsyncStream<Void>.Continuation] = [:]
    }

    private let state = Mutex(State())

    /// A stream of wake-ups, from now on, until the consumer stops iterating.
    func listen() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let id = self.state.withLock { state in
            state.next += 1
            state.listeners[state.next] = continuation
            return state.next
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.listeners.removeValue(forKey: id) }
        }
        return stream
    }

    func signal() {
        let listeners = self.state.withLock { Array($0.listeners.values) }
        for listener in listeners { listener.yield() }
    }

    func finishAll() {
        let listeners = self.state.withLock { state in
            let all = Array(state.listeners.values)
            state.listeners.removeAll()
            return all
        }
        for listener in listeners { listener.finish() }
    }
}
