import TritonJSON

/// Validation of incoming objects, with the field paths and messages of the real API server.
enum Validation {
    static let subdomainHint =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let labelHint =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"

    static func isDNSSubdomain(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 253 else { return false }
        return s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { self.isDNSLabel(String($0), max: 63) }
    }

    static func isDNSLabel(_ s: String, max: Int = 63) -> Bool {
        let b = Array(s.utf8)
        guard !b.isEmpty, b.count <= max else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }
        guard alnum(b.first!), alnum(b.last!) else { return false }
        return b.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") }
    }

    /// Errors in the object's name.
    static func name(_ type: ResourceType, _ object: JSONValue) -> [KubeAPIError.Cause] {
        let name = object.name
        if name.isEmpty {
            if object[path: ["metadata", "generateName"]]?.stringValue?.isEmpty == false { return [] }
            return [.init(reason: "FieldValueRequired", message: "Required value: name or generateName is required", field: "metadata.name")]
        }
        let labelOnly = type == .namespaces || type == .services
        if labelOnly ? !self.isDNSLabel(name) : !self.isDNSSubdomain(name) {
            return [.invalid("metadata.name", .string(name), labelOnly ? self.labelHint : self.subdomainHint)]
        }
        return []
    }

    static func podSpec(_ spec: JSONValue?, field: String) -> [KubeAPIError.Cause] {
        guard let spec, spec.objectValue != nil else { return [.required(field)] }
        var causes: [KubeAPIError.Cause] = []
        let containers = spec["containers"]?.arrayValue ?? []
        if containers.isEmpty { causes.append(.required("\(field).containers")) }
        var seen: Set<String> = []
        for (i, container) in containers.enumerated() {
            let f = "\(field).containers[\(i)]"
            let name = container["name"]?.stringValue ?? ""
            if name.isEmpty {
                causes.append(.required("\(f).name"))
            } else if !self.isDNSLabel(name) {
                causes.append(.invalid("\(f).name", .string(name), self.labelHint))
            } else if !seen.insert(name).inserted {
                causes.append(.init(reason: "FieldValueDuplicate", message: "Duplicate value: \"\(name)\"", field: "\(f).name"))
            }
            if (container["image"]?.stringValue ?? "").isEmpty { causes.append(.required("\(f).image")) }
        }
        if let grace = spec["terminationGracePeriodSeconds"], let g = grace.intValue, g < 0 {
            causes.append(.invalid("\(field).terminationGracePeriodSeconds", grace, "must be greater than or equal to 0"))
        }
        if let policy = spec["restartPolicy"]?.stringValue, !["Always", "OnFailure", "Never"].contains(policy) {
            causes.append(
                .init(
                    reason: "FieldValueNotSupported",
                    message: "Unsupported value: \"\(policy)\": supported values: \"Always\", \"OnFailure\", \"Never\"",
                    field: "\(field).restartPolicy"))
        }
        return causes
    }

    /// An int-or-percent value such as `partition`, `maxSurge`, `maxUnavailable`.
    static func intOrPercent(_ value: JSONValue?, field: String) -> [KubeAPIError.Cause] {
        guard let value, !value.isNull else { return [] }
        switch value {
        case .int(let i) where i >= 0: return []
        case .int: return [.invalid(field, value, "must be greater than or equal to 0")]
        case .string(let s):
            if s.hasSuffix("%"), let p = Int(s.dropLast()), p >= 0 { return [] }
            return [.invalid(field, value, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")]
        default:
            return [.invalid(field, value, "must be an integer or percentage")]
        }
    }

    static func cloneSet(_ object: JSONValue) -> [KubeAPIError.Cause] {
        var causes: [KubeAPIError.Cause] = []
        let spec = object["spec"] ?? .emptyObject
        if let replicas = spec["replicas"], (replicas.intValue ?? -1) < 0 {
            causes.append(.invalid("spec.replicas", replicas, "must be greater than or equal to 0"))
        }
        let templateLabels = spec[path: ["template", "metadata", "labels"]] ?? .emptyObject
        if let selectorObject = spec["selector"], selectorObject.objectValue != nil {
            if let selector = try? LabelSelector(object: selectorObject) {
                if selector.requirements.isEmpty {
                    causes.append(.invalid("spec.selector", selectorObject, "empty selector is invalid for cloneset"))
                } else if !selector.matches(templateLabels.objectValue?.compactMapValues(\.stringValue) ?? [:]) {
                    causes.append(.invalid("spec.template.metadata.labels", templateLabels, "`selector` does not match template `labels`"))
                }
            } else {
                causes.append(.invalid("spec.selector", selectorObject, "invalid label selector"))
            }
        } else {
            causes.append(.required("spec.selector"))
        }
        causes += self.podSpec(spec[path: ["template", "spec"]], field: "spec.template.spec")
        let strategy = spec["updateStrategy"] ?? .emptyObject
        if let type = strategy["type"]?.stringValue, !["ReCreate", "InPlaceIfPossible", "InPlaceOnly"].contains(type) {
            causes.append(
                .init(
                    reason: "FieldValueNotSupported",
                    message: "Unsupported value: \"\(type)\": supported values: \"ReCreate\", \"InPlaceIfPossible\", \"InPlaceOnly\"",
                    field: "spec.updateStrategy.type"))
        }
        for key in ["partition", "maxSurge", "maxUnavailable"] {
            causes += self.intOrPercent(strategy[key], field: "spec.updateStrategy.\(key)")
        }
        if strategy["type"]?.stringValue == "InPlaceOnly", let surge = strategy["maxSurge"], surge != .int(0), surge != "0%", !surge.isNull {
            causes.append(.invalid("spec.updateStrategy.maxSurge", surge, "can not use maxSurge with strategy type InPlaceOnly"))
        }
        causes += self.intOrPercent(spec[path: ["scaleStrategy", "maxUnavailable"]], field: "spec.scaleStrategy.maxUnavailable")
        if let list = spec[path: ["scaleStrategy", "podsToDelete"]], !list.isNull, list.arrayValue == nil {
            causes.append(.invalid("spec.scaleStrategy.podsToDelete", list, "must be a list of pod names"))
        }
        return causes
    }

    static func service(_ object: JSONValue) -> [KubeAPIError.Cause] {
        var causes: [KubeAPIError.Cause] = []
        for (i, port) in (object[path: ["spec", "ports"]]?.arrayValue ?? []).enumerated() {
            if let p = port["port"]?.intValue, p > 0, p < 65536 { continue }
            causes.append(.invalid("spec.ports[\(i)].port", port["port"] ?? .null, "must be between 1 and 65535, inclusive"))
        }
        return causes
    }

    /// Pod spec changes an update may make (images, activeDeadlineSeconds, tolerations, grace period).
    static func podUpdate(old: JSONValue, new: JSONValue) -> [KubeAPIError.Cause] {
        guard var newSpec = new["spec"], let oldSpec = old["spec"] else { return [] }
        for list in ["containers", "initContainers"] {
            guard var newList = newSpec[list]?.arrayValue, let oldList = oldSpec[list]?.arrayValue,
                newList.count == oldList.count
            else { continue }
            for i in newList.indices { newList[i]["image"] = oldList[i]["image"] }
            newSpec[list] = .array(newList)
        }
        for key in ["activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"] { newSpec[key] = oldSpec[key] }
        if newSpec == oldSpec { return [] }
        return [
            .forbidden(
                "spec",
                "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
            )
        ]
    }
}
