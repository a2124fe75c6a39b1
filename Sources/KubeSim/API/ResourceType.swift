/// One kind of object the simulated API server serves, with the registry behaviour of its real
/// counterpart (scope, subresources, update rules).
public struct ResourceType: Hashable, Sendable, CustomStringConvertible {
    public var group: String
    public var version: String
    /// Plural resource name, e.g. `pods`.
    public var plural: String
    public var singular: String
    public var kind: String
    public var namespaced: Bool
    public var shortNames: [String]
    public var categories: [String]
    /// Subresources besides the object itself: `status`, `scale`.
    public var subresources: Set<String>
    /// Custom resources (CRDs) refuse strategic merge patches and unconditional updates.
    public var isCustomResource: Bool
    /// A PUT to a missing object creates it.
    public var allowCreateOnUpdate: Bool
    /// `metadata.generation` is maintained (bumped when the spec changes).
    public var tracksGeneration: Bool
    /// Field selectors accepted besides `metadata.name` and `metadata.namespace`.
    public var extraFieldSelectors: Set<String>

    public var apiVersion: String { self.group.isEmpty ? self.version : "\(self.group)/\(self.version)" }
    /// `pods`, `clonesets.apps.kruise.io`: how errors name the resource.
    public var groupResource: String { self.group.isEmpty ? self.plural : "\(self.plural).\(self.group)" }
    public var listKind: String { self.kind + "List" }
    public var description: String { self.groupResource }

    public var verbs: [String] { ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"] }

    /// The URL path of the collection, e.g. `/api/v1/namespaces/ns/pods`.
    public func collectionPath(namespace: String?) -> String {
        let root = self.group.isEmpty ? "/api/\(self.version)" : "/apis/\(self.group)/\(self.version)"
        if self.namespaced, let namespace { return "\(root)/namespaces/\(namespace)/\(self.plural)" }
        return "\(root)/\(self.plural)"
    }

    init(
        group: String = "", version: String = "v1", plural: String, singular: String, kind: String,
        namespaced: Bool = true, shortNames: [String] = [], categories: [String] = [],
        subresources: Set<String> = [], isCustomResource: Bool = false, allowCreateOnUpdate: Bool = false,
        tracksGeneration: Bool = false, extraFieldSelectors: Set<String> = []
    ) {
        self.group = group
        self.version = version
        self.plural = plural
        self.singular = singular
        self.kind = kind
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.categories = categories
        self.subresources = subresources
        self.isCustomResource = isCustomResource
        self.allowCreateOnUpdate = allowCreateOnUpdate
        self.tracksGeneration = tracksGeneration
        self.extraFieldSelectors = extraFieldSelectors
    }

    // MARK: - The served resources

    public static let namespaces = ResourceType(
        plural: "namespaces", singular: "namespace", kind: "Namespace", namespaced: false, shortNames: ["ns"],
        subresources: ["status"], extraFieldSelectors: ["status.phase"])
    public static let nodes = ResourceType(
        plural: "nodes", singular: "node", kind: "Node", namespaced: false, shortNames: ["no"],
        subresources: ["status"], extraFieldSelectors: ["spec.unschedulable"])
    public static let pods = ResourceType(
        plural: "pods", singular: "pod", kind: "Pod", shortNames: ["po"], categories: ["all"],
        subresources: ["status"],
        extraFieldSelectors: [
            "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
            "status.phase", "status.podIP", "status.nominatedNodeName",
        ])
    public static let events = ResourceType(
        plural: "events", singular: "event", kind: "Event", shortNames: ["ev"], allowCreateOnUpdate: true,
        extraFieldSelectors: [
            "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
            "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
            "reportingComponent", "source", "type",
        ])
    public static let services = ResourceType(
        plural: "services", singular: "service", kind: "Service", shortNames: ["svc"], categories: ["all"],
        subresources: ["status"], allowCreateOnUpdate: true)
    public static let endpoints = ResourceType(
        plural: "endpoints", singular: "endpoints", kind: "Endpoints", shortNames: ["ep"], allowCreateOnUpdate: true)
    public static let configMaps = ResourceType(
        plural: "configmaps", singular: "configmap", kind: "ConfigMap", shortNames: ["cm"])
    public static let leases = ResourceType(
        group: "coordination.k8s.io", plural: "leases", singular: "lease", kind: "Lease", allowCreateOnUpdate: true)
    public static let controllerRevisions = ResourceType(
        group: "apps", plural: "controllerrevisions", singular: "controllerrevision", kind: "ControllerRevision",
        tracksGeneration: false)
    public static let cloneSets = ResourceType(
        group: "apps.kruise.io", version: "v1alpha1", plural: "clonesets", singular: "cloneset", kind: "CloneSet",
        shortNames: ["clone"], categories: ["all"], subresources: ["status", "scale"], isCustomResource: true,
        tracksGeneration: true)

    /// Every resource the simulated cluster serves.
    public static let all: [ResourceType] = [
        .namespaces, .nodes, .pods, .events, .services, .endpoints, .configMaps, .leases, .controllerRevisions,
        .cloneSets,
    ]

    /// Finds a served resource by group, version and plural name.
    public static func find(group: String, version: String, plural: String) -> ResourceType? {
        self.all.first { $0.group == group && $0.version == version && $0.plural == plural }
    }
}
