import Foundation
import Synchronization
import TritonJSON

/// The simulated cluster's storage: every object as a JSON tree, one global resourceVersion
/// counter, a bounded history of changes for watches, and the watchers themselves.
///
/// All reads and writes are atomic under one lock; watchers are fed under that lock so each sees
/// changes in commit order with no gap between its initial state and its live events.
final class ObjectStore: Sendable {
    struct Configuration: Sendable {
        /// Changes kept for watches that resume from a resourceVersion.
        var historySize: Int = 50_000
        /// Events buffered per watcher before a slow watcher is closed.
        var watcherBuffer: Int = 200_000
    }

    struct State {
        var revision = 0
        /// groupResource → namespace ("" for cluster-scoped) → name → object.
        var buckets: [String: [String: [String: JSONValue]]] = [:]
        /// groupResource → namespace → `key=value` → names of the objects with that label, so a
        /// label-selected list looks at the objects it may match instead of every object.
        var labelIndex: [String: [String: [String: Set<String>]]] = [:]
        var history: [StoreChange?]
        var historyStart = 0
        var historyCount = 0
        /// Changes with a revision at or below this are no longer in the history.
        var compactedRevision = 0
        var watchers: [String: [Int: Watcher]] = [:]
        var nextWatcherID = 1
        var listeners: [@Sendable (StoreChange) -> Void] = []
        var random: SeededRandom
    }

    struct Watcher {
        var filter: ObjectFilter
        var continuation: AsyncStream<WatchItem>.Continuation
        var minRevision: Int
    }

    let configuration: Configuration
    let clock: any SimClock
    private let state: Mutex<State>

    init(configuration: Configuration = .init(), clock: any SimClock, seed: UInt64) {
        self.configuration = configuration
        self.clock = clock
        self.state = Mutex(
            State(history: Array(repeating: nil, count: max(configuration.historySize, 16)), random: SeededRandom(seed: seed ^ 0x5EED)))
    }

    // MARK: - Reads

    var currentRevision: Int { self.state.withLock { $0.revision } }

    func get(_ type: ResourceType, namespace: String, name: String) -> JSONValue? {
        let ns = type.namespaced ? namespace : ""
        return self.state.withLock { $0.buckets[type.groupResource]?[ns]?[name] }
    }

    struct ListResult {
        var items: [JSONValue]
        var revision: Int
        var continueToken: String?
        var remainingItemCount: Int?
    }

