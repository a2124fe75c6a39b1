extension KubeClient {
    /// Watches objects in one namespace.
    /// - Parameters:
    ///   - namespace: The namespace; `nil` uses the configuration's.
    ///   - options: Selectors, the resourceVersion to start after, bookmarks.
    /// - Returns: An `AsyncSequence` of ``WatchEvent``s; see ``KubeWatch`` for resume and relist behaviour.
    public func watch<Object: KubeObject>(
        _ type: Object.Type,
        namespace: String? = nil,
        options: WatchOptions = WatchOptions(),
        resource: KubeResource = Object.resource
    ) -> KubeWatch<Object> {
        KubeWatch(client: self, resource: resource, namespace: self.namespace(namespace, for: resource), options: options)
    }

    /// Watches objects in every namespace.
    public func watchAllNamespaces<Object: KubeObject>(
        _ type: Object.Type,
        options: WatchOptions = WatchOptions(),
        resource: KubeResource = Object.resource
    ) -> KubeWatch<Object> {
        KubeWatch(client: self, resource: resource, namespace: nil, options: options)
    }
}
