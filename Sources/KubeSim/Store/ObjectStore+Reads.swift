import Foundation
import Synchronization
import TritonJSON

/// Reads: single objects, paged lists in key order, and the label index that serves selectors.
extension ObjectStore {
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
}
