import TritonJSON

/// Typed access to the `metadata` of a Kubernetes object held as a JSON tree.
extension JSONValue {
    public var name: String { self[path: ["metadata", "name"]]?.stringValue ?? "" }
    public var namespace: String { self[path: ["metadata", "namespace"]]?.stringValue ?? "" }
    public var uid: String { self[path: ["metadata", "uid"]]?.stringValue ?? "" }
    public var resourceVersion: String { self[path: ["metadata", "resourceVersion"]]?.stringValue ?? "" }
    public var isTerminating: Bool { self[path: ["metadata", "deletionTimestamp"]].map { !$0.isNull } ?? false }

    public var labels: [String: String] {
        guard let o = self[path: ["metadata", "labels"]]?.objectValue else { return [:] }
        var out: [String: String] = [:]
        out.reserveCapacity(o.count)
        for (k, v) in o {
            if let s = v.stringValue { out[k] = s }
        }
        return out
    }

    public var annotations: [String: String] {
        guard let o = self[path: ["metadata", "annotations"]]?.objectValue else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in o {
            if let s = v.stringValue { out[k] = s }
        }
        return out
    }

    public func label(_ key: String) -> String? { self[path: ["metadata", "labels", key]]?.stringValue }
    public func annotation(_ key: String) -> String? { self[path: ["metadata", "annotations", key]]?.stringValue }

    public var finalizers: [String] { (self[path: ["metadata", "finalizers"]]?.arrayValue ?? []).compactMap(\.stringValue) }

    /// The uid of the controlling owner, if any.
    var controllerUID: String? {
        for ref in self[path: ["metadata", "ownerReferences"]]?.arrayValue ?? [] where ref["controller"]?.boolValue == true {
            return ref["uid"]?.stringValue
        }
        return nil
    }

    var ownerUIDs: [String] {
        (self[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).compactMap { $0["uid"]?.stringValue }
    }

    static func labelsObject(_ labels: [String: String]) -> JSONValue {
        .object(labels.mapValues { .string($0) })
    }
}
