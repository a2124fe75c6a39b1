import Logging
import Synchronization

/// Runs the cluster's controllers (scheduler + kubelet, CloneSet controller, endpoints, garbage
/// collector, namespace controller) against the store, on simulated time.
///
/// Every change committed to the store is queued; each ``step()`` takes the queue, fires the
/// timers that are due, and reconciles what changed until nothing is left to do.
final class SimEngine: Sendable {
    let store: ObjectStore
    let clock: any SimClock
    let wake: WakeSignal
    private let changes: Mutex<[StoreChange]>
    private let controllers: Mutex<Controllers>

    init(store: ObjectStore, api: KubeAPI, configuration: SimConfiguration, logger: Logger) {
        self.store = store
        self.clock = store.clock
        let wake = WakeSignal()
        self.wake = wake
        self.changes = Mutex([])
        self.controllers = Mutex(Controllers(store: store, api: api, configuration: configuration, logger: logger))
        store.addListener { [weak self] change in
            guard let self else { return }
            self.changes.withLock { $0.append(change) }
            self.wake.signal()
        }
    }

    /// Creates the built-in objects (namespaces, nodes).
    func bootstrap() {
        self.controllers.withLock { $0.bootstrap() }
    }

    /// Processes queued changes and due timers at the clock's current time.
    func step() {
        self.controllers.withLock { controllers in
            controllers.now = self.clock.now()
            var rounds = 0
            while true {
                let batch = self.changes.withLock { pending -> [StoreChange] in
                    let b = pending
                    pending.removeAll(keepingCapacity: true)
                    return b
                }
                controllers.observe(batch)
                controllers.fireDueTimers()
                controllers.reconcileDirty()
                rounds += 1
                let more = self.changes.withLock { !$0.isEmpty }
                if (!more && !controllers.hasDirtyWork) || rounds >= 100 { break }
            }
        }
    }

    /// The simulated time of the next timer, if any.
    var nextDue: Double? { self.controllers.withLock { $0.timers.nextDue } }

    /// Steps the engine whenever something changes or a timer is due, until cancelled.
    func run() async {
        while !Task.isCancelled {
            self.step()
            var delay: Duration = .seconds(1)
            if let due = self.nextDue, let d = self.clock.realDelay(until: due) { delay = min(delay, d) }
            await self.wake.wait(timeout: delay)
        }
    }
}

/// A level-triggered wake-up: `signal()` wakes the current (or next) `wait`.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func signal() {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let w = state.waiter {
                state.waiter = nil
                return w
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Waits for a signal, or at most `timeout`.
    func wait(timeout: Duration) async {
        let consumed = self.state.withLock { state -> Bool in
            defer { state.pending = false }
            return state.pending
        }
        if consumed { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
            }
            group.addTask {
                await self.waitForSignal()
            }
            await group.next()
            group.cancelAll()
        }
    }

    private func takeWaiter() {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    private func waitForSignal() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state -> Bool in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            self.takeWaiter()
        }
    }
}
