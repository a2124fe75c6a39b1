import TritonJSON

/// Strategic merge patch (`application/strategic-merge-patch+json`) with the merge keys of the
/// Kubernetes types served here: lists such as pod `status.conditions` (by `type`) and
/// `spec.containers` (by `name`) merge element by element instead of being replaced.
///
/// Supported directives: `$patch: replace | delete | merge` on maps and list elements,
/// `$retainKeys`, `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`.
enum StrategicMergePatch {
    enum ListStrategy: Equatable {
        case mergeByKey(String)
        case mergePrimitives
    }

    /// The patch strategy of the list at `path` (object member names; list elements are transparent).
    static func strategy(at path: [String]) -> ListStrategy? {
        guard let last = path.last else { return nil }
        let parent = path.dropLast().last
        switch last {
        case "containers", "initContainers", "ephemeralContainers":
            return .mergeByKey("name")
        case "env", "volumes", "imagePullSecrets":
            return .mergeByKey("name")
        case "volumeMounts":
            return .mergeByKey("mountPath")
        case "volumeDevices":
            return .mergeByKey("devicePath")
        case "hostAliases":
            return .mergeByKey("ip")
        case "conditions" where parent == "status":
            return .mergeByKey("type")
        case "addresses" where parent == "status":
            return .mergeByKey("type")
        case "ownerReferences" where parent == "metadata":
            return .mergeByKey("uid")
        case "finalizers" where parent == "metadata":
            return .mergePrimitives
        case "ports":
            let grand = path.dropLast().last
            if grand == "spec" && !path.contains("containers") { return .mergeByKey("port") }
            return .mergeByKey("containerPort")
        default:
            return nil
        }
    }

    static func apply(_ patch: JSONValue, to original: JSONValue) throws(KubeAPIError) -> JSONValue {
        guard case .object = patch else {
            throw KubeAPIError.badRequest("strategic merge patch: the patch must be a JSON object")
        }
        return try self.mergeMap(original, patch, path: []) ?? .emptyObject
    }

    /// Merges a map; nil means "delete this map".
    private static func mergeMap(_ original: JSONValue, _ patch: JSONValue, path: [String]) throws(KubeAPIError) -> JSONValue? {
        guard var patchMembers = patch.objectValue else { return patch }
        if let directive = patchMembers.removeValue(forKey: "$patch")?.stringValue {
            switch directive {
            case "replace": return .object(self.stripDirectives(patchMembers))
            case "delete": return nil
            case "merge": break
            default: throw KubeAPIError.badRequest("Unknown patch type: \(directive) in map: \(patch)")
            }
        }
        let retainKeys = patchMembers.removeValue(forKey: "$retainKeys")?.arrayValue?.compactMap(\.stringValue)
        var result = original.objectValue ?? [:]
        var orders: [String: [JSONValue]] = [:]
        var deletions: [String: [JSONValue]] = [:]
        for key in patchMembers.keys where key.hasPrefix("$") {
            let value = patchMembers.removeValue(forKey: key)!
            if key.hasPrefix("$setElementOrder/") {
                orders[String(key.dropFirst("$setElementOrder/".count))] = value.arrayValue ?? []
            } else if key.hasPrefix("$deleteFromPrimitiveList/") {
                deletions[String(key.dropFirst("$deleteFromPrimitiveList/".count))] = value.arrayValue ?? []
            } else {
                throw KubeAPIError.badRequest("unknown strategic merge patch directive \(key)")
            }
        }
        for (key, value) in patchMembers {
            let childPath = path + [key]
            if value.isNull {
                result[key] = nil
                continue
            }
            switch value {
            case .object:
                if let merged = try self.mergeMap(result[key] ?? .emptyObject, value, path: childPath) {
                    result[key] = merged
                } else {
                    result[key] = nil
                }
            case .array(let patchList):
                switch self.strategy(at: childPath) {
                case .mergeByKey(let mergeKey):
                    result[key] = .array(
                        try self.mergeList(result[key]?.arrayValue ?? [], patchList, key: mergeKey, path: childPath))
                case .mergePrimitives:
                    var list = result[key]?.arrayValue ?? []
                    for element in patchList where !list.contains(element) { list.append(element) }
                    result[key] = .array(list)
                case nil:
                    result[key] = .array(patchList.map(self.stripDirectivesDeep))
                }
            default:
                result[key] = value
            }
        }
        for (key, values) in deletions {
            if let list = result[key]?.arrayValue { result[key] = .array(list.filter { !values.contains($0) }) }
        }
        for (key, order) in orders {
            guard let list = result[key]?.arrayValue else { continue }
            result[key] = .array(self.reorder(list, by: order, path: path + [key]))
        }
        if let retainKeys {
            let keep = Set(retainKeys)
            result = result.filter { keep.contains($0.key) }
        }
        return .object(result)
    }

    private static func mergeList(
        _ original: [JSONValue], _ patch: [JSONValue], key: String, path: [String]
    ) throws(KubeAPIError) -> [JSONValue] {
        if patch.contains(where: { $0["$patch"]?.stringValue == "replace" }) {
            return patch.filter { $0["$patch"]?.stringValue != "replace" }.map(self.stripDirectivesDeep)
        }
        var result = original
        for element in patch {
            guard element.objectValue != nil else {
                throw KubeAPIError.badRequest("strategic merge patch: list element \(element) is not an object")
            }
            guard let keyValue = element[key] else {
                throw KubeAPIError.badRequest("map: \(element) does not contain declared merge key: \(key)")
            }
            let index = result.firstIndex { $0[key] == keyValue }
            if element["$patch"]?.stringValue == "delete" {
                result.removeAll { $0[key] == keyValue }
                continue
            }
            if let index {
                if let merged = try self.mergeMap(result[index], element, path: path) {
                    result[index] = merged
                } else {
                    result.remove(at: index)
                }
            } else if let merged = try self.mergeMap(.emptyObject, element, path: path) {
                result.append(merged)
            }
        }
        return result
    }

    private static func reorder(_ list: [JSONValue], by order: [JSONValue], path: [String]) -> [JSONValue] {
        let keyOf: (JSONValue) -> JSONValue?
        switch self.strategy(at: path) {
        case .mergeByKey(let k): keyOf = { $0[k] }
        default: keyOf = { $0 }
        }
        let orderKeys: [JSONValue] = order.map { element in
            if case .mergeByKey(let k) = self.strategy(at: path) { return element[k] ?? element }
            return element
        }
        var ordered: [JSONValue] = []
        var rest = list
        for wanted in orderKeys {
            if let i = rest.firstIndex(where: { keyOf($0) == wanted }) { ordered.append(rest.remove(at: i)) }
        }
        return ordered + rest
    }

    private static func stripDirectives(_ members: [String: JSONValue]) -> [String: JSONValue] {
        members.filter { !$0.key.hasPrefix("$") }.mapValues(self.stripDirectivesDeep)
    }

    private static func stripDirectivesDeep(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let o): .object(self.stripDirectives(o))
        case .array(let a): .array(a.map(self.stripDirectivesDeep))
        default: value
        }
    }
}
