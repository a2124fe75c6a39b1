import Foundation
import Hummingbird
import HummingbirdTesting
import KubeSim
import NIOCore
import Testing
import TritonJSON

@Suite("HTTP API conformance")
struct HTTPConformanceTests {
    struct Reply {
        var code: Int
        var json: JSONValue
        var text: String
    }

    /// Runs `body` against the cluster's HTTP application in process.
    func withAPI(_ cluster: SimulatedCluster = Fixtures.manualCluster(), _ body: @escaping @Sendable (SimulatedCluster, Client) async throws -> Void) async throws {
        try await cluster.makeApplication().test(.router) { client in
            try await body(cluster, Client(client: client))
        }
    }

    struct Client {
        let client: any TestClientProtocol

        func call(_ method: HTTPRequest.Method, _ uri: String, _ body: JSONValue? = nil, contentType: String = "application/json", headers extra: HTTPFields = [:]) async throws -> Reply {
            var headers: HTTPFields = [.contentType: contentType]
            headers.append(contentsOf: extra)
            let buffer = body.map { ByteBuffer(bytes: $0.serialized()) }
            return try await self.client.execute(uri: uri, method: method, headers: headers, body: buffer) { response in
                let text = String(buffer: response.body)
                return Reply(code: Int(response.status.code), json: (try? JSONValue.parse(text)) ?? .null, text: text)
            }
        }
    }

    static let pods = "/api/v1/namespaces/default/pods"
    static let clonesets = "/apis/apps.kruise.io/v1alpha1/namespaces/default/clonesets"

