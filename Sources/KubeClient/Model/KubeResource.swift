import Foundation

/// Where a kind of object lives in the API: group, version, plural resource name, and whether it is namespaced.
public struct KubeResource: Sendable, Hashable {
    /// The API group; empty for the core group.
    public var group: String
    /// The version, e.g. `v1` or `v1alpha1`.
    public var version: String
    /// The kind, e.g. `Pod`.
    public var kind: String
    /// The plural resource name used in URLs, e.g. `pods`.
    public var plural: String
    /// Whether objects live in a namespace.
    public var namespaced: Bool

    /// Creates a resource description.
    public init(group: String, version: String, kind: String, plural: String, namespaced: Bool = true) {
        self.group = group
        self.version = version
        self.kind = kind
        self.plural = plural
        self.namespaced = namespaced
    }

    /// `v1` or `group/version`.
    public var apiVersion: String { self.group.isEmpty ? self.version : "\(self.group)/\(self.version)" }

    /// The URL path of the collection or an object: `/api/v1/namespaces/NS/pods[/NAME[/SUBRESOURCE]]`.
    public func path(namespace: String?, name: String? = nil, subresource: String? = nil) -> String {
        var path = self.group.isEmpty ? "/api/\(self.version)" : "/apis/\(self.group)/\(self.version)"
        if self.namespaced, let namespace { path += "/namespaces/\(Self.escape(namespace))" }
        path += "/\(self.plural)"
        if let name { path += "/\(Self.escape(name))" }
        if let subresource { path += "/\(subresource)" }
        return path
    }

    static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .kubePathSegment) ?? segment
    }
}

extension KubeResource {
    /// Core `v1` pods.
    public static let pods = KubeResource(group: "", version: "v1", kind: "Pod", plural: "pods")
    /// Core `v1` events.
    public static let events = KubeResource(group: "", version: "v1", kind: "Event", plural: "events")
    /// Core `v1` services.
    public static let services = KubeResource(group: "", version: "v1", kind: "Service", plural: "services")
    /// Core `v1` endpoints.
    public static let endpoints = KubeResource(group: "", version: "v1", kind: "Endpoints", plural: "endpoints")
    /// Core `v1` namespaces (cluster-scoped).
    public static let namespaces = KubeResource(
        group: "",
        version: "v1",
        kind: "Namespace",
        plural: "namespaces",
        namespaced: false
    )
    /// `coordination.k8s.io/v1` leases.
    public static let leases = KubeResource(group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases")
    /// OpenKruise `apps.kruise.io/v1alpha1` CloneSets.
    public static let cloneSets = KubeResource(
        group: "apps.kruise.io",
        version: "v1alpha1",
        kind: "CloneSet",
        plural: "clonesets"
    )
}
