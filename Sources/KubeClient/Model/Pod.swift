import TritonJSON

/// A core `v1` Pod.
public struct Pod: KubeObject {
    /// Where these objects live in the API; see ``KubeObject/resource``.
    public static let resource = KubeResource.pods
    /// The whole object as a JSON tree; unknown fields are kept.
    public var json: JSONValue
    /// Wraps a JSON tree without validating it.
    public init(json: JSONValue) { self.json = json }

    /// `status.phase`: `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`.
    public var phase: String? { self.json.string(at: ["status", "phase"]) }
    /// `status.podIP`.
    public var podIP: String? { self.json.string(at: ["status", "podIP"]) }
    /// `spec.nodeName`.
    public var nodeName: String? { self.json.string(at: ["spec", "nodeName"]) }
    /// `spec.readinessGates[].conditionType`.
    public var readinessGates: [String] {
        self.json[path: ["spec", "readinessGates"]]?.arrayValue?.compactMap { $0["conditionType"]?.stringValue } ?? []
    }
    /// `status.conditions`.
    public var conditions: [PodCondition] {
        self.json[path: ["status", "conditions"]]?.arrayValue?.compactMap(PodCondition.init(json:)) ?? []
    }
    /// The condition of `type`, if present.
    public func condition(_ type: String) -> PodCondition? { self.conditions.first { $0.type == type } }
    /// Whether condition `Ready` is `True`.
    public var isReady: Bool { self.condition("Ready")?.status == "True" }
    /// Whether condition `ContainersReady` is `True`.
    public var containersReady: Bool { self.condition("ContainersReady")?.status == "True" }
    /// The sum of `status.containerStatuses[].restartCount`.
    public var restartCount: Int {
        (self.json[path: ["status", "containerStatuses"]]?.arrayValue ?? []).reduce(0) {
            $0 + ($1["restartCount"]?.intValue ?? 0)
        }
    }
}

/// One entry of a pod's `status.conditions`.
public struct PodCondition: Sendable, Hashable {
    /// The `type` field.
    public var type: String
    /// `True`, `False` or `Unknown`.
    public var status: String
    /// The `reason` field.
    public var reason: String?
    /// The `message` field.
    public var message: String?
    /// The `lastTransitionTime` field.
    public var lastTransitionTime: String?

    /// Creates a value with the given fields.
    public init(type: String, status: String, reason: String? = nil, message: String? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
    }

    init?(json: JSONValue) {
        guard let type = json["type"]?.stringValue, let status = json["status"]?.stringValue else { return nil }
        self.type = type
        self.status = status
        self.reason = json["reason"]?.stringValue
        self.message = json["message"]?.stringValue
        self.lastTransitionTime = json["lastTransitionTime"]?.stringValue
    }

    /// The condition as a JSON tree (for patches).
    public var json: JSONValue {
        var tree: JSONValue = ["type": .string(self.type), "status": .string(self.status)]
        if let reason { tree["reason"] = .string(reason) }
        if let message { tree["message"] = .string(message) }
        if let lastTransitionTime { tree["lastTransitionTime"] = .string(lastTransitionTime) }
        return tree
    }
}