    func pod(_ name: String, labels: JSONValue = ["app": "x"]) -> JSONValue {
        ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "labels": labels], "spec": ["containers": [["name": "c", "image": "img:1"]]]]
    }

    @Test("create, get, list with selectors and paging, update with conflicts, delete")
    func crud() async throws {
        try await self.withAPI { cluster, api in
            let created = try await api.call(.post, Self.pods, self.pod("a"))
            #expect(created.code == 201)
            #expect(created.json[path: ["metadata", "uid"]] != nil)
            #expect(created.json[path: ["status", "phase"]] == "Pending")
            let dup = try await api.call(.post, Self.pods, self.pod("a"))
            #expect(dup.code == 409)
            #expect(dup.json == [
                "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure", "message": "pods \"a\" already exists",
                "reason": "AlreadyExists", "details": ["name": "a", "kind": "pods"], "code": 409,
            ])
            _ = try await api.call(.post, Self.pods, self.pod("b", labels: ["app": "y"]))
            _ = try await api.call(.post, Self.pods, self.pod("c"))
            let got = try await api.call(.get, "\(Self.pods)/a")
            #expect(got.json.podName == "a")
            let missing = try await api.call(.get, "\(Self.pods)/zz")
            #expect(missing.code == 404)
            #expect(missing.json["reason"] == "NotFound")
            #expect(missing.json["message"] == "pods \"zz\" not found")

            let selected = try await api.call(.get, "\(Self.pods)?labelSelector=app%3Dx")
            #expect(selected.json["items"]?.arrayValue?.map(\.podName) == ["a", "c"])
            #expect(selected.json["kind"] == "PodList")
            #expect(Int(selected.json[path: ["metadata", "resourceVersion"]]?.stringValue ?? "") ?? 0 > 0)
            let notIn = try await api.call(.get, "\(Self.pods)?labelSelector=app+notin+(x)")
            #expect(notIn.json["items"]?.arrayValue?.map(\.podName) == ["b"])
            let byName = try await api.call(.get, "\(Self.pods)?fieldSelector=metadata.name%3Dc")
            #expect(byName.json["items"]?.arrayValue?.map(\.podName) == ["c"])
            let badField = try await api.call(.get, "\(Self.pods)?fieldSelector=spec.bogus%3D1")
            #expect(badField.code == 400)
            #expect(badField.json["reason"] == "BadRequest")

            let page1 = try await api.call(.get, "\(Self.pods)?limit=2")
            #expect(page1.json["items"]?.arrayValue?.count == 2)
            let token = try #require(page1.json[path: ["metadata", "continue"]]?.stringValue)
            #expect(page1.json[path: ["metadata", "remainingItemCount"]] == 1)
            let page2 = try await api.call(.get, "\(Self.pods)?limit=2&continue=\(token.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
            #expect(page2.json["items"]?.arrayValue?.map(\.podName) == ["c"])
            #expect(page2.json[path: ["metadata", "continue"]] == nil)

            // Update with the current resourceVersion works; a stale one is a 409 Conflict.
            var object = got.json
            object[path: ["metadata", "labels", "v"]] = "2"
            let updated = try await api.call(.put, "\(Self.pods)/a", object)
            #expect(updated.code == 200)
            #expect(updated.json.resourceVersion != got.json.resourceVersion)
            let stale = try await api.call(.put, "\(Self.pods)/a", object)
            #expect(stale.code == 409)
            #expect(stale.json["reason"] == "Conflict")
            #expect(stale.json["message"]?.stringValue?.contains("the object has been modified") == true)
            // A no-op update keeps the resourceVersion.
            let same = try await api.call(.put, "\(Self.pods)/a", updated.json)
            #expect(same.json.resourceVersion == updated.json.resourceVersion)
            // Spec changes other than the image are refused.
            var bad = updated.json
            bad[path: ["spec", "restartPolicy"]] = "Never"
            let invalid = try await api.call(.put, "\(Self.pods)/a", bad)
            #expect(invalid.code == 422)
            #expect(invalid.json["reason"] == "Invalid")

            let deleted = try await api.call(.delete, "\(Self.pods)/b")
            #expect(deleted.code == 200)
            #expect(cluster.get(.pods, name: "b") == nil, "an unscheduled pod is deleted at once")
            let wrongMethod = try await api.call(.post, "\(Self.pods)/a")
            #expect(wrongMethod.code == 405)
            #expect(wrongMethod.json["reason"] == "MethodNotAllowed")
        }
    }

    @Test("Invalid carries field causes")
    func invalid() async throws {
        try await self.withAPI { _, api in
            var cs = Fixtures.cloneSet(replicas: -1)
            cs[path: ["spec", "template", "metadata", "labels"]] = ["app": "other"]
            let reply = try await api.call(.post, Self.clonesets, cs)
            #expect(reply.code == 422)
            #expect(reply.json["reason"] == "Invalid")
            #expect(reply.json[path: ["details", "kind"]] == "CloneSet")
            #expect(reply.json[path: ["details", "group"]] == "apps.kruise.io")
            let fields = Set((reply.json[path: ["details", "causes"]]?.arrayValue ?? []).compactMap { $0["field"]?.stringValue })
            #expect(fields == ["spec.replicas", "spec.template.metadata.labels"])
            let noContainers = try await api.call(.post, Self.pods, ["metadata": ["name": "p"], "spec": [:]])
            #expect(noContainers.json["message"] == "Pod \"p\" is invalid: spec.containers: Required value")
            let badJSON = try await api.call(.post, Self.pods, nil)
            #expect(badJSON.code == 400)
        }
    }

    @Test("patch: merge, strategic (conditions by type, containers by name), JSON patch, status subresource")
    func patches() async throws {
        try await self.withAPI { cluster, api in
            _ = try await api.call(.post, Self.pods, [
                "metadata": ["name": "p"],
                "spec": ["readinessGates": [["conditionType": "g"]], "containers": [["name": "a", "image": "a:1"], ["name": "b", "image": "b:1"]]],
            ])
            cluster.advance(by: 10)
            // Strategic merge on status: only the named condition changes.
            let before = try await api.call(.get, "\(Self.pods)/p")
            let conditionCount = before.json[path: ["status", "conditions"]]?.arrayValue?.count ?? 0
            let smp = try await api.call(
                .patch, "\(Self.pods)/p/status", ["status": ["conditions": [["type": "g", "status": "True"]]]],
                contentType: "application/strategic-merge-patch+json")
            #expect(smp.code == 200)
            #expect(smp.json[path: ["status", "conditions"]]?.arrayValue?.count == conditionCount + 1)
            cluster.settle()
            #expect(cluster.get(.pods, name: "p")?.isReady == true)
            // Status subresource ignores spec; the main resource ignores status.
            let sneaky = try await api.call(
                .patch, "\(Self.pods)/p/status", ["metadata": ["labels": ["x": "y"]], "status": ["phase": "Running"]],
                contentType: "application/merge-patch+json")
            #expect(sneaky.json[path: ["metadata", "labels", "x"]] == nil)
            let mainStatus = try await api.call(.patch, "\(Self.pods)/p", ["status": ["phase": "Failed"]], contentType: "application/merge-patch+json")
            #expect(mainStatus.json[path: ["status", "phase"]] == "Running")
            // Containers merge by name.
            let image = try await api.call(
                .patch, "\(Self.pods)/p", ["spec": ["containers": [["name": "b", "image": "b:2"]]]],
                contentType: "application/strategic-merge-patch+json")
            #expect(image.json[path: ["spec", "containers"]]?.arrayValue?.map { $0["image"] } == ["a:1", "b:2"])
            // $patch: delete on a condition.
            let deleteCondition = try await api.call(
                .patch, "\(Self.pods)/p/status", ["status": ["conditions": [["type": "g", "$patch": "delete"]]]],
                contentType: "application/strategic-merge-patch+json")
            #expect(deleteCondition.json.condition("g") == nil)
            // JSON patch with test.
            let jp = try await api.call(
                .patch, "\(Self.pods)/p",
                [["op": "test", "path": "/metadata/name", "value": "p"], ["op": "add", "path": "/metadata/labels", "value": ["k": "v"]]],
                contentType: "application/json-patch+json")
            #expect(jp.json[path: ["metadata", "labels", "k"]] == "v")
            let failedTest = try await api.call(
                .patch, "\(Self.pods)/p", [["op": "test", "path": "/metadata/name", "value": "q"]], contentType: "application/json-patch+json")
            #expect(failedTest.code == 422)
            // Merge patch with a stale resourceVersion conflicts.
            let stale = try await api.call(.patch, "\(Self.pods)/p", ["metadata": ["resourceVersion": "1", "labels": ["z": "1"]]], contentType: "application/merge-patch+json")
            #expect(stale.code == 409)
            // Strategic merge patch is refused for custom resources, as on a real server.
            _ = try await api.call(.post, Self.clonesets, Fixtures.cloneSet(replicas: 1))
            let crSMP = try await api.call(.patch, "\(Self.clonesets)/demo", ["spec": ["replicas": 2]], contentType: "application/strategic-merge-patch+json")
            #expect(crSMP.code == 415)
            let unknown = try await api.call(.patch, "\(Self.clonesets)/demo", ["spec": ["replicas": 2]], contentType: "text/plain")
            #expect(unknown.code == 415)
        }
    }

    @Test("generation, observedGeneration and the scale subresource")
    func generationAndScale() async throws {
        try await self.withAPI { cluster, api in
            let created = try await api.call(.post, Self.clonesets, Fixtures.cloneSet(replicas: 1))
            #expect(created.json[path: ["metadata", "generation"]] == 1)
            let labelled = try await api.call(.patch, "\(Self.clonesets)/demo", ["metadata": ["labels": ["a": "b"]]], contentType: "application/merge-patch+json")
            #expect(labelled.json[path: ["metadata", "generation"]] == 1, "metadata changes keep the generation")
            let scaled = try await api.call(.patch, "\(Self.clonesets)/demo/scale", ["spec": ["replicas": 3]], contentType: "application/merge-patch+json")
            #expect(scaled.json["kind"] == "Scale")
            #expect(scaled.json[path: ["spec", "replicas"]] == 3)
            cluster.settle()
            let cs = try await api.call(.get, "\(Self.clonesets)/demo")
            #expect(cs.json[path: ["metadata", "generation"]] == 2)
            #expect(cs.json[path: ["status", "observedGeneration"]] == 2)
            #expect(cs.json[path: ["status", "replicas"]] == 3)
            let scale = try await api.call(.get, "\(Self.clonesets)/demo/scale")
            #expect(scale.json[path: ["status", "selector"]] == "app=demo")
            // PUT without resourceVersion is refused for custom resources.
            var body = cs.json
            body[path: ["metadata", "resourceVersion"]] = nil
            let unconditional = try await api.call(.put, "\(Self.clonesets)/demo", body)
            #expect(unconditional.code == 422)
        }
    }

    @Test("watch: initial state, resume from a resourceVersion, 410 Expired, bookmarks, selectors")
    func watch() async throws {
        var configuration = SimConfiguration(seed: 3)
        configuration.clock = .manual(ManualClock())
        configuration.watchHistorySize = 16
        configuration.bookmarkInterval = .milliseconds(200)
        let cluster = SimulatedCluster(configuration: configuration)
        try await self.withAPI(cluster) { cluster, api in
            _ = try await api.call(.post, Self.pods, self.pod("w1"))
            let list = try await api.call(.get, Self.pods)
            let rv = try #require(list.json[path: ["metadata", "resourceVersion"]]?.stringValue)
            _ = try await api.call(.post, Self.pods, self.pod("w2"))
            _ = try await api.call(.patch, "\(Self.pods)/w1", ["metadata": ["labels": ["app": "gone"]]], contentType: "application/merge-patch+json")
            _ = try await api.call(.delete, "\(Self.pods)/w2")

            func events(_ query: String) async throws -> [JSONValue] {
                let reply = try await api.call(.get, "\(Self.pods)?watch=1&timeoutSeconds=1&\(query)")
                #expect(reply.code == 200)
                return reply.text.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
            }
            let resumed = try await events("resourceVersion=\(rv)")
            #expect(resumed.map { $0["type"]?.stringValue ?? "" } == ["ADDED", "MODIFIED", "DELETED"])
            #expect(resumed.map { $0[path: ["object", "metadata", "name"]]?.stringValue ?? "" } == ["w2", "w1", "w2"])
            // With a label selector, leaving the selection is a DELETED.
            let selected = try await events("resourceVersion=\(rv)&labelSelector=app%3Dx")
            #expect(selected.map { $0["type"]?.stringValue ?? "" } == ["ADDED", "DELETED", "DELETED"])
            // No resourceVersion: the current state as ADDED.
            let initial = try await events("")
            #expect(initial.map { $0["type"]?.stringValue ?? "" } == ["ADDED"])
            // Bookmarks when asked for.
            let withBookmarks = try await events("resourceVersion=\(cluster.resourceVersion)&allowWatchBookmarks=true")
            #expect(withBookmarks.contains { $0["type"] == "BOOKMARK" && $0[path: ["object", "metadata", "resourceVersion"]] != nil })
            // Push the first version out of the history: 410 Expired as an ERROR event.
            for i in 0..<20 {
                _ = try await api.call(.patch, "\(Self.pods)/w1", ["metadata": ["labels": ["n": .string(String(i))]]], contentType: "application/merge-patch+json")
            }
            let expired = try await events("resourceVersion=\(rv)")
            #expect(expired.count == 1)
            #expect(expired.first?["type"] == "ERROR")
            #expect(expired.first?[path: ["object", "code"]] == 410)
            #expect(expired.first?[path: ["object", "reason"]] == "Expired")
        }
    }

    @Test("discovery, tables, auth")
    func discoveryAndAuth() async throws {
        try await self.withAPI { _, api in
            let groups = try await api.call(.get, "/apis")
            #expect(groups.json["groups"]?.arrayValue?.contains { $0["name"] == "apps.kruise.io" } == true)
            let kruise = try await api.call(.get, "/apis/apps.kruise.io/v1alpha1")
            let resources = kruise.json["resources"]?.arrayValue ?? []
            #expect(resources.contains { $0["name"] == "clonesets" && $0["shortNames"] == ["clone"] })
            #expect(resources.contains { $0["name"] == "clonesets/scale" && $0["kind"] == "Scale" })
            let core = try await api.call(.get, "/api/v1")
            #expect(core.json["resources"]?.arrayValue?.contains { $0["name"] == "pods/status" } == true)
            let version = try await api.call(.get, "/version")
            #expect(version.json["major"] == "1")
            _ = try await api.call(.post, Self.clonesets, Fixtures.cloneSet(replicas: 1))
            let table = try await api.call(.get, Self.clonesets, headers: [.accept: "application/json;as=Table;v=v1;g=meta.k8s.io, application/json"])
            #expect(table.json["kind"] == "Table")
            #expect(table.json["columnDefinitions"]?.arrayValue?.map { $0["name"]?.stringValue ?? "" }.prefix(3) == ["Name", "DESIRED", "UPDATED"])
        }
        var configuration = SimConfiguration(seed: 1, token: "s3cret")
        configuration.clock = .manual(ManualClock())
        try await self.withAPI(SimulatedCluster(configuration: configuration)) { _, api in
            let denied = try await api.call(.get, "/api/v1/pods")
            #expect(denied.code == 401)
            #expect(denied.json["reason"] == "Unauthorized")
            let allowed = try await api.call(.get, "/api/v1/pods", headers: [.authorization: "Bearer s3cret"])
            #expect(allowed.code == 200)
        }
    }

    @Test("services get endpoints listing only Ready pods; leases and events are plain resources")
    func servicesAndLeases() async throws {
        try await self.withAPI { cluster, api in
            _ = try await api.call(.post, "/api/v1/namespaces/default/services", ["metadata": ["name": "demo"], "spec": ["selector": ["app": "demo"], "ports": [["port": 80]]]])
            try cluster.create(.cloneSets, Fixtures.cloneSet(replicas: 2))
            cluster.advance(by: 10)
            var ep = try await api.call(.get, "/api/v1/namespaces/default/endpoints/demo")
            #expect(ep.json["subsets"]?.arrayValue?.first?["addresses"] == nil)
            #expect(ep.json["subsets"]?.arrayValue?.first?["notReadyAddresses"]?.arrayValue?.count == 2)
            let pod = try #require(cluster.activePods(of: "demo").first)
            try cluster.pullIn(pod)
            cluster.settle()
            ep = try await api.call(.get, "/api/v1/namespaces/default/endpoints/demo")
            #expect(ep.json["subsets"]?.arrayValue?.first?["addresses"]?.arrayValue?.count == 1)
            let lease = try await api.call(.post, "/apis/coordination.k8s.io/v1/namespaces/default/leases", ["metadata": ["name": "leader"], "spec": ["holderIdentity": "a", "leaseDurationSeconds": 15]])
            #expect(lease.code == 201)
            var taken = lease.json
            taken[path: ["spec", "holderIdentity"]] = "b"
            #expect(try await api.call(.put, "/apis/coordination.k8s.io/v1/namespaces/default/leases/leader", taken).code == 200)
            #expect(try await api.call(.put, "/apis/coordination.k8s.io/v1/namespaces/default/leases/leader", taken).code == 409)
            let events = try await api.call(.get, "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D\(pod.podName)")
            #expect((events.json["items"]?.arrayValue?.count ?? 0) >= 4)
            let nsMissing = try await api.call(.post, "/api/v1/namespaces/nope/pods", self.pod("x"))
            #expect(nsMissing.code == 404)
            #expect(nsMissing.json["message"] == "namespaces \"nope\" not found")
        }
    }
}
