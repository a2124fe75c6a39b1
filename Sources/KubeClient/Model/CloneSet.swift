import TritonJSON

/// An OpenKruise `apps.kruise.io/v1alpha1` CloneSet.
public struct CloneSet: KubeObject {
    /// Where these objects live in the API; see ``KubeObject/resource``.
    public static let resource = KubeResource.cloneSets
    /// The whole object as a JSON tree; unknown fields are kept.
    public var json: JSONValue
    /// Wraps a JSON tree without validating it.
    public init(json: JSONValue) { self.json = json }

    /// `spec.replicas` (Kruise defaults it to 1).
    public var replicas: Int? {
        get { self.json.int(at: ["spec", "replicas"]) }
        set { self.json[path: ["spec", "replicas"]] = newValue.map { .int($0) } }
    }
    /// `spec.updateStrategy.partition`: pods kept at old revisions.
    public var partition: IntOrString? {
        get { IntOrString(json: self.json[path: ["spec", "updateStrategy", "partition"]]) }
        set { self.json[path: ["spec", "updateStrategy", "partition"]] = newValue?.json }
    }
    /// `spec.updateStrategy.maxSurge`.
    public var maxSurge: IntOrString? {
        get { IntOrString(json: self.json[path: ["spec", "updateStrategy", "maxSurge"]]) }
        set { self.json[path: ["spec", "updateStrategy", "maxSurge"]] = newValue?.json }
    }
    /// `spec.updateStrategy.maxUnavailable`.
    public var maxUnavailable: IntOrString? {
        get { IntOrString(json: self.json[path: ["spec", "updateStrategy", "maxUnavailable"]]) }
        set { self.json[path: ["spec", "updateStrategy", "maxUnavailable"]] = newValue?.json }
    }
    /// `spec.updateStrategy.paused`.
    public var paused: Bool {
        get { self.json[path: ["spec", "updateStrategy", "paused"]]?.boolValue ?? false }
        set { self.json[path: ["spec", "updateStrategy", "paused"]] = .bool(newValue) }
    }
    /// `spec.scaleStrategy.podsToDelete`.
    public var podsToDelete: [String] {
        get { self.json[path: ["spec", "scaleStrategy", "podsToDelete"]]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        set { self.json[path: ["spec", "scaleStrategy", "podsToDelete"]] = .array(newValue.map(JSONValue.string)) }
    }
    /// `spec.template` as a raw tree.
    public var template: JSONValue {
        get { self.json[path: ["spec", "template"]] ?? .object([:]) }
        set { self.json[path: ["spec", "template"]] = newValue }
    }

    /// The CloneSet's `status`, typed.
    public var cloneSetStatus: Status { Status(json: self.json["status"] ?? .object([:])) }

    /// Typed read access to `status`.
    public struct Status: Sendable, Hashable {
        /// The whole object as a JSON tree; unknown fields are kept.
        public var json: JSONValue
        /// The `observedGeneration` field.
        public var observedGeneration: Int? { self.json["observedGeneration"]?.intValue }
        /// The `replicas` field.
        public var replicas: Int { self.json["replicas"]?.intValue ?? 0 }
        /// The `readyReplicas` field.
        public var readyReplicas: Int { self.json["readyReplicas"]?.intValue ?? 0 }
        /// The `availableReplicas` field.
        public var availableReplicas: Int { self.json["availableReplicas"]?.intValue ?? 0 }
        /// The `updatedReplicas` field.
        public var updatedReplicas: Int { self.json["updatedReplicas"]?.intValue ?? 0 }
        /// The `updatedReadyReplicas` field.
        public var updatedReadyReplicas: Int { self.json["updatedReadyReplicas"]?.intValue ?? 0 }
        /// The `expectedUpdatedReplicas` field.
        public var expectedUpdatedReplicas: Int? { self.json["expectedUpdatedReplicas"]?.intValue }
        /// The `updateRevision` field.
        public var updateRevision: String? { self.json["updateRevision"]?.stringValue }
        /// The `currentRevision` field.
        public var currentRevision: String? { self.json["currentRevision"]?.stringValue }
        /// The `labelSelector` field.
        public var labelSelector: String? { self.json["labelSelector"]?.stringValue }
    }
}
