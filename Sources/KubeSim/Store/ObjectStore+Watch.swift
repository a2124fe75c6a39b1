import Foundation
import Synchronization
import TritonJSON

/// The change feed (listeners, bounded history) and watches fed from it in commit order.
extension ObjectStore {
    /// Registers a callback for every committed change. It runs under the store's lock: it must be
    /// quick and must not call the store.
    func addListener(_ listener: @escaping @Sendable (StoreChange) -> Void) {
        self.state.withLock { $0.listeners.append(listener) }
    }

    static func commit(_ state: inout State, _ configuration: Configuration, _ change: StoreChange) {
        // History ring.
        let capacity = state.history.count
        if state.historyCount == capacity {
            if let evicted = state.history[state.historyStart] { state.compactedRevision = evicted.revision }
            state.history[state.historyStart] = change
            state.historyStart = (state.historyStart + 1) % capacity
        } else {
            state.history[(state.historyStart + state.historyCount) % capacity] = change
            state.historyCount += 1
        }
        for listener in state.listeners { listener(change) }
        guard let watchers = state.watchers[change.resource.groupResource], !watchers.isEmpty else { return }
        var closed: [Int] = []
        for (id, watcher) in watchers {
            guard let type = Self.visibleType(change, to: watcher.filter) else { continue }
            if case .dropped = watcher.continuation.yield(.change(type, change)) {
                watcher.continuation.finish()
                closed.append(id)
            }
        }
        for id in closed { state.watchers[change.resource.groupResource]?[id] = nil }
    }

    /// The event type a watcher with `filter` sees for `change`, or nil when it sees nothing.
    static func visibleType(_ change: StoreChange, to filter: ObjectFilter) -> WatchEventType? {
        switch change.type {
        case .added:
            return filter.matches(change.object) ? .added : nil
        case .deleted:
            return filter.matches(change.previous ?? change.object) ? .deleted : nil
        case .modified:
            let now = filter.matches(change.object)
            let before = change.previous.map(filter.matches) ?? false
            switch (before, now) {
            case (true, true): return .modified
            case (false, true): return .added
            case (true, false): return .deleted
            case (false, false): return nil
            }
        case .bookmark, .error:
            return nil
        }
    }

    // MARK: - Watch

    /// Starts a watch. With no `resourceVersion` (or `"0"`), the watcher first receives every
    /// matching object as `ADDED`; otherwise it receives every change after that version.
    /// - Throws: `410 Expired` when the version is older than the kept history.
    func watch(_ filter: ObjectFilter, from resourceVersion: Int?) throws(KubeAPIError) -> (id: Int, stream: AsyncStream<WatchItem>) {
        let (stream, continuation) = AsyncStream<WatchItem>.makeStream(
            bufferingPolicy: .bufferingOldest(self.configuration.watcherBuffer))
        let id = try self.state.withLock { (state: inout State) throws(KubeAPIError) -> Int in
            if let rv = resourceVersion, rv > 0 {
                if rv < state.compactedRevision {
                    throw KubeAPIError.expired("too old resource version: \(rv) (\(state.compactedRevision + 1))")
                }
                let capacity = state.history.count
                for i in 0..<state.historyCount {
                    guard let change = state.history[(state.historyStart + i) % capacity], change.revision > rv,
                        change.resource == filter.resource, let type = Self.visibleType(change, to: filter)
                    else { continue }
                    continuation.yield(.change(type, change))
                }
            } else if let bucket = state.buckets[filter.resource.groupResource] {
                let namespaces = filter.namespace.map { [$0] } ?? Array(bucket.keys)
                for ns in namespaces {
                    for (_, object) in bucket[ns] ?? [:] where filter.matches(object) {
                        let revision = Int(object.resourceVersion) ?? 0
                        continuation.yield(
                            .change(.added, StoreChange(type: .added, resource: filter.resource, object: object, previous: nil, revision: revision)))
                    }
                }
            }
            let id = state.nextWatcherID
            state.nextWatcherID += 1
            state.watchers[filter.resource.groupResource, default: [:]][id] = Watcher(
                filter: filter, continuation: continuation, minRevision: resourceVersion ?? 0)
            return id
        }
        continuation.onTermination = { [weak self] _ in self?.stopWatch(filter.resource, id) }
        return (id, stream)
    }

    /// Sends a bookmark at the current revision to a watcher, after every change it has been sent.
    func bookmark(_ resource: ResourceType, _ id: Int) {
        self.state.withLock { state in
            guard let watcher = state.watchers[resource.groupResource]?[id] else { return }
            watcher.continuation.yield(.bookmark(state.revision))
        }
    }

    func stopWatch(_ resource: ResourceType, _ id: Int) {
        let watcher = self.state.withLock { state in
            state.watchers[resource.groupResource]?.removeValue(forKey: id)
        }
        watcher?.continuation.finish()
    }

    var watcherCount: Int { self.state.withLock { $0.watchers.values.reduce(0) { $0 + $1.count } } }

    /// Ends every watch (on shutdown).
    func closeAllWatches() {
        let all = self.state.withLock { state -> [Watcher] in
            let all = state.watchers.values.flatMap { Array($0.values) }
            state.watchers = [:]
            return all
        }
        for watcher in all { watcher.continuation.finish() }
    }
}
