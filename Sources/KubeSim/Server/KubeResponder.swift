import Foundation
import Hummingbird
import Logging
import NIOCore
import TritonJSON

/// Answers Kubernetes REST requests for a ``SimulatedCluster``.
public struct KubeResponder: HTTPResponder {
    public typealias Context = BasicRequestContext

    let cluster: SimulatedCluster

    init(cluster: SimulatedCluster) { self.cluster = cluster }

    public func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        do {
            return try await self.route(request, context: context)
        } catch let error as KubeAPIError {
            return Self.json(error.status, status: error.code)
        } catch {
            context.logger.debug("request failed", metadata: ["sim.error": "\(error)"])
            return Self.json(KubeAPIError.internalError("\(error)").status, status: 500)
        }
    }

    // MARK: - Routing

    private func route(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let path = request.uri.path
        let components = path.split(separator: "/").map { QueryParameters.decode(String($0)) }
        let query = QueryParameters(request.uri.query)
        if ["healthz", "livez", "readyz"].contains(components.first ?? "") {
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok")))
        }
        if let token = self.cluster.configuration.token {
            guard request.headers[.authorization] == "Bearer \(token)" else { throw KubeAPIError.unauthorized() }
        }
        if components.first == "openapi" {
            if components == ["openapi", "v3"] { return Self.json(OpenAPIDocuments.root()) }
            if components.count > 2, components[1] == "v3",
                let document = OpenAPIDocuments.document(path: components.dropFirst(2).joined(separator: "/"))
            {
                return Self.json(document)
            }
            throw KubeAPIError.pathNotFound()
        }
        switch components.count {
        case 1 where components[0] == "version":
            return Self.json(Discovery.version())
        case 1 where components[0] == "api":
            let host = request.head.authority ?? "\(self.cluster.configuration.host):\(self.cluster.port ?? 0)"
            return Self.json(Discovery.coreVersions(serverAddress: host))
        case 1 where components[0] == "apis":
            return Self.json(Discovery.groupList())
        case 2 where components[0] == "api":
            guard let list = Discovery.resourceList(group: "", version: components[1]) else { throw KubeAPIError.pathNotFound() }
            return Self.json(list)
        case 2 where components[0] == "apis":
            guard let group = Discovery.groupDocument(components[1]) else { throw KubeAPIError.pathNotFound() }
            return Self.json(group)
        case 3 where components[0] == "apis":
            guard let list = Discovery.resourceList(group: components[1], version: components[2]) else {
                throw KubeAPIError.pathNotFound()
            }
            return Self.json(list)
        default:
            break
        }
        guard let target = RequestTarget.parse(components) else { throw KubeAPIError.pathNotFound() }
        return try await self.handle(target, request: request, query: query, context: context)
    }

    private func handle(_ target: RequestTarget, request: Request, query: QueryParameters, context: BasicRequestContext) async throws
        -> Response
    {
        var request = request
        let type = target.resource
        let api = self.cluster.api
        let namespace = target.namespace ?? ""
        let dryRun = query["dryRun"] == "All"
        let wantsTable = (request.headers[.accept] ?? "").contains("as=Table")
        if let sub = target.subresource, !type.subresources.contains(sub) { throw KubeAPIError.pathNotFound() }
        if type.namespaced, target.namespace == nil, target.name != nil { throw KubeAPIError.pathNotFound() }
        if !type.namespaced, target.namespace != nil { throw KubeAPIError.pathNotFound() }

        guard let name = target.name else {
            // Collection.
            switch request.method {
            case .get:
                if query.bool("watch") || target.watchPrefix {
                    return try WatchResponder(cluster: self.cluster).watch(type, namespace: target.namespace, query: query, table: wantsTable)
                }
                return try self.list(type, namespace: target.namespace, query: query, table: wantsTable)
            case .post:
                let body = try await Self.body(&request)
                let created = try api.create(type, namespace: target.namespace, body, dryRun: dryRun)
                return Self.json(created, status: 201)
            case .delete:
                return try await self.deleteCollection(type, namespace: target.namespace, query: query, request: &request)
            default:
                throw KubeAPIError.methodNotAllowed()
            }
        }

        if target.subresource == "scale" {
            switch request.method {
            case .get:
                return Self.json(try api.scale(namespace: namespace, name: name))
            case .put:
                let body = try await Self.body(&request)
                return Self.json(try api.updateScale(namespace: namespace, name: name, body: body, patchType: nil, patch: nil))
            case .patch:
                let patchType = try Self.patchType(request)
                let body = try await Self.body(&request)
                return Self.json(try api.updateScale(namespace: namespace, name: name, body: nil, patchType: patchType, patch: body))
            default:
                throw KubeAPIError.methodNotAllowed()
            }
        }

        switch request.method {
        case .get:
            let object = try api.get(type, namespace: namespace, name: name)
            if wantsTable {
                return Self.json(
                    TableConverter.table(
                        type, [object], includeObject: query["includeObject"], listMeta: ["resourceVersion": .string(object.resourceVersion)],
                        now: Date()))
            }
            return Self.json(object)
        case .put:
            let body = try await Self.body(&request)
            let result = try api.update(type, namespace: namespace, name: name, subresource: target.subresource, body, dryRun: dryRun)
            return Self.json(result.object, status: result.created ? 201 : 200)
        case .patch:
            let patchType = try Self.patchType(request)
            let body = try await Self.body(&request)
            return Self.json(
                try api.patch(type, namespace: namespace, name: name, subresource: target.subresource, patchType: patchType, body, dryRun: dryRun))
        case .delete:
            guard target.subresource == nil else { throw KubeAPIError.methodNotAllowed() }
            let options = try await Self.deleteOptions(&request, query: query)
            let deleted = try api.delete(type, namespace: namespace, name: name, options: options)
            return Self.json(deleted)
        default:
            throw KubeAPIError.methodNotAllowed()
        }
    }

    // MARK: - Verbs

    private func list(_ type: ResourceType, namespace: String?, query: QueryParameters, table: Bool) throws -> Response {
        let filter = try Self.filter(type, namespace: namespace, query: query)
        let result = try self.cluster.store.list(filter, limit: query.int("limit"), continueToken: query["continue"].flatMap { $0.isEmpty ? nil : $0 })
        var listMeta: JSONValue = ["resourceVersion": .string(String(result.revision))]
        if let token = result.continueToken { listMeta["continue"] = .string(token) }
        if let remaining = result.remainingItemCount { listMeta["remainingItemCount"] = .int(remaining) }
        if table {
            return Self.json(TableConverter.table(type, result.items, includeObject: query["includeObject"], listMeta: listMeta, now: Date()))
        }
        let list: JSONValue = [
            "kind": .string(type.listKind), "apiVersion": .string(type.apiVersion), "metadata": listMeta, "items": .array(result.items),
        ]
        return Self.json(list)
    }

    private func deleteCollection(_ type: ResourceType, namespace: String?, query: QueryParameters, request: inout Request) async throws
        -> Response
    {
        let options = try await Self.deleteOptions(&request, query: query)
        let filter = try Self.filter(type, namespace: namespace, query: query)
        let items = try self.cluster.store.list(filter).items
        var deleted: [JSONValue] = []
        for item in items {
            if let d = try? self.cluster.api.delete(type, namespace: item.namespace, name: item.name, options: options) { deleted.append(d) }
        }
        let list: JSONValue = [
            "kind": .string(type.listKind), "apiVersion": .string(type.apiVersion),
            "metadata": ["resourceVersion": .string(String(self.cluster.store.currentRevision))], "items": .array(deleted),
        ]
        return Self.json(list)
    }

    static func filter(_ type: ResourceType, namespace: String?, query: QueryParameters) throws(KubeAPIError) -> ObjectFilter {
        ObjectFilter(
            resource: type, namespace: type.namespaced ? namespace : nil,
            labels: try LabelSelector.parse(query["labelSelector"] ?? ""),
            fields: try FieldSelector.parse(query["fieldSelector"] ?? "", for: type))
    }

    // MARK: - Bodies

    static func body(_ request: inout Request) async throws -> JSONValue {
        let buffer = try await request.collectBody(upTo: 16 * 1024 * 1024)
        let bytes = buffer.readableBytesView
        if bytes.isEmpty { throw KubeAPIError.badRequest("the body of the request was empty") }
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw KubeAPIError.badRequest("error decoding request body: \(error)")
        }
    }

    static func patchType(_ request: Request) throws(KubeAPIError) -> KubeAPI.PatchType {
        let contentType = request.headers[.contentType] ?? ""
        guard let type = KubeAPI.PatchType(contentType: contentType) else { throw KubeAPIError.unsupportedPatch(contentType) }
        return type
    }

    static func deleteOptions(_ request: inout Request, query: QueryParameters) async throws -> KubeAPI.DeleteOptions {
        var options = KubeAPI.DeleteOptions(gracePeriodSeconds: query.int("gracePeriodSeconds"), propagationPolicy: query["propagationPolicy"])
        options.dryRun = query["dryRun"] == "All"
        let buffer = try await request.collectBody(upTo: 1024 * 1024)
        if buffer.readableBytes > 0 {
            let body: JSONValue
            do {
                body = try JSONValue.parse(buffer.readableBytesView)
            } catch {
                throw KubeAPIError.badRequest("error decoding DeleteOptions: \(error)")
            }
            if let grace = body["gracePeriodSeconds"]?.intValue { options.gracePeriodSeconds = grace }
            if let uid = body[path: ["preconditions", "uid"]]?.stringValue { options.uid = uid }
            if let rv = body[path: ["preconditions", "resourceVersion"]]?.stringValue { options.resourceVersion = rv }
            if let policy = body["propagationPolicy"]?.stringValue { options.propagationPolicy = policy }
            if body["orphanDependents"]?.boolValue == true { options.propagationPolicy = "Orphan" }
            if (body["dryRun"]?.arrayValue ?? []).contains("All") { options.dryRun = true }
        }
        return options
    }

    static func json(_ value: JSONValue, status: Int = 200) -> Response {
        let bytes = value.serialized()
        var buffer = ByteBuffer()
        buffer.reserveCapacity(bytes.count)
        buffer.writeBytes(bytes)
        return Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }
}
