import Foundation
import Testing
import TritonJSON

@testable import KubeClient

@Suite("Retries, errors, timeouts, cancellation and watch against the fake API server", .timeLimit(.minutes(1)))
struct TransportBehaviourTests {
    func client(_ server: FakeAPIServer, retry: RetryPolicy = RetryPolicy(initialBackoff: .milliseconds(20))) -> KubeClient {
        var configuration = KubeClient.Configuration(server: server.url, namespace: "ns")
        configuration.retry = retry
        configuration.qps = 0
        return KubeClient(configuration: configuration)
    }

    @Test func retriesIdempotent5xxButNotPost() async throws {
        let server = try await FakeAPIServer.start()
        defer { server.stop() }
        let client = self.client(server)
        defer { client.shutdown() }
        let pod = try await client.get(Pod.self, name: "fail503-2")
        #expect(pod.metadata.name == "fail503-2")
        #expect(try await server.count("GET /api/v1/namespaces/ns/pods/fail503-2", client: client) == 3)

        var toCreate = Pod(name: "x")
        toCreate.metadata.labels = ["a": "b"]
        let error = await #expect(throws: KubeError.self) {
            _ = try await client.patch(Pod.self, name: "fail503-5", patch: .merge(["x": 1]))
        }
        #expect(error?.code == .serviceUnavailable)
        #expect(try await server.count("PATCH /api/v1/namespaces/ns/pods/fail503-5", client: client) == 1)
    }

    @Test func honoursRetryAfterOn429() async throws {
        let server = try await FakeAPIServer.start()
        defer { server.stop() }
        let client = self.client(server)
        defer { client.shutdown() }
        let start = ContinuousClock.now
        _ = try await client.patch(Pod.self, name: "throttle-1", patch: .merge([:]))
        #expect(ContinuousClock.now - start >= .milliseconds(900))
        #expect(try await server.count("PATCH /api/v1/namespaces/ns/pods/throttle-1", client: client) == 2)
    }

    @Test func decodesStatusErrors() async throws {
        let server = try await FakeAPIServer.start()
        defer { server.stop() }
        let client = self.client(server, retry: .none)
        defer { client.shutdown() }
        let notFound = await #expect(throws: KubeError.self) { _ = try await client.pod("missing") }
        #expect(notFound?.code == .notFound)
        #expect(notFound?.httpStatus == 404)
        let invalid = await #expect(throws: KubeError.self) { _ = try await client.pod("invalid") }
        #expect(invalid?.code == .invalid)
        #expect(invalid?.causes.first?.field == "spec.containers")
        let plain = await #expect(throws: KubeError.self) { _ = try await client.pod("plain500") }
        #expect(plain?.code == .internalError)
        #expect(plain?.status == nil)
        let throttled = await #expect(throws: KubeError.self) { _ = try await client.pod("throttle-9") }
        #expect(throttled?.code == .tooManyRequests)
        #expect(throttled?.retryAfter == .seconds(1))
    }

    @Test func sendsVerbsBodiesAndContentTypes() async throws {
        let server = try await FakeAPIServer.start()
        defer { server.stop() }
        let client = self.client(server)
        defer { client.shutdown() }
        func echo(_ pod: Pod) -> (String?, String?, JSONValue?) {
            let annotations = pod.metadata.annotations
            return (annotations["method"], annotations["contentType"], try? JSONValue(jsonData: Data((annotations["body"] ?? "").utf8)))
        }
        let created = try await client.create(Pod(name: "new"))
        #expect(echo(created).0 == "POST")
        #expect(echo(created).2?[path: ["metadata", "name"]] == "new")
        var existing = Pod(name: "u", namespace: "ns")
        existing.metadata.resourceVersion = "41"
        let updated = try await client.update(existing)
        #expect(echo(updated).0 == "PUT")
        #expect(echo(updated).2?[path: ["metadata", "resourceVersion"]] == "41")
        let patches: [(KubePatch, String)] = [
            (.merge(["spec": ["x": 1]]), "application/merge-patch+json"),
            (.strategicMerge(["status": ["conditions": [["type": "A", "status": "True"]]]]), "application/strategic-merge-patch+json"),
            (.json([.replace("/spec/replicas", 3), .test("/metadata/name", "p")]), "application/json-patch+json"),
        ]
        for (patch, contentType) in patches {
            let result = try await client.patch(Pod.self, name: "p", patch: patch, subresource: "status")
            #expect(echo(result).0 == "PATCH")
            #expect(echo(result).1 == contentType)
            #expect(echo(result).2 == patch.body)
        }
        let deleted = try await client.delete(
            Pod.self,
            name: "d",
            options: DeleteOptions(gracePeriodSeconds: 0, preconditionUID: "uid-1", preconditionResourceVersion: "9")
        )
        let deleteBody = try JSONValue(jsonData: Data((deleted[path: ["metadata", "annotations", "body"]]?.stringValue ?? "").utf8))
        #expect(deleteBody["gracePeriodSeconds"] == 0)
        #expect(deleteBody[path: ["preconditions", "uid"]] == "uid-1")
        #expect(deleteBody[path: ["preconditions", "resourceVersion"]] == "9")
    }

    @Test func listsWithSelectorsAndPages() async throws {
        let server = try await FakeAPIServer.start()
        defer { server.stop() }
        let client = self.client(server)
        defer { client.shutdown() }
        let page = try await client.list(Pod.self, options: ListOptions(labelSelector: "app in (a,b)", limit: 2))
        #expect(page.items.count == 2)
        #expect(page.continueToken == "2")
        let all = try await client.listAll(Pod.self, options: ListOptions(limit: 2))
        #expect(all.items.map { $0.metadata.name ?? "" } == ["p0", "p1", "p2", "p3", "p4"])
        #expect(all.resourceVersion == "20")
        let echoed = try await client.get(Pod.self, name: "q", namespace: "ns")
        #expect(echoed.metadata.annotations["query"] == "")
    }

    @Test func perRequestTimeout() async throws {
        let server = try await FakeAPIServer.start()
        defer { server.stop() }
        let client = self.client(server, retry: .none)
        defer { client.shutdown() }
        let error = await #expect(throws: KubeError.self) {
            _ = try await client.get(Pod.self, name: "slow", timeout: .milliseconds(300))
        }
        #expect(error?.code == .requestTimedOut)
    }

    @Test func cancellationAbortsARequest() async throws {
        let server = try await FakeAPIServer.start()
        defer { server.stop() }
        let client = self.client(server)
        defer { client.shutdown() }
        let task = Task { try await client.get(Pod.self, name: "slow") }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        // Not cancelled, the slow request would answer after 3 s instead of throwing.
        await #expect(throws: CancellationError.self) { _ = try await task.value }
    }

    @Test func connectionFailureIsRetriedThenReported() async throws {
        var configuration = KubeClient.Configuration(server: "http://127.0.0.1:1")
        configuration.retry = RetryPolicy(maxRetries: 2, initialBackoff: .milliseconds(10))
        let client = KubeClient(configuration: configuration)
        defer { client.shutdown() }
        let error = await #expect(throws: KubeError.self) { _ = try await client.pod("x") }
        #expect(error?.code == .connectionFailed)
    }

    @Test func watchResumesAfterADropAndRelistsOnGone() async throws {
        let server = try await FakeAPIServer.start()
        defer { server.stop() }
        let client = self.client(server)
        defer { client.shutdown() }
        var seen: [String] = []
        for try await event in client.watch(Pod.self, options: WatchOptions(resourceVersion: "5")) {
            switch event {
            case .added(let pod): seen.append("added \(pod.metadata.name ?? "") \(pod.metadata.resourceVersion ?? "")")
            case .modified(let pod): seen.append("modified \(pod.metadata.resourceVersion ?? "")")
            case .deleted(let pod): seen.append("deleted \(pod.metadata.name ?? "") \(pod.metadata.resourceVersion ?? "")")
            case .bookmark(let version): seen.append("bookmark \(version)")
            case .relisted(let list): seen.append("relisted \(list.items.count) \(list.resourceVersion ?? "")")
            }
            if seen.count == 5 { break }
        }
        #expect(seen == ["added a 6", "modified 7", "bookmark 8", "relisted 5 20", "deleted p1 21"])
        // The watches resumed from 7 (after the drop) and from 20 (after the relist).
        #expect(try await server.count("GET /api/v1/namespaces/ns/pods", client: client) >= 4)
    }

    @Test func watchStopsOnCancellation() async throws {
        let server = try await FakeAPIServer.start()
        defer { server.stop() }
        let client = self.client(server)
        defer { client.shutdown() }
        let (firstEvent, signal) = AsyncStream.makeStream(of: Void.self)
        let task = Task {
            var count = 0
            for try await _ in client.watch(Pod.self, options: WatchOptions(resourceVersion: "20")) {
                count += 1
                signal.yield()
            }
            return count
        }
        var iterator = firstEvent.makeAsyncIterator()
        await iterator.next()
        task.cancel()
        // Not cancelled, the watch would never end (the suite's time limit would fail it).
        #expect(try await task.value == 1)
    }

    @Test func reusesConnections() async throws {
        let server = try await FakeAPIServer.start()
        defer { server.stop() }
        let client = self.client(server)
        defer { client.shutdown() }
        var ports: Set<String> = []
        for index in 0..<5 {
            ports.insert(try await client.pod("reuse-\(index)").metadata.annotations["peerPort"] ?? "")
        }
        #expect(ports.count == 1)
    }

    @Test func concurrentRequestsDoNotBlockThePool() async throws {
        let server = try await FakeAPIServer.start()
        defer { server.stop() }
        let client = self.client(server)
        defer { client.shutdown() }
        // Twelve 3-second requests at once: on a 2-core cooperative pool this finishes in ~3 s (not 18 s) when no
        // request holds a pool thread while it waits.
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<12 { group.addTask { _ = try await client.pod("slow") } }
            try await group.waitForAll()
        }
        #expect(ContinuousClock.now - start < .seconds(12))
    }

    @Test func clientSideRateLimit() async throws {
        let server = try await FakeAPIServer.start()
        defer { server.stop() }
        var configuration = KubeClient.Configuration(server: server.url, namespace: "ns")
        configuration.qps = 10
        configuration.burst = 2
        let client = KubeClient(configuration: configuration)
        defer { client.shutdown() }
        let start = ContinuousClock.now
        for index in 0..<7 { _ = try await client.pod("limited-\(index)") }
        // 2 at once, then 5 more at 10 per second: at least 0.5 s.
        #expect(ContinuousClock.now - start >= .milliseconds(450))
    }
}
