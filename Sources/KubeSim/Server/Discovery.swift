import TritonJSON

/// Discovery documents (`/version`, `/api`, `/apis`, resource lists), so kubectl and client-go
/// find the served resources, their verbs, short names and subresources.
enum Discovery {
    static func version() -> JSONValue {
        [
            "major": "1", "minor": "32", "gitVersion": "v1.32.0-triton-sim", "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean", "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23.0", "compiler": "gc",
            "platform": "linux/amd64",
        ]
    }

    static func coreVersions(serverAddress: String) -> JSONValue {
        [
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]],
        ]
    }

    static var groups: [(name: String, version: String)] {
        var seen: [(String, String)] = []
        for type in ResourceType.all where !type.group.isEmpty && !seen.contains(where: { $0.0 == type.group }) {
            seen.append((type.group, type.version))
        }
        return seen
    }

    static func group(_ name: String, _ version: String) -> JSONValue {
        let gv: JSONValue = ["groupVersion": .string("\(name)/\(version)"), "version": .string(version)]
        return ["name": .string(name), "versions": [gv], "preferredVersion": gv]
    }

    static func groupList() -> JSONValue {
        ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(self.groups.map { self.group($0.name, $0.version) })]
    }

    static func groupDocument(_ name: String) -> JSONValue? {
        guard let g = self.groups.first(where: { $0.name == name }) else { return nil }
        var doc = self.group(g.name, g.version)
        doc["kind"] = "APIGroup"
        doc["apiVersion"] = "v1"
        return doc
    }

    /// The APIResourceList of a group version, or nil when it is not served.
    static func resourceList(group: String, version: String) -> JSONValue? {
        let types = ResourceType.all.filter { $0.group == group && $0.version == version }
        guard !types.isEmpty else { return nil }
        var resources: [JSONValue] = []
        for type in types {
            var r: JSONValue = [
                "name": .string(type.plural), "singularName": .string(type.singular), "namespaced": .bool(type.namespaced),
                "kind": .string(type.kind), "verbs": .array(type.verbs.map { .string($0) }),
            ]
            if !type.shortNames.isEmpty { r["shortNames"] = .array(type.shortNames.map { .string($0) }) }
            if !type.categories.isEmpty { r["categories"] = .array(type.categories.map { .string($0) }) }
            resources.append(r)
            for sub in type.subresources.sorted() {
                var s: JSONValue = [
                    "name": .string("\(type.plural)/\(sub)"), "singularName": "", "namespaced": .bool(type.namespaced),
                    "kind": .string(type.kind), "verbs": ["get", "patch", "update"],
                ]
                if sub == "scale" {
                    s["group"] = "autoscaling"
                    s["version"] = "v1"
                    s["kind"] = "Scale"
                }
                resources.append(s)
            }
        }
        return [
            "kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"), "resources": .array(resources),
        ]
    }
}

/// A minimal OpenAPI v3 description: for each served kind, a PATCH operation that accepts the
/// `fieldValidation` query parameter. That is what kubectl checks before it leaves field
/// validation to the server (`kubectl apply --validate=strict`, the default).
enum OpenAPIDocuments {
    static func groupVersions() -> [(path: String, group: String, version: String)] {
        var out: [(String, String, String)] = [("api/v1", "", "v1")]
        for g in Discovery.groups { out.append(("apis/\(g.name)/\(g.version)", g.name, g.version)) }
        return out
    }

    static func root() -> JSONValue {
        var paths: [String: JSONValue] = [:]
        for gv in self.groupVersions() {
            paths[gv.path] = ["serverRelativeURL": .string("/openapi/v3/\(gv.path)?hash=\(gv.group.isEmpty ? "core" : gv.group)")]
        }
        return ["paths": .object(paths)]
    }

    static func document(path: String) -> JSONValue? {
        guard let gv = self.groupVersions().first(where: { $0.path == path }) else { return nil }
        var paths: [String: JSONValue] = [:]
        let parameter: JSONValue = [
            "name": "fieldValidation", "in": "query", "description": "fieldValidation instructs the server on how to handle objects in the request",
            "schema": ["type": "string", "uniqueItems": true],
        ]
        for type in ResourceType.all where type.group == gv.group && type.version == gv.version {
            let base = type.namespaced ? type.collectionPath(namespace: "{namespace}") : type.collectionPath(namespace: nil)
            let gvk: JSONValue = ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)]
            let operation: JSONValue = [
                "operationId": .string("patch\(type.kind)"), "x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk,
                "parameters": [parameter], "responses": ["200": ["description": "OK"]],
            ]
            paths["\(base)/{name}"] = ["patch": operation]
            var post = operation
            post["operationId"] = .string("create\(type.kind)")
            post["x-kubernetes-action"] = "post"
            paths[base] = ["post": post]
        }
        return [
            "openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.32.0-triton-sim"], "paths": .object(paths),
            "components": ["schemas": .emptyObject],
        ]
    }
}
