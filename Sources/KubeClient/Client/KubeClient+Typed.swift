import TritonJSON

extension KubeClient {
    /// Lists pods (all pages).
    /// - Parameters:
    ///   - namespace: The namespace; `nil` uses the configuration's.
    ///   - labelSelector: e.g. `app=demo`.
    public func pods(namespace: String? = nil, labelSelector: String? = nil) async throws -> [Pod] {
        try await self.listAll(Pod.self, namespace: namespace, options: ListOptions(labelSelector: labelSelector)).items
    }

    /// Reads a pod.
    public func pod(_ name: String, namespace: String? = nil) async throws -> Pod {
        try await self.get(Pod.self, name: name, namespace: namespace)
    }

    /// Sets one pod condition (such as the readiness gate `apps.triton.io/ready`) with a strategic-merge patch
    /// on the `status` subresource; conditions merge by `type`, so no other condition changes.
    public func setPodCondition(
        _ condition: PodCondition,
        pod name: String,
        namespace: String? = nil
    ) async throws -> Pod {
        let patch: JSONValue = ["status": ["conditions": [condition.json]]]
        return try await self.patch(
            Pod.self,
            name: name,
            namespace: namespace,
            patch: .strategicMerge(patch),
            subresource: "status"
        )
    }

    /// Reads a CloneSet.
    public func cloneSet(_ name: String, namespace: String? = nil) async throws -> CloneSet {
        try await self.get(CloneSet.self, name: name, namespace: namespace)
    }

    /// Applies a JSON merge patch to a CloneSet (custom resources do not accept strategic-merge patches).
    public func patchCloneSet(_ name: String, namespace: String? = nil, merge patch: JSONValue) async throws -> CloneSet {
        try await self.patch(CloneSet.self, name: name, namespace: namespace, patch: .merge(patch))
    }

    /// Lists the events about one object (`involvedObject.name`, and `involvedObject.kind` when given).
    public func events(forObject name: String, kind: String? = nil, namespace: String? = nil) async throws -> [Event] {
        var selector = "involvedObject.name=\(name)"
        if let kind { selector += ",involvedObject.kind=\(kind)" }
        return try await self.listAll(Event.self, namespace: namespace, options: ListOptions(fieldSelector: selector)).items
    }

    /// Reads a Service.
    public func service(_ name: String, namespace: String? = nil) async throws -> Service {
        try await self.get(Service.self, name: name, namespace: namespace)
    }

    /// Reads the Endpoints of a Service.
    public func endpoints(_ name: String, namespace: String? = nil) async throws -> Endpoints {
        try await self.get(Endpoints.self, name: name, namespace: namespace)
    }

    /// Reads a Lease.
    public func lease(_ name: String, namespace: String? = nil) async throws -> Lease {
        try await self.get(Lease.self, name: name, namespace: namespace)
    }
}
