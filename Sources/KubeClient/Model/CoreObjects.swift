import TritonJSON

/// A core `v1` Event.
public struct Event: KubeObject {
    /// Where these objects live in the API; see ``KubeObject/resource``.
    public static let resource = KubeResource.events
    /// The whole object as a JSON tree; unknown fields are kept.
    public var json: JSONValue
    /// Wraps a JSON tree without validating it.
    public init(json: JSONValue) { self.json = json }

    /// `Normal` or `Warning`.
    public var type: String? { self.json["type"]?.stringValue }
    /// The `reason` field.
    public var reason: String? { self.json["reason"]?.stringValue }
    /// The `message` field.
    public var message: String? { self.json["message"]?.stringValue }
    /// The `count` field.
    public var count: Int? { self.json["count"]?.intValue }
    /// `involvedObject` as a raw tree (`kind`, `name`, `namespace`, `uid`, ...).
    public var involvedObject: JSONValue { self.json["involvedObject"] ?? .object([:]) }
    /// The `lastTimestamp` field.
    public var lastTimestamp: String? { self.json["lastTimestamp"]?.stringValue }
}

/// A core `v1` Service.
public struct Service: KubeObject {
    /// Where these objects live in the API; see ``KubeObject/resource``.
    public static let resource = KubeResource.services
    /// The whole object as a JSON tree; unknown fields are kept.
    public var json: JSONValue
    /// Wraps a JSON tree without validating it.
    public init(json: JSONValue) { self.json = json }

    /// `spec.selector`.
    public var selector: [String: String] {
        get { self.json[path: ["spec", "selector"]]?.stringMap ?? [:] }
        set { self.json[path: ["spec", "selector"]] = JSONValue(stringMap: newValue) }
    }
    /// `spec.clusterIP`.
    public var clusterIP: String? { self.json.string(at: ["spec", "clusterIP"]) }
    /// `spec.type` (`ClusterIP`, `NodePort`, `LoadBalancer`, `ExternalName`).
    public var serviceType: String? { self.json.string(at: ["spec", "type"]) }
}

/// A core `v1` Endpoints object.
public struct Endpoints: KubeObject {
    /// Where these objects live in the API; see ``KubeObject/resource``.
    public static let resource = KubeResource.endpoints
    /// The whole object as a JSON tree; unknown fields are kept.
    public var json: JSONValue
    /// Wraps a JSON tree without validating it.
    public init(json: JSONValue) { self.json = json }

    /// The IPs of ready addresses across all subsets.
    public var readyAddresses: [String] { self.addresses("addresses") }
    /// The IPs of not-ready addresses across all subsets.
    public var notReadyAddresses: [String] { self.addresses("notReadyAddresses") }

    private func addresses(_ key: String) -> [String] {
        (self.json["subsets"]?.arrayValue ?? []).flatMap { subset in
            (subset[key]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }
        }
    }
}

/// A `coordination.k8s.io/v1` Lease, for leader election and flow ownership.
public struct Lease: KubeObject {
    /// Where these objects live in the API; see ``KubeObject/resource``.
    public static let resource = KubeResource.leases
    /// The whole object as a JSON tree; unknown fields are kept.
    public var json: JSONValue
    /// Wraps a JSON tree without validating it.
    public init(json: JSONValue) { self.json = json }

    /// `spec.holderIdentity`.
    public var holderIdentity: String? {
        get { self.json.string(at: ["spec", "holderIdentity"]) }
        set { self.json[path: ["spec", "holderIdentity"]] = newValue.map(JSONValue.string) }
    }
    /// `spec.leaseDurationSeconds`.
    public var leaseDurationSeconds: Int? {
        get { self.json.int(at: ["spec", "leaseDurationSeconds"]) }
        set { self.json[path: ["spec", "leaseDurationSeconds"]] = newValue.map { .int($0) } }
    }
    /// `spec.acquireTime` (RFC 3339 with microseconds).
    public var acquireTime: String? {
        get { self.json.string(at: ["spec", "acquireTime"]) }
        set { self.json[path: ["spec", "acquireTime"]] = newValue.map(JSONValue.string) }
    }
    /// `spec.renewTime` (RFC 3339 with microseconds).
    public var renewTime: String? {
        get { self.json.string(at: ["spec", "renewTime"]) }
        set { self.json[path: ["spec", "renewTime"]] = newValue.map(JSONValue.string) }
    }
    /// `spec.leaseTransitions`.
    public var leaseTransitions: Int? {
        get { self.json.int(at: ["spec", "leaseTransitions"]) }
        set { self.json[path: ["spec", "leaseTransitions"]] = newValue.map { .int($0) } }
    }
}
