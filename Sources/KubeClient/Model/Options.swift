import TritonJSON

/// Options of a list call.
public struct ListOptions: Sendable, Hashable {
    /// A label selector, e.g. `app=demo,tier in (web,api)`.
    public var labelSelector: String?
    /// A field selector, e.g. `status.phase=Running`.
    public var fieldSelector: String?
    /// The page size; `nil` returns everything in one response.
    public var limit: Int?
    /// The token of the page to fetch, from ``KubeList/continueToken``.
    public var continueToken: String?
    /// `resourceVersion` semantics of the list (e.g. `"0"` for any cached version).
    public var resourceVersion: String?
    /// `Exact` or `NotOlderThan`, with ``resourceVersion``.
    public var resourceVersionMatch: String?

    /// Creates list options.
    public init(
        labelSelector: String? = nil,
        fieldSelector: String? = nil,
        limit: Int? = nil,
        continueToken: String? = nil,
        resourceVersion: String? = nil,
        resourceVersionMatch: String? = nil
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
        self.resourceVersion = resourceVersion
        self.resourceVersionMatch = resourceVersionMatch
    }

    var queryItems: [(String, String)] {
        var items: [(String, String)] = []
        if let labelSelector { items.append(("labelSelector", labelSelector)) }
        if let fieldSelector { items.append(("fieldSelector", fieldSelector)) }
        if let limit { items.append(("limit", String(limit))) }
        if let continueToken { items.append(("continue", continueToken)) }
        if let resourceVersion { items.append(("resourceVersion", resourceVersion)) }
        if let resourceVersionMatch { items.append(("resourceVersionMatch", resourceVersionMatch)) }
        return items
    }
}

/// Options of a delete call.
public struct DeleteOptions: Sendable, Hashable {
    /// Seconds the pod gets to terminate; `0` deletes immediately. `nil` uses the object's default.
    public var gracePeriodSeconds: Int?
    /// Delete only if the object still has this UID.
    public var preconditionUID: String?
    /// Delete only if the object still has this resourceVersion.
    public var preconditionResourceVersion: String?
    /// `Orphan`, `Background` or `Foreground`.
    public var propagationPolicy: String?

    /// Creates delete options.
    public init(
        gracePeriodSeconds: Int? = nil,
        preconditionUID: String? = nil,
        preconditionResourceVersion: String? = nil,
        propagationPolicy: String? = nil
    ) {
        self.gracePeriodSeconds = gracePeriodSeconds
        self.preconditionUID = preconditionUID
        self.preconditionResourceVersion = preconditionResourceVersion
        self.propagationPolicy = propagationPolicy
    }

    var body: JSONValue {
        var body: JSONValue = ["apiVersion": "v1", "kind": "DeleteOptions"]
        if let gracePeriodSeconds { body["gracePeriodSeconds"] = .int(gracePeriodSeconds) }
        if let propagationPolicy { body["propagationPolicy"] = .string(propagationPolicy) }
        if preconditionUID != nil || preconditionResourceVersion != nil {
            var preconditions: JSONValue = [:]
            if let preconditionUID { preconditions["uid"] = .string(preconditionUID) }
            if let preconditionResourceVersion { preconditions["resourceVersion"] = .string(preconditionResourceVersion) }
            body["preconditions"] = preconditions
        }
        return body
    }
}

/// Options of a watch.
public struct WatchOptions: Sendable, Hashable {
    /// A label selector.
    public var labelSelector: String?
    /// A field selector.
    public var fieldSelector: String?
    /// Start after this resourceVersion (from a list). `nil` starts with synthetic `ADDED` events for every
    /// existing object.
    public var resourceVersion: String?
    /// Ask for `BOOKMARK` events, which advance the resume point without a change. Defaults to `true`.
    public var allowBookmarks: Bool

    /// Creates watch options.
    public init(
        labelSelector: String? = nil,
        fieldSelector: String? = nil,
        resourceVersion: String? = nil,
        allowBookmarks: Bool = true
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.resourceVersion = resourceVersion
        self.allowBookmarks = allowBookmarks
    }
}
