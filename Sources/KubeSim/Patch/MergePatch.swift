import TritonJSON

/// JSON merge patch (RFC 7386, `application/merge-patch+json`): objects merge member by member,
/// `null` removes a member, anything else (lists included) replaces.
enum MergePatch {
    static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, value) in patchMembers {
            if value.isNull {
                result[key] = nil
            } else {
                result[key] = self.apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }
}
