import TritonJSON

/// One page of a list call.
public struct KubeList<Object: KubeObject>: Sendable {
    /// The objects.
    public var items: [Object]
    /// The collection's resourceVersion: watch from here to see every later change.
    public var resourceVersion: String?
    /// Pass as ``ListOptions/continueToken`` to fetch the next page; `nil` on the last page.
    public var continueToken: String?
    /// How many objects remain after this page, when the server knows.
    public var remainingItemCount: Int?

    /// Creates a list.
    public init(items: [Object], resourceVersion: String? = nil, continueToken: String? = nil) {
        self.items = items
        self.resourceVersion = resourceVersion
        self.continueToken = continueToken
    }

    init(json: JSONValue) throws {
        guard case .object = json else {
            throw KubeError(.decodingFailed, "a list response is not a JSON object")
        }
        self.items = (json["items"]?.arrayValue ?? []).map(Object.init(json:))
        self.resourceVersion = json.string(at: ["metadata", "resourceVersion"])
        let token = json.string(at: ["metadata", "continue"])
        self.continueToken = token?.isEmpty == true ? nil : token
        self.remainingItemCount = json.int(at: ["metadata", "remainingItemCount"])
    }
}
