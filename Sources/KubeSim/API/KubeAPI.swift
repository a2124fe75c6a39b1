import Synchronization
import TritonJSON

/// The API server's registry: create, read, update, patch and delete with the per-resource
/// rules of the real server (defaults, validation, status subresources, graceful deletion).
/// The HTTP layer and in-process callers both go through it.
final class KubeAPI: Sendable {
    let store: ObjectStore
    private let nextServiceIP: Mutex<Int>

    init(store: ObjectStore) {
        self.store = store
        self.nextServiceIP = Mutex(10)
    }

    /// How a patch body is to be read.
    enum PatchType: Sendable {
        case merge, strategic, json

        init?(contentType: String) {
            let base = contentType.split(separator: ";").first.map { String($0).trimmingWhitespace().lowercased() } ?? ""
            switch base {
            case "application/merge-patch+json": self = .merge
            case "application/strategic-merge-patch+json": self = .strategic
            case "application/json-patch+json": self = .json
            default: return nil
            }
        }
    }

    struct DeleteOptions: Sendable {
        var gracePeriodSeconds: Int?
        var uid: String?
        var resourceVersion: String?
        /// `Background` (default), `Foreground` or `Orphan`.
        var propagationPolicy: String?
        var dryRun = false

        init(gracePeriodSeconds: Int? = nil, uid: String? = nil, resourceVersion: String? = nil, propagationPolicy: String? = nil) {
            self.gracePeriodSeconds = gracePeriodSeconds
            self.uid = uid
            self.resourceVersion = resourceVersion
            self.propagationPolicy = propagationPolicy
        }
    }

    // MARK: - Create

    func create(_ type: ResourceType, namespace: String?, _ body: JSONValue, dryRun: Bool = false) throws(KubeAPIError) -> JSONValue {
        guard body.objectValue != nil else { throw KubeAPIError.badRequest("the body of the request must be a JSON object") }
        var object = body
        if let kind = object["kind"]?.stringValue, kind != type.kind {
            throw KubeAPIError.badRequest("the API version in the data (\(object["apiVersion"]?.stringValue ?? "")) does not match the expected API version (\(type.apiVersion))")
        }
        if type.namespaced {
            let bodyNamespace = object.namespace
            if let namespace {
                if !bodyNamespace.isEmpty, bodyNamespace != namespace {
                    throw KubeAPIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
                }
                object[path: ["metadata", "namespace"]] = .string(namespace)
            } else if bodyNamespace.isEmpty {
                object[path: ["metadata", "namespace"]] = "default"
            }
        }
        object[path: ["metadata", "resourceVersion"]] = nil
        self.prepareForCreate(type, &object)
        let causes = Validation.name(type, object) + self.validate(type, object)
        if !causes.isEmpty { throw KubeAPIError.invalid(type, object.name, causes) }
        if dryRun {
            if self.store.get(type, namespace: object.namespace, name: object.name) != nil, !object.name.isEmpty {
                throw KubeAPIError.alreadyExists(type, object.name)
            }
            return object
        }
        return try self.store.create(type, object)
    }

    private func prepareForCreate(_ type: ResourceType, _ object: inout JSONValue) {
        object[path: ["metadata", "deletionTimestamp"]] = nil
        switch type {
        case .pods:
            Defaults.pod(&object)
        case .cloneSets:
            object["status"] = nil
            Defaults.cloneSet(&object)
        case .namespaces:
            Defaults.namespace(&object)
        case .services:
            let ip = self.nextServiceIP.withLock { next -> String in
                next += 1
                return "10.96.\(next / 250).\(next % 250 + 1)"
            }
            Defaults.service(&object, clusterIP: ip)
        default:
            break
        }
    }

    private func validate(_ type: ResourceType, _ object: JSONValue) -> [KubeAPIError.Cause] {
        switch type {
        case .pods: Validation.podSpec(object["spec"], field: "spec")
        case .cloneSets: Validation.cloneSet(object)
        case .services: Validation.service(object)
        default: []
        }
    }

    // MARK: - Read

    func get(_ type: ResourceType, namespace: String, name: String) throws(KubeAPIError) -> JSONValue {
        guard let object = self.store.get(type, namespace: namespace, name: name) else {
            throw KubeAPIError.notFound(type, name)
        }
        return object
    }

    // MARK: - Update and patch