    /// Lists objects in key order (namespace, then name), `limit` at a time.
    func list(_ filter: ObjectFilter, limit: Int? = nil, continueToken: String? = nil) throws(KubeAPIError) -> ListResult {
        let start = try continueToken.map { (token: String) throws(KubeAPIError) -> ContinueToken in try ContinueToken.decode(token) }
        return try self.state.withLock { (state: inout State) throws(KubeAPIError) -> ListResult in
            if let start, start.revision < state.compactedRevision {
                throw KubeAPIError.expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list."
                )
            }
            let listRevision = start?.revision ?? state.revision
            guard let bucket = state.buckets[filter.resource.groupResource] else {
                return ListResult(items: [], revision: listRevision)
            }
            let namespaces: [String]
            if let ns = filter.namespace, filter.resource.namespaced {
                namespaces = [ns]
            } else {
                namespaces = bucket.keys.sorted()
            }
            var items: [JSONValue] = []
            var lastKey: (String, String)?
            var remaining = 0
            let max = limit.flatMap { $0 > 0 ? $0 : nil }
            if let pinned = filter.fields.pinnedName {
                for ns in namespaces {
                    if let o = bucket[ns]?[pinned], filter.matches(o) { items.append(o) }
                }
                return ListResult(items: items, revision: listRevision)
            }
            let indexed = Self.indexedLabels(filter.labels)
            for ns in namespaces {
                if let start, ns < start.namespace { continue }
                guard let objects = bucket[ns] else { continue }
                // Filter first, then sort only what matched: a label-selected list of a few pods among
                // thousands must not sort every name in the namespace. With an equality requirement,
                // only the objects carrying that label are looked at (the smallest such set).
                var matching: [(name: String, object: JSONValue)] = []
                func consider(_ name: String, _ o: JSONValue) {
                    if let start, ns == start.namespace, name <= start.name { return }
                    if filter.matches(o) { matching.append((name, o)) }
                }
                if !indexed.isEmpty {
                    let sets = state.labelIndex[filter.resource.groupResource]?[ns] ?? [:]
                    let candidates = indexed.map { sets[$0] ?? [] }.min { $0.count < $1.count } ?? []
                    for name in candidates { if let o = objects[name] { consider(name, o) } }
                } else {
                    for (name, o) in objects { consider(name, o) }
                }
                matching.sort { $0.name < $1.name }
                for (name, o) in matching {
                    if let max, items.count >= max {
                        remaining += 1
                        continue
                    }
                    items.append(o)
                    lastKey = (ns, name)
                }
            }
            var token: String?
            if remaining > 0, let lastKey {
                token = ContinueToken(revision: listRevision, namespace: lastKey.0, name: lastKey.1).encode()
            }
            return ListResult(
                items: items, revision: listRevision, continueToken: token, remainingItemCount: token == nil ? nil : remaining)
        }
    }

    /// The `key=value` entries of the label index a selector's equality requirements name.
    static func indexedLabels(_ selector: LabelSelector) -> [String] {
        guard !selector.matchesNothing else { return [] }
        return selector.requirements.compactMap { requirement in
            switch requirement {
            case .equals(let key, let value): "\(key)=\(value)"
            case .isIn(let key, let values) where values.count == 1: "\(key)=\(values[0])"
            default: nil
            }
        }
    }

    /// Keeps the label index in step with a write: `old` is the object before it (nil when created),
    /// `new` after it (nil when removed).
    static func index(_ state: inout State, _ type: ResourceType, _ ns: String, _ name: String, old: JSONValue?, new: JSONValue?) {
        let before = old?[path: ["metadata", "labels"]]
        let after = new?[path: ["metadata", "labels"]]
        if old != nil, new != nil, before == after { return }
        func entries(_ object: JSONValue?) -> Set<String> {
            Set((object?.labels ?? [:]).map { "\($0.key)=\($0.value)" })
        }
        let removed = entries(old)
        let added = entries(new)
        for entry in removed.subtracting(added) {
            state.labelIndex[type.groupResource]?[ns]?[entry]?.remove(name)
            if state.labelIndex[type.groupResource]?[ns]?[entry]?.isEmpty == true {
                state.labelIndex[type.groupResource]?[ns]?[entry] = nil
            }
        }
        for entry in added.subtracting(removed) {
            state.labelIndex[type.groupResource, default: [:]][ns, default: [:]][entry, default: []].insert(name)
        }
    }

    /// Every object of a resource (unsorted), for controllers.
    func all(_ type: ResourceType, namespace: String? = nil) -> [JSONValue] {
        self.state.withLock { state in
            guard let bucket = state.buckets[type.groupResource] else { return [] }
            if let namespace { return bucket[namespace].map { Array($0.values) } ?? [] }
            return bucket.values.flatMap { Array($0.values) }
        }
    }

    func count(_ type: ResourceType) -> Int {
        self.state.withLock { $0.buckets[type.groupResource]?.values.reduce(0) { $0 + $1.count } ?? 0 }
    }

    // MARK: - Writes

    /// Stores a new object, filling in uid, creationTimestamp, resourceVersion and generation.
    @discardableResult
    func create(_ type: ResourceType, _ input: JSONValue) throws(KubeAPIError) -> JSONValue {
        let now = self.clock.date(at: self.clock.now())
        return try self.state.withLock { (state: inout State) throws(KubeAPIError) -> JSONValue in
            var object = input
            let ns = type.namespaced ? object.namespace : ""
            if type.namespaced {
                guard let namespace = state.buckets[ResourceType.namespaces.groupResource]?[""]?[ns] else {
                    throw KubeAPIError.notFound(.namespaces, ns)
                }
                if namespace.isTerminating {
                    throw KubeAPIError.forbidden(
                        type, object.name,
                        "unable to create new content in namespace \(ns) because it is being terminated")
                }
            } else {
                object[path: ["metadata", "namespace"]] = nil
            }
            if object.name.isEmpty {
                let prefix = object[path: ["metadata", "generateName"]]?.stringValue ?? ""
                var candidate = prefix + state.random.nameSuffix()
                while state.buckets[type.groupResource]?[ns]?[candidate] != nil {
                    candidate = prefix + state.random.nameSuffix()
                }
                object[path: ["metadata", "name"]] = .string(candidate)
            }
            let name = object.name
            if state.buckets[type.groupResource]?[ns]?[name] != nil {
                throw KubeAPIError.alreadyExists(type, name)
            }
            state.revision += 1
            object["apiVersion"] = .string(type.apiVersion)
            object["kind"] = .string(type.kind)
            var meta = object["metadata"]?.objectValue ?? [:]
            meta["uid"] = .string(state.random.uuid())
            meta["creationTimestamp"] = .string(Timestamp.format(now))
            meta["resourceVersion"] = .string(String(state.revision))
            meta["deletionTimestamp"] = nil
            meta["deletionGracePeriodSeconds"] = nil
            if type.tracksGeneration { meta["generation"] = 1 } else { meta["generation"] = nil }
            object["metadata"] = .object(meta)
            state.buckets[type.groupResource, default: [:]][ns, default: [:]][name] = object
            Self.index(&state, type, ns, name, old: nil, new: object)
            Self.commit(&state, self.configuration, StoreChange(type: .added, resource: type, object: object, previous: nil, revision: state.revision))
            return object
        }
    }

    /// What an update did.
    enum UpdateOutcome {
        case updated(JSONValue)
        case unchanged(JSONValue)
        case deleted(JSONValue)

        var object: JSONValue {
            switch self {
            case .updated(let o), .unchanged(let o), .deleted(let o): o
            }
        }
    }

    /// Read-modify-write of one object, atomically. `mutate` sees the current object; a
    /// `metadata.resourceVersion` it leaves different from the current one is a conflict. Identity
    /// fields (uid, name, creation time) cannot change. Writing an identical object changes nothing
    /// and sends no event, as on a real API server.
    ///
    /// > Warning: `mutate` runs under the store's lock and must not call the store.
    @discardableResult
    func update(
        _ type: ResourceType, namespace: String, name: String,
        mutate: (inout JSONValue) throws(KubeAPIError) -> Void
    ) throws(KubeAPIError) -> UpdateOutcome {
        let ns = type.namespaced ? namespace : ""
        return try self.state.withLock { (state: inout State) throws(KubeAPIError) -> UpdateOutcome in
            guard let current = state.buckets[type.groupResource]?[ns]?[name] else {
                throw KubeAPIError.notFound(type, name)
            }
            var object = current
            try mutate(&object)
            let requested = object.resourceVersion
            if !requested.isEmpty, requested != current.resourceVersion {
                throw KubeAPIError.modified(type, name)
            }
            // Identity and server-managed fields.
            object["apiVersion"] = .string(type.apiVersion)
            object["kind"] = .string(type.kind)
            for key in ["uid", "creationTimestamp", "name", "namespace", "resourceVersion", "generation"] {
                object[path: ["metadata", key]] = current[path: ["metadata", key]]
            }
            if current.isTerminating {
                object[path: ["metadata", "deletionTimestamp"]] = current[path: ["metadata", "deletionTimestamp"]]
            }
            if object == current { return .unchanged(current) }
            if type.tracksGeneration, object["spec"] != current["spec"] {
                let generation = current[path: ["metadata", "generation"]]?.intValue ?? 1
                object[path: ["metadata", "generation"]] = .int(generation + 1)
            }
            state.revision += 1
            object[path: ["metadata", "resourceVersion"]] = .string(String(state.revision))
            if object.isTerminating, object.finalizers.isEmpty, type != .pods, type != .namespaces {
                state.buckets[type.groupResource]?[ns]?[name] = nil
                Self.index(&state, type, ns, name, old: current, new: nil)
                Self.commit(&state, self.configuration, StoreChange(type: .deleted, resource: type, object: object, previous: current, revision: state.revision))
                return .deleted(object)
            }
            state.buckets[type.groupResource]?[ns]?[name] = object
            Self.index(&state, type, ns, name, old: current, new: object)
            Self.commit(&state, self.configuration, StoreChange(type: .modified, resource: type, object: object, previous: current, revision: state.revision))
            return .updated(object)
        }
    }

    /// Removes an object now, after checking optional uid / resourceVersion preconditions.
    @discardableResult
    func remove(
        _ type: ResourceType, namespace: String, name: String, uid: String? = nil, resourceVersion: String? = nil
    ) throws(KubeAPIError) -> JSONValue {
        let ns = type.namespaced ? namespace : ""
        return try self.state.withLock { (state: inout State) throws(KubeAPIError) -> JSONValue in
            guard var object = state.buckets[type.groupResource]?[ns]?[name] else {
                throw KubeAPIError.notFound(type, name)
            }
            try Self.checkPreconditions(type, object, uid: uid, resourceVersion: resourceVersion)
            let previous = object
            state.buckets[type.groupResource]?[ns]?[name] = nil
            Self.index(&state, type, ns, name, old: previous, new: nil)
            if state.buckets[type.groupResource]?[ns]?.isEmpty == true {
                state.buckets[type.groupResource]?[ns] = nil
            }
            state.revision += 1
            object[path: ["metadata", "resourceVersion"]] = .string(String(state.revision))
            Self.commit(&state, self.configuration, StoreChange(type: .deleted, resource: type, object: object, previous: previous, revision: state.revision))
            return object
        }
    }

    static func checkPreconditions(
        _ type: ResourceType, _ object: JSONValue, uid: String?, resourceVersion: String?
    ) throws(KubeAPIError) {
        if let uid, !uid.isEmpty, uid != object.uid {
            throw KubeAPIError.conflict(
                type, object.name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(object.uid)")
        }
        if let resourceVersion, !resourceVersion.isEmpty, resourceVersion != object.resourceVersion {
            throw KubeAPIError.conflict(
                type, object.name,
                "Precondition failed: ResourceVersion in precondition: \(resourceVersion), ResourceVersion in object meta: \(object.resourceVersion)"
            )
        }
    }

    // MARK: - Change feed

    /// Registers a callback for every committed change. It runs under the store's lock: it must be
    /// quick and must not call the store.
    func addListener(_ listener: @escaping @Sendable (StoreChange) -> Void) {
        self.state.withLock { $0.listeners.append(listener) }
    }

    private static func commit(_ state: inout State, _ configuration: Configuration, _ change: StoreChange) {
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

    /// Draws from the store's seeded generator.
    func withRandom<T>(_ body: (inout SeededRandom) -> T) -> T {
        self.state.withLock { body(&$0.random) }
    }
}

/// A list continuation token: base64 JSON, like the real server's.
struct ContinueToken {
    var revision: Int
    var namespace: String
    var name: String

    func encode() -> String {
        let json: JSONValue = [
            "v": "meta.k8s.io/v1", "rv": .int(self.revision), "start": .string("\(self.namespace)/\(self.name)\u{0}"),
        ]
        return Data(json.serialized()).base64EncodedString()
    }

    static func decode(_ token: String) throws(KubeAPIError) -> ContinueToken {
        guard let data = Data(base64Encoded: token), let json = try? JSONValue.parse(Array(data)),
            let rv = json["rv"]?.intValue, var start = json["start"]?.stringValue
        else {
            throw KubeAPIError.badRequest("invalid value for continue: continue key is not valid")
        }
        if start.hasSuffix("\u{0}") { start.removeLast() }
        let parts = start.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else { throw KubeAPIError.badRequest("invalid value for continue: continue key is not valid") }
        return ContinueToken(revision: rv, namespace: parts[0], name: parts[1])
    }
}
