import TritonJSON

extension KubeClient {
    func namespace(_ namespace: String?, for resource: KubeResource) -> String? {
        resource.namespaced ? (namespace ?? self.configuration.namespace) : nil
    }

    /// Reads one object.
    /// - Parameters:
    ///   - type: The object type; `resource` defaults to its ``KubeObject/resource``.
    ///   - name: The object's name.
    ///   - namespace: The namespace; `nil` uses the configuration's.
    ///   - subresource: e.g. `status` or `scale`.
    ///   - timeout: Overrides ``Configuration/requestTimeout``.
    /// - Throws: ``KubeError`` (`.notFound`, ...).
    public func get<Object: KubeObject>(
        _ type: Object.Type,
        name: String,
        namespace: String? = nil,
        resource: KubeResource = Object.resource,
        subresource: String? = nil,
        timeout: Duration? = nil
    ) async throws -> Object {
        let path = resource.path(namespace: self.namespace(namespace, for: resource), name: name, subresource: subresource)
        return Object(json: try await self.sendJSON(Call(method: "GET", path: path, timeout: timeout)))
    }

    /// Lists one page of objects (all of them unless ``ListOptions/limit`` is set).
    /// - Parameter namespace: The namespace; `nil` uses the configuration's. Use ``listAllNamespaces(_:options:resource:timeout:)``
    ///   for every namespace.
    public func list<Object: KubeObject>(
        _ type: Object.Type,
        namespace: String? = nil,
        options: ListOptions = ListOptions(),
        resource: KubeResource = Object.resource,
        timeout: Duration? = nil
    ) async throws -> KubeList<Object> {
        let path = resource.path(namespace: self.namespace(namespace, for: resource))
        return try KubeList(json: try await self.sendJSON(Call(method: "GET", path: path, query: options.queryItems, timeout: timeout)))
    }

    /// Lists one page of objects across all namespaces.
    public func listAllNamespaces<Object: KubeObject>(
        _ type: Object.Type,
        options: ListOptions = ListOptions(),
        resource: KubeResource = Object.resource,
        timeout: Duration? = nil
    ) async throws -> KubeList<Object> {
        let path = resource.path(namespace: nil)
        return try KubeList(json: try await self.sendJSON(Call(method: "GET", path: path, query: options.queryItems, timeout: timeout)))
    }

    /// Lists every object, following `continue` tokens page by page (``ListOptions/limit`` sets the page size,
    /// `500` when unset).
    /// - Returns: All items and the resourceVersion of the first page (the snapshot the pages belong to).
    public func listAll<Object: KubeObject>(
        _ type: Object.Type,
        namespace: String? = nil,
        options: ListOptions = ListOptions(),
        resource: KubeResource = Object.resource
    ) async throws -> KubeList<Object> {
        try await self.listPages(
            type,
            resource: resource,
            namespacePath: self.namespace(namespace, for: resource),
            options: options
        )
    }

    func listPages<Object: KubeObject>(
        _ type: Object.Type,
        resource: KubeResource,
        namespacePath: String?,
        options: ListOptions
    ) async throws -> KubeList<Object> {
        var options = options
        if options.limit == nil { options.limit = 500 }
        let path = resource.path(namespace: namespacePath)
        var page = try KubeList<Object>(json: try await self.sendJSON(Call(method: "GET", path: path, query: options.queryItems)))
        var all = KubeList<Object>(items: page.items, resourceVersion: page.resourceVersion)
        while let token = page.continueToken {
            options.continueToken = token
            page = try KubeList<Object>(json: try await self.sendJSON(Call(method: "GET", path: path, query: options.queryItems)))
            all.items += page.items
        }
        return all
    }

    /// Creates an object; its namespace comes from `namespace`, its metadata, or the configuration.
    /// - Throws: ``KubeError`` `.alreadyExists`, `.invalid` (see ``KubeError/causes``), ...
    public func create<Object: KubeObject>(
        _ object: Object,
        namespace: String? = nil,
        resource: KubeResource = Object.resource,
        timeout: Duration? = nil
    ) async throws -> Object {
        let path = resource.path(namespace: self.namespace(namespace ?? object.metadata.namespace, for: resource))
        return Object(json: try await self.sendJSON(Call(method: "POST", path: path, body: object.json, timeout: timeout)))
    }

    /// Replaces an object (PUT). The object's `metadata.resourceVersion` makes it conditional: a stale version
    /// fails with ``KubeError/Code/conflict``; re-read and retry.
    /// - Parameter subresource: `status` to replace only the status.
    public func update<Object: KubeObject>(
        _ object: Object,
        resource: KubeResource = Object.resource,
        subresource: String? = nil,
        timeout: Duration? = nil
    ) async throws -> Object {
        guard let name = object.metadata.name else {
            throw KubeError(.invalid, "update needs metadata.name")
        }
        let namespace = self.namespace(object.metadata.namespace, for: resource)
        let path = resource.path(namespace: namespace, name: name, subresource: subresource)
        return Object(json: try await self.sendJSON(Call(method: "PUT", path: path, body: object.json, timeout: timeout)))
    }

    /// Patches an object.
    /// - Parameters:
    ///   - patch: Merge, strategic-merge or JSON patch.
    ///   - subresource: `status` to patch the status subresource (e.g. a pod's readiness-gate condition).
    public func patch<Object: KubeObject>(
        _ type: Object.Type,
        name: String,
        namespace: String? = nil,
        patch: KubePatch,
        subresource: String? = nil,
        resource: KubeResource = Object.resource,
        timeout: Duration? = nil
    ) async throws -> Object {
        let path = resource.path(namespace: self.namespace(namespace, for: resource), name: name, subresource: subresource)
        let call = Call(method: "PATCH", path: path, body: patch.body, contentType: patch.contentType, timeout: timeout)
        return Object(json: try await self.sendJSON(call))
    }

    /// Deletes an object.
    /// - Parameter options: Grace period, UID/resourceVersion preconditions (a mismatch is a
    ///   ``KubeError/Code/conflict``), propagation policy.
    /// - Returns: The server's answer: the object (possibly with `deletionTimestamp` set) or a `Status`.
    @discardableResult
    public func delete<Object: KubeObject>(
        _ type: Object.Type,
        name: String,
        namespace: String? = nil,
        options: DeleteOptions = DeleteOptions(),
        resource: KubeResource = Object.resource,
        timeout: Duration? = nil
    ) async throws -> JSONValue {
        let path = resource.path(namespace: self.namespace(namespace, for: resource), name: name)
        return try await self.sendJSON(Call(method: "DELETE", path: path, body: options.body, timeout: timeout))
    }
}
