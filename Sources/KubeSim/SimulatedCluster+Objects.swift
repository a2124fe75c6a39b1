import TritonJSON

/// In-process access to the cluster's objects, with the same rules as the HTTP API.
extension SimulatedCluster {
    /// How a patch is read.
    public enum PatchType: Sendable {
        /// `application/merge-patch+json`
        case merge
        /// `application/strategic-merge-patch+json`
        case strategic
        /// `application/json-patch+json`
        case json

        var api: KubeAPI.PatchType {
            switch self {
            case .merge: .merge
            case .strategic: .strategic
            case .json: .json
            }
        }
    }

    /// Creates an object (in `metadata.namespace`, or `default`).
    @discardableResult
    public func create(_ type: ResourceType, _ object: JSONValue) throws -> JSONValue {
        try self.api.create(type, namespace: type.namespaced ? (object.namespace.isEmpty ? "default" : object.namespace) : nil, object)
    }

    /// The object, or nil.
    public func get(_ type: ResourceType, namespace: String = "default", name: String) -> JSONValue? {
        self.store.get(type, namespace: namespace, name: name)
    }

    /// Objects in key order; `namespace: nil` lists all namespaces.
    public func list(_ type: ResourceType, namespace: String? = "default", labelSelector: String = "") throws -> [JSONValue] {
        let selector = try LabelSelector.parse(labelSelector)
        return try self.store.list(ObjectFilter(resource: type, namespace: namespace, labels: selector)).items
    }

    /// Replaces an object (or its `status` subresource).
    @discardableResult
    public func update(_ type: ResourceType, _ object: JSONValue, subresource: String? = nil) throws -> JSONValue {
        try self.api.update(
            type, namespace: object.namespace.isEmpty ? "default" : object.namespace, name: object.name, subresource: subresource,
            object
        ).object
    }

    /// Patches an object (or its `status` subresource).
    @discardableResult
    public func patch(
        _ type: ResourceType, namespace: String = "default", name: String, subresource: String? = nil, type patchType: PatchType,
        _ patch: JSONValue
    ) throws -> JSONValue {
        try self.api.patch(type, namespace: namespace, name: name, subresource: subresource, patchType: patchType.api, patch)
    }

    /// Deletes an object, gracefully for pods (`gracePeriodSeconds` overrides the pod's own).
    @discardableResult
    public func delete(
        _ type: ResourceType, namespace: String = "default", name: String, gracePeriodSeconds: Int? = nil, uid: String? = nil,
        resourceVersion: String? = nil, propagationPolicy: String? = nil
    ) throws -> JSONValue {
        try self.api.delete(
            type, namespace: namespace, name: name,
            options: .init(gracePeriodSeconds: gracePeriodSeconds, uid: uid, resourceVersion: resourceVersion, propagationPolicy: propagationPolicy))
    }

    /// The current global resourceVersion.
    public var resourceVersion: Int { self.store.currentRevision }

    /// Events about an object, oldest first.
    public func events(for object: JSONValue) -> [JSONValue] {
        let namespace = object.namespace.isEmpty ? "default" : object.namespace
        return self.store.all(.events, namespace: namespace).filter { $0[path: ["involvedObject", "uid"]]?.stringValue == object.uid }
            .sorted { ($0.resourceVersion.count, $0.resourceVersion) < ($1.resourceVersion.count, $1.resourceVersion) }
    }
}
