import Foundation
import Synchronization
import TritonJSON

/// Writes: create, atomic read-modify-write and removal, each committed with a new resourceVersion.
extension ObjectStore {
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
}