    /// Replaces an object (PUT), on the object itself or on its `status` subresource.
    func update(
        _ type: ResourceType, namespace: String, name: String, subresource: String?, _ body: JSONValue, dryRun: Bool = false
    ) throws(KubeAPIError) -> (object: JSONValue, created: Bool) {
        guard body.objectValue != nil else { throw KubeAPIError.badRequest("the body of the request must be a JSON object") }
        if !body.name.isEmpty, body.name != name {
            throw KubeAPIError.badRequest("the name of the object (\(body.name)) does not match the name on the URL (\(name))")
        }
        if type.namespaced, !body.namespace.isEmpty, body.namespace != namespace {
            throw KubeAPIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        if self.store.get(type, namespace: namespace, name: name) == nil {
            guard type.allowCreateOnUpdate, subresource == nil else { throw KubeAPIError.notFound(type, name) }
            var object = body
            object[path: ["metadata", "name"]] = .string(name)
            return (try self.create(type, namespace: namespace, object, dryRun: dryRun), true)
        }
        if type.isCustomResource, body.resourceVersion.isEmpty {
            throw KubeAPIError.invalid(
                type, name, [.invalid("metadata.resourceVersion", "0x0", "must be specified for an update")])
        }
        if dryRun {
            let current = try self.get(type, namespace: namespace, name: name)
            if !body.resourceVersion.isEmpty, body.resourceVersion != current.resourceVersion {
                throw KubeAPIError.modified(type, name)
            }
            var object = body
            try self.prepareForUpdate(type, subresource: subresource, old: current, new: &object)
            return (object, false)
        }
        let outcome = try self.store.update(type, namespace: namespace, name: name) { (current: inout JSONValue) throws(KubeAPIError) in
            var object = body
            try self.prepareForUpdate(type, subresource: subresource, old: current, new: &object)
            current = object
        }
        return (outcome.object, false)
    }

    /// Applies a patch to an object or its `status` subresource.
    func patch(
        _ type: ResourceType, namespace: String, name: String, subresource: String?, patchType: PatchType, _ patch: JSONValue,
        dryRun: Bool = false
    ) throws(KubeAPIError) -> JSONValue {
        if patchType == .strategic, type.isCustomResource {
            throw KubeAPIError.unsupportedPatch("application/strategic-merge-patch+json")
        }
        if dryRun {
            let current = try self.get(type, namespace: namespace, name: name)
            var object = try Self.applyPatch(patchType, patch, to: current)
            try self.prepareForUpdate(type, subresource: subresource, old: current, new: &object)
            return object
        }
        let outcome = try self.store.update(type, namespace: namespace, name: name) { (current: inout JSONValue) throws(KubeAPIError) in
            var object = try Self.applyPatch(patchType, patch, to: current)
            try self.prepareForUpdate(type, subresource: subresource, old: current, new: &object)
            current = object
        }
        return outcome.object
    }

    static func applyPatch(_ patchType: PatchType, _ patch: JSONValue, to object: JSONValue) throws(KubeAPIError) -> JSONValue {
        switch patchType {
        case .merge:
            guard patch.objectValue != nil else {
                throw KubeAPIError.badRequest("json: cannot unmarshal \(patch.arrayValue != nil ? "array" : "value") into Go value of type map[string]interface {}")
            }
            return MergePatch.apply(patch, to: object)
        case .strategic:
            return try StrategicMergePatch.apply(patch, to: object)
        case .json:
            return try JSONPatch.apply(patch, to: object)
        }
    }

    /// Keeps what a write to this (sub)resource may not change, and validates the result.
    private func prepareForUpdate(
        _ type: ResourceType, subresource: String?, old: JSONValue, new object: inout JSONValue
    ) throws(KubeAPIError) {
        if subresource == "status" {
            let status = object["status"]
            var merged = old
            merged["status"] = status
            if !object.resourceVersion.isEmpty { merged[path: ["metadata", "resourceVersion"]] = object["metadata"]?["resourceVersion"] }
            object = merged
            return
        }
        if type.subresources.contains("status") {
            object["status"] = old["status"]
        }
        object[path: ["metadata", "deletionTimestamp"]] = old[path: ["metadata", "deletionTimestamp"]]
        object[path: ["metadata", "deletionGracePeriodSeconds"]] = old[path: ["metadata", "deletionGracePeriodSeconds"]]
        var causes: [KubeAPIError.Cause] = []
        switch type {
        case .pods:
            causes = Validation.podUpdate(old: old, new: object)
        case .cloneSets:
            Defaults.cloneSet(&object)
            causes = Validation.cloneSet(object)
            if old[path: ["spec", "selector"]] != object[path: ["spec", "selector"]] {
                causes.append(.invalid("spec.selector", object[path: ["spec", "selector"]] ?? .null, "field is immutable"))
            }
        case .services:
            if let ip = old[path: ["spec", "clusterIP"]], object[path: ["spec", "clusterIP"]] == nil {
                object[path: ["spec", "clusterIP"]] = ip
                object[path: ["spec", "clusterIPs"]] = old[path: ["spec", "clusterIPs"]]
            }
            causes = Validation.service(object)
        case .namespaces:
            object["spec"] = old["spec"]
        default:
            break
        }
        if !causes.isEmpty { throw KubeAPIError.invalid(type, old.name, causes) }
    }

    // MARK: - Scale subresource

    func scale(namespace: String, name: String) throws(KubeAPIError) -> JSONValue {
        let cs = try self.get(.cloneSets, namespace: namespace, name: name)
        return Self.scaleObject(cs)
    }

    static func scaleObject(_ cs: JSONValue) -> JSONValue {
        var scale: JSONValue = [
            "kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": [
                "name": .string(cs.name), "namespace": .string(cs.namespace), "uid": .string(cs.uid),
                "resourceVersion": .string(cs.resourceVersion),
                "creationTimestamp": cs[path: ["metadata", "creationTimestamp"]] ?? .null,
            ],
            "spec": ["replicas": cs[path: ["spec", "replicas"]] ?? 1],
            "status": ["replicas": cs[path: ["status", "replicas"]] ?? 0],
        ]
        if let selector = cs[path: ["status", "labelSelector"]] { scale[path: ["status", "selector"]] = selector }
        return scale
    }

    /// Updates `spec.replicas` through the scale subresource, by a new Scale object or a patch of it.
    func updateScale(
        namespace: String, name: String, body: JSONValue?, patchType: PatchType?, patch: JSONValue?
    ) throws(KubeAPIError) -> JSONValue {
        let outcome = try self.store.update(.cloneSets, namespace: namespace, name: name) { (cs: inout JSONValue) throws(KubeAPIError) in
            let current = Self.scaleObject(cs)
            var scale: JSONValue
            if let patchType, let patch {
                scale = try Self.applyPatch(patchType, patch, to: current)
            } else {
                scale = body ?? current
            }
            guard let replicas = scale[path: ["spec", "replicas"]]?.intValue, replicas >= 0 else {
                throw KubeAPIError(
                    code: 422, reason: .invalid,
                    message: "Scale.autoscaling \"\(name)\" is invalid: spec.replicas: Invalid value: \(scale[path: ["spec", "replicas"]] ?? .null): must be greater than or equal to 0",
                    details: ["name": .string(name), "group": "autoscaling", "kind": "Scale"])
            }
            let rv = scale.resourceVersion
            if !rv.isEmpty, rv != cs.resourceVersion { throw KubeAPIError.modified(.cloneSets, name) }
            cs[path: ["spec", "replicas"]] = .int(replicas)
        }
        return Self.scaleObject(outcome.object)
    }

    // MARK: - Delete

    /// Deletes an object. Pods are deleted gracefully (they show a `deletionTimestamp` until the
    /// simulated kubelet has stopped them); objects with finalizers wait for them.
    func delete(_ type: ResourceType, namespace: String, name: String, options: DeleteOptions) throws(KubeAPIError) -> JSONValue {
        guard let current = self.store.get(type, namespace: namespace, name: name) else {
            throw KubeAPIError.notFound(type, name)
        }
        try ObjectStore.checkPreconditions(type, current, uid: options.uid, resourceVersion: options.resourceVersion)
        if options.dryRun { return current }
        if type == .namespaces, ["default", "kube-system", "kube-public"].contains(name) {
            throw KubeAPIError.forbidden(type, name, "this namespace may not be deleted")
        }
        let now = self.store.clock.now()
        var finalizersToAdd: [String] = []
        switch options.propagationPolicy {
        case "Foreground": finalizersToAdd = ["foregroundDeletion"]
        case "Orphan": finalizersToAdd = ["orphan"]
        default: break
        }
        var grace = 0
        if type == .pods {
            grace = options.gracePeriodSeconds ?? current[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue ?? 30
            let scheduled = !(current[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty
            let phase = current[path: ["status", "phase"]]?.stringValue
            if !scheduled || phase == "Failed" || phase == "Succeeded" { grace = 0 }
        }
        let graceful = type == .pods && grace > 0
        let keep = graceful || type == .namespaces || !current.finalizers.isEmpty || !finalizersToAdd.isEmpty
            || (type == .pods && current.isTerminating && !current.finalizers.isEmpty)
        if !keep {
            return try self.store.remove(type, namespace: namespace, name: name, uid: options.uid, resourceVersion: options.resourceVersion)
        }
        let outcome = try self.store.update(type, namespace: namespace, name: name) { (object: inout JSONValue) throws(KubeAPIError) in
            try ObjectStore.checkPreconditions(type, object, uid: options.uid, resourceVersion: options.resourceVersion)
            var meta = object["metadata"]?.objectValue ?? [:]
            let existingGrace = meta["deletionGracePeriodSeconds"]?.intValue
            if meta["deletionTimestamp"] == nil || meta["deletionTimestamp"]?.isNull == true
                || (existingGrace.map { grace < $0 } ?? false)
            {
                meta["deletionTimestamp"] = .string(Timestamp.format(self.store.clock.date(at: now + Double(grace))))
                if type == .pods { meta["deletionGracePeriodSeconds"] = .int(grace) } else { meta["deletionGracePeriodSeconds"] = 0 }
            }
            var finalizers = (meta["finalizers"]?.arrayValue ?? [])
            for f in finalizersToAdd where !finalizers.contains(.string(f)) { finalizers.append(.string(f)) }
            if !finalizers.isEmpty { meta["finalizers"] = .array(finalizers) }
            object["metadata"] = .object(meta)
            if type == .namespaces { object[path: ["status", "phase"]] = "Terminating" }
        }
        if type == .pods, grace == 0, outcome.object.finalizers.isEmpty {
            return (try? self.store.remove(type, namespace: namespace, name: name)) ?? outcome.object
        }
        return outcome.object
    }
}
