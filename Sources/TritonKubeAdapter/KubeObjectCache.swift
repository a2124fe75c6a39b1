import Foundation
import KubeClient
import Synchronization

/// The CloneSets and pods of the namespaces the engine works in, kept current by watches (list once,
/// then watch from that resourceVersion; relist on `410 Gone`), so that observing a flow costs no
/// request to the API server — as a controller's informer does.
///
/// A namespace's watches start the first time it is asked for; until its first list is in, and while a
/// failed watch waits to list again (backing off up to 30 s), reads return `nil` and the caller asks the
/// API server directly.
public final class KubeObjectCache: Sendable {
    private struct Namespace {
        var cloneSets: [String: CloneSet] = [:]
        var pods: [String: Pod] = [:]
        var cloneSetsSynced = false
        var podsSynced = false
        var failed = false
        var synced: Bool { self.cloneSetsSynced && self.podsSynced && !self.failed }
    }

    private let client: KubeClient
    private let namespaces = Mutex<[String: Namespace]>([:])
    private let tasks = Mutex<[Task<Void, Never>]>([])

    public init(client: KubeClient) {
        self.client = client
    }

    /// Stops every watch.
    public func stop() {
        for task in self.tasks.withLock({ $0 }) { task.cancel() }
    }

    /// The CloneSet as the watch last saw it (`.some(nil)` when it does not exist), or `nil` when the
    /// namespace is not synced (yet).
    public func cloneSet(namespace: String, name: String) -> CloneSet?? {
        self.start(namespace)
        return self.namespaces.withLock { namespaces -> CloneSet?? in
            guard let state = namespaces[namespace], state.synced else { return nil }
            return .some(state.cloneSets[name])
        }
    }

    /// The namespace's pods whose labels match `matchLabels`, or `nil` when the namespace is not synced.
    public func pods(namespace: String, matchLabels: [String: String]) -> [Pod]? {
        self.start(namespace)
        return self.namespaces.withLock { namespaces -> [Pod]? in
            guard let state = namespaces[namespace], state.synced else { return nil }
            return state.pods.values.filter { pod in
                let labels = pod.metadata.labels
                return matchLabels.allSatisfy { labels[$0.key] == $0.value }
            }
        }
    }

    /// Takes in an object the caller just wrote (the API server's reply), so the next read shows the
    /// caller's own write even before the watch delivers it.
    public func wrote(_ cloneSet: CloneSet) { self.store(cloneSet, \.cloneSets) }

    /// Takes in a pod the caller just wrote; see ``wrote(_:)-(CloneSet)``.
    public func wrote(_ pod: Pod) { self.store(pod, \.pods) }

    private func store<Object: KubeObject>(_ object: Object, _ objects: WritableKeyPath<Namespace, [String: Object]>) {
        guard let namespace = object.metadata.namespace, let name = object.metadata.name else { return }
        self.namespaces.withLock { namespaces in
            guard namespaces[namespace]?.synced == true else { return }
            Self.keepNewer(object, name, in: &namespaces[namespace]![keyPath: objects])
        }
    }

    /// Stores `object` unless the one held is newer (resourceVersions compared as the numbers the API
    /// server hands out; an opaque one always replaces): a watch event that trails the caller's own
    /// write must not undo it.
    private static func keepNewer<Object: KubeObject>(_ object: Object, _ name: String, in objects: inout [String: Object]) {
        if let held = objects[name]?.metadata.resourceVersion.flatMap(UInt64.init),
            let new = object.metadata.resourceVersion.flatMap(UInt64.init), new < held
        {
            return
        }
        objects[name] = object
    }

    /// Waits (up to `timeout`) until the namespace's first lists are in.
    public func waitUntilSynced(_ namespace: String, timeout: Duration = .seconds(10)) async -> Bool {
        self.start(namespace)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if self.namespaces.withLock({ $0[namespace]?.synced == true }) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    private func start(_ namespace: String) {
        let isNew = self.namespaces.withLock { namespaces -> Bool in
            guard namespaces[namespace] == nil else { return false }
            namespaces[namespace] = Namespace()
            return true
        }
        guard isNew else { return }
        let cloneSets = Task { await self.follow(CloneSet.self, namespace, \.cloneSets, \.cloneSetsSynced) }
        let pods = Task { await self.follow(Pod.self, namespace, \.pods, \.podsSynced) }
        self.tasks.withLock { $0 += [cloneSets, pods] }
    }

    private func follow<Object: KubeObject>(
        _ type: Object.Type, _ namespace: String, _ objects: WritableKeyPath<Namespace, [String: Object]>,
        _ synced: WritableKeyPath<Namespace, Bool>
    ) async {
        var backoff: Duration = .seconds(1)
        while !Task.isCancelled {
            do {
                let list = try await self.client.listAll(type, namespace: namespace)
                self.namespaces.withLock {
                    $0[namespace]?[keyPath: objects] = Self.byName(list.items)
                    $0[namespace]?[keyPath: synced] = true
                    $0[namespace]?.failed = false
                }
                backoff = .seconds(1)
                var options = WatchOptions()
                options.resourceVersion = list.resourceVersion
                for try await event in self.client.watch(type, namespace: namespace, options: options) {
                    self.namespaces.withLock { namespaces in
                        switch event {
                        case .added(let object), .modified(let object):
                            if let name = object.metadata.name, namespaces[namespace] != nil {
                                Self.keepNewer(object, name, in: &namespaces[namespace]![keyPath: objects])
                            }
                        case .deleted(let object):
                            if let name = object.metadata.name { namespaces[namespace]?[keyPath: objects][name] = nil }
                        case .relisted(let list):
                            namespaces[namespace]?[keyPath: objects] = Self.byName(list.items)
                        case .bookmark:
                            break
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
            }
            // The watch gave up (or ended): reads go to the API server until a new list is in.
            self.namespaces.withLock { $0[namespace]?.failed = true }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(30))
        }
    }

    private static func byName<Object: KubeObject>(_ items: [Object]) -> [String: Object] {
        var result: [String: Object] = [:]
        for item in items { if let name = item.metadata.name { result[name] = item } }
        return result
    }
}
