import Foundation
import KubeSim
import Testing
import TritonJSON

@testable import KubeClient

// KubeSim has its own `JSONValue`, so this file never names the type: literals are typed by context.

@Suite("KubeClient against the simulated cluster", .timeLimit(.minutes(1)))
struct SimulatedClusterTests {
    /// Runs `body` with a cluster served on 127.0.0.1 and a client pointed at it; stops both afterwards.
    func withCluster(
        _ configure: (inout SimConfiguration) -> Void = { _ in },
        client configureClient: (inout KubeClient.Configuration) -> Void = { _ in },
        _ body: @Sendable (SimulatedCluster, KubeClient) async throws -> Void
    ) async throws {
        var configuration = SimConfiguration(seed: 11)
        configuration.timeScale = 50
        configure(&configuration)
        let cluster = SimulatedCluster(configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await cluster.run() }
            let port = try await cluster.waitUntilListening()
            var clientConfiguration = KubeClient.Configuration(server: "http://127.0.0.1:\(port)", namespace: "default")
            clientConfiguration.retry = RetryPolicy(maxRetries: 4, initialBackoff: .milliseconds(20))
            configureClient(&clientConfiguration)
            let client = KubeClient(configuration: clientConfiguration)
            defer {
                client.shutdown()
                group.cancelAll()
            }
            do {
                try await body(cluster, client)
            } catch {
                // Swift Testing prints `description`, which KubeError keeps generic; show the details here.
                Issue.record("\(String(reflecting: error))")
                throw error
            }
        }
    }

    static func pod(_ name: String, labels: [String: String] = ["app": "sim-test"]) -> Pod {
        var pod = Pod(name: name, namespace: "default")
        pod.metadata.labels = labels
        pod.json["spec"] = ["containers": [["name": "app", "image": "reg/demo:v1"]]]
        return pod
    }

    static func cloneSet(_ name: String, replicas: Int) -> CloneSet {
        var cloneSet = CloneSet(name: name, namespace: "default")
        cloneSet.json["spec"] = [
            "replicas": .int(replicas),
            "selector": ["matchLabels": ["app": .string(name)]],
            "template": [
                "metadata": ["labels": ["app": .string(name)]],
                "spec": [
                    "readinessGates": [["conditionType": "apps.triton.io/ready"]],
                    "containers": [["name": "app", "image": "reg/demo:v1"]],
                ],
            ],
            "updateStrategy": ["type": "ReCreate", "maxUnavailable": 0, "maxSurge": "60%"],
        ]
        return cloneSet
    }

    // MARK: - Operations

    @Test func createGetListUpdateDelete() async throws {
        try await self.withCluster { _, client in
            let created = try await client.create(Self.pod("crud-a"))
            #expect(created.metadata.uid != nil)
            _ = try await client.create(Self.pod("crud-b", labels: ["app": "other"]))
            #expect(try await client.pod("crud-a").metadata.name == "crud-a")

            let selected = try await client.pods(labelSelector: "app=sim-test")
            #expect(selected.map(\.metadata.name) == ["crud-a"])

            // Update with resourceVersion, on an object no simulated controller changes (see the report: the
            // simulator validates a stale pod update before checking its resourceVersion).
            var service = Service(name: "crud-svc", namespace: "default")
            service.json["spec"] = ["selector": ["app": "sim-test"], "ports": [["port": 80]]]
            var fetched = try await client.create(service)
            fetched.metadata.annotations["triton.io/note"] = "hello"
            fetched.selector = ["app": "sim-test", "tier": "web"]
            let updated = try await client.update(fetched)
            #expect(updated.metadata.annotations["triton.io/note"] == "hello")
            #expect(updated.selector == ["app": "sim-test", "tier": "web"])
            #expect(updated.metadata.resourceVersion != fetched.metadata.resourceVersion)

            let duplicate = await #expect(throws: KubeError.self) { _ = try await client.create(Self.pod("crud-a")) }
            #expect(duplicate?.code == .alreadyExists)

            let wrongUID = await #expect(throws: KubeError.self) {
                try await client.delete(Pod.self, name: "crud-a", options: DeleteOptions(preconditionUID: "not-the-uid"))
            }
            #expect(wrongUID?.code == .conflict)
            try await client.delete(
                Pod.self,
                name: "crud-a",
                options: DeleteOptions(gracePeriodSeconds: 0, preconditionUID: created.metadata.uid)
            )
            let gone = await #expect(throws: KubeError.self) { _ = try await client.pod("crud-a") }
            #expect(gone?.code == .notFound)
        }
    }

    @Test func updateWithAStaleResourceVersionConflicts() async throws {
        try await self.withCluster { _, client in
            var lease = Lease(name: "triton-leader", namespace: "default")
            lease.holderIdentity = "replica-1"
            lease.leaseDurationSeconds = 15
            let created = try await client.create(lease)
            var first = created
            first.holderIdentity = "replica-2"
            _ = try await client.update(first)
            var stale = created
            stale.holderIdentity = "replica-3"
            let conflict = await #expect(throws: KubeError.self) { _ = try await client.update(stale) }
            #expect(conflict?.code == .conflict)
            // The usual cure: re-read, re-apply, update.
            var fresh = try await client.lease("triton-leader")
            fresh.holderIdentity = "replica-3"
            #expect(try await client.update(fresh).holderIdentity == "replica-3")
        }
    }

    @Test func everyPatchTypeAndTheStatusSubresource() async throws {
        try await self.withCluster { _, client in
            _ = try await client.create(Self.pod("patch-me"))
            let merged = try await client.patch(
                Pod.self,
                name: "patch-me",
                patch: .merge(["metadata": ["labels": ["tier": "web"]]])
            )
            #expect(merged.metadata.labels == ["app": "sim-test", "tier": "web"])

            let jsonPatched = try await client.patch(
                Pod.self,
                name: "patch-me",
                patch: .json([.test("/metadata/labels/tier", "web"), .add("/metadata/annotations", ["a": "1"])])
            )
            #expect(jsonPatched.metadata.annotations == ["a": "1"])

            let failedTest = await #expect(throws: KubeError.self) {
                _ = try await client.patch(Pod.self, name: "patch-me", patch: .json([.test("/metadata/labels/tier", "db")]))
            }
            #expect(failedTest != nil)

            let gated = try await client.setPodCondition(
                PodCondition(type: "apps.triton.io/ready", status: "True"),
                pod: "patch-me"
            )
            #expect(gated.condition("apps.triton.io/ready")?.status == "True")
            let gatedAgain = try await client.setPodCondition(PodCondition(type: "triton.io/other", status: "False"), pod: "patch-me")
            // Strategic merge: conditions merge by type, so the first one is still there.
            #expect(gatedAgain.condition("apps.triton.io/ready")?.status == "True")
            #expect(gatedAgain.condition("triton.io/other")?.status == "False")

            _ = try await client.create(Self.cloneSet("patchset", replicas: 2))
            let scaled = try await client.patchCloneSet("patchset", merge: ["spec": ["replicas": 3, "updateStrategy": ["partition": 1]]])
            #expect(scaled.replicas == 3)
            #expect(scaled.partition == .int(1))
            let paused = try await client.patch(
                CloneSet.self,
                name: "patchset",
                patch: .json([.add("/spec/updateStrategy/paused", true)])
            )
            #expect(paused.paused)
        }
    }

    @Test func pagingAndSelectors() async throws {
        try await self.withCluster { _, client in
            for index in 0..<7 {
                _ = try await client.create(Self.pod("page-\(index)", labels: ["app": "paged", "parity": "\(index % 2)"]))
            }
            let firstPage = try await client.list(Pod.self, options: ListOptions(labelSelector: "app=paged", limit: 3))
            #expect(firstPage.items.count == 3)
            #expect(firstPage.continueToken != nil)
            let all = try await client.listAll(Pod.self, options: ListOptions(labelSelector: "app=paged", limit: 3))
            #expect(Set(all.items.compactMap(\.metadata.name)) == Set((0..<7).map { "page-\($0)" }))
            let odd = try await client.pods(labelSelector: "app=paged,parity in (1)")
            #expect(odd.count == 3)
            let byField = try await client.list(Pod.self, options: ListOptions(fieldSelector: "metadata.name=page-4"))
            #expect(byField.items.map(\.metadata.name) == ["page-4"])
        }
    }

    @Test func cloneSetsPodsEventsServicesEndpoints() async throws {
        try await self.withCluster { _, client in
            _ = try await client.create(Self.cloneSet("demo", replicas: 2))
            var service = Service(name: "demo", namespace: "default")
            service.json["spec"] = ["selector": ["app": "demo"], "ports": [["port": 80, "targetPort": 8080]]]
            let createdService = try await client.create(service)
            #expect(createdService.selector == ["app": "demo"])

            var pods: [Pod] = []
            for _ in 0..<100 where pods.count < 2 || !pods.allSatisfy(\.containersReady) {
                try await Task.sleep(for: .milliseconds(100))
                pods = try await client.pods(labelSelector: "app=demo")
            }
            #expect(pods.count == 2)
            #expect(pods.allSatisfy { $0.containersReady && !$0.isReady })
            let cloneSet = try await client.cloneSet("demo")
            #expect(cloneSet.cloneSetStatus.replicas == 2)

            for pod in pods {
                _ = try await client.setPodCondition(PodCondition(type: "apps.triton.io/ready", status: "True"), pod: pod.metadata.name!)
            }
            var ready: [String] = []
            for _ in 0..<100 where ready.count < 2 {
                try await Task.sleep(for: .milliseconds(100))
                ready = (try? await client.endpoints("demo").readyAddresses) ?? []
            }
            #expect(ready.count == 2)
            let events = try await client.events(forObject: "demo", kind: "CloneSet")
            #expect(!events.isEmpty)
            #expect(PodTable.render(try await client.pods(labelSelector: "app=demo")).contains("Running"))
        }
    }

    // MARK: - Watch

    @Test func watchSeesChangesAndResumesWhenTheServerEndsIt() async throws {
        try await self.withCluster(client: { $0.watchTimeout = .seconds(1) }) { _, client in
            let start = try await client.list(Pod.self, options: ListOptions(labelSelector: "app=watched"))
            try await withThrowingTaskGroup(of: [String].self) { group in
                group.addTask {
                    var seen: [String] = []
                    let options = WatchOptions(labelSelector: "app=watched", resourceVersion: start.resourceVersion)
                    for try await event in client.watch(Pod.self, options: options) {
                        if case .added(let pod) = event { seen.append(pod.metadata.name ?? "") }
                        if seen.count == 4 { break }
                    }
                    return seen
                }
                // Spread the creations over more than one server-side watch timeout (1–2 s).
                for index in 0..<4 {
                    _ = try await client.create(Self.pod("w-\(index)", labels: ["app": "watched"]))
                    try await Task.sleep(for: .milliseconds(900))
                }
                let seen = try await group.next()
                #expect(seen == ["w-0", "w-1", "w-2", "w-3"])
            }
        }
    }

    @Test func watchRelistsAfter410Gone() async throws {
        // A manual clock keeps the simulated kubelet still, so the only changes are this test's; the simulator
        // keeps at least 16 changes, so 30 creations push the first one out of the history.
        let configure: (inout SimConfiguration) -> Void = {
            $0.watchHistorySize = 16
            $0.clock = .manual(ManualClock())
        }
        try await self.withCluster(configure) { _, client in
            let first = try await client.create(Self.pod("old-0", labels: ["app": "history"]))
            for index in 1..<30 {
                _ = try await client.create(Self.pod("old-\(index)", labels: ["app": "history"]))
            }
            var iterator = client.watch(
                Pod.self,
                options: WatchOptions(labelSelector: "app=history", resourceVersion: first.metadata.resourceVersion)
            ).makeAsyncIterator()
            let firstEvent = try await iterator.next()
            guard case .relisted(let list)? = firstEvent else {
                Issue.record("expected a relist, got \(String(describing: firstEvent))")
                return
            }
            #expect(list.items.count == 30)
            _ = try await client.create(Self.pod("new-0", labels: ["app": "history"]))
            var added: String?
            while added == nil, let event = try await iterator.next() {
                if case .added(let pod) = event { added = pod.metadata.name }
            }
            #expect(added == "new-0")
        }
    }

    @Test func watchResumesAfterTheServerDropsTheConnection() async throws {
        // A port below the kernel's ephemeral range (32768 and up), so that no outgoing connection of
        // another test can take it while the server is down; the second run binds it again. A port
        // another server holds already is skipped for the next one.
        var started: (cluster: SimulatedCluster, server: Task<Void, any Error>, port: Int)?
        for _ in 0..<20 where started == nil {
            var configuration = SimConfiguration(seed: 12)
            configuration.timeScale = 50
            configuration.port = Int.random(in: 20_000..<32_000)
            let cluster = SimulatedCluster(configuration: configuration)
            let server = Task { try await cluster.run() }
            if let port = try? await cluster.waitUntilListening() { started = (cluster, server, port) } else { server.cancel() }
        }
        guard let (cluster, firstServer, port) = started else {
            Issue.record("no free port between 20000 and 32000 in 20 tries")
            return
        }
        var clientConfiguration = KubeClient.Configuration(server: "http://127.0.0.1:\(port)")
        clientConfiguration.retry = RetryPolicy(maxRetries: 150, initialBackoff: .milliseconds(50), maxBackoff: .milliseconds(200))
        let client = KubeClient(configuration: clientConfiguration)
        defer { client.shutdown() }

        _ = try await client.create(Self.pod("drop-a", labels: ["app": "drop"]))
        var iterator = client.watch(Pod.self, options: WatchOptions(labelSelector: "app=drop")).makeAsyncIterator()
        guard case .added(let first)? = try await iterator.next() else {
            Issue.record("expected ADDED")
            firstServer.cancel()
            return
        }
        #expect(first.metadata.name == "drop-a")

        // Stopping the server drops every watch connection; the same cluster (and store) then serves again.
        firstServer.cancel()
        _ = try? await firstServer.value
        // The restart, as an API server's: under the full suite's load a restarted run has twice failed
        // to listen within 20 s (cause not found yet; a run's result is printed when that happens), so
        // a run that is not listening after 5 s is stopped and started again, up to four times. The
        // client keeps retrying meanwhile; what is checked is that its watch resumes.
        var secondServer = Task { try await cluster.run() }
        defer { secondServer.cancel() }
        for attempt in 1...4 {
            for _ in 0..<100 where cluster.port == nil { try await Task.sleep(for: .milliseconds(50)) }
            if cluster.port != nil || attempt == 4 { break }
            let stuck = secondServer
            stuck.cancel()
            Task { print("simulated cluster restart \(attempt) did not listen within 5 s; it ended with \(await stuck.result)") }
            secondServer = Task { try await cluster.run() }
        }
        #expect(cluster.port == port, "the restarted server listens where the first one did")
        _ = try await client.create(Self.pod("drop-b", labels: ["app": "drop"]))
        var next: String?
        while next == nil, let event = try await iterator.next() {
            if case .added(let pod) = event { next = pod.metadata.name }
        }
        // Resumed from the last resourceVersion: no replayed ADDED for drop-a.
        #expect(next == "drop-b")
    }

    @Test func bookmarksAdvanceTheWatch() async throws {
        try await self.withCluster({ $0.bookmarkInterval = .milliseconds(200) }) { _, client in
            var iterator = client.watch(Pod.self, options: WatchOptions(labelSelector: "app=nothing", resourceVersion: "1"))
                .makeAsyncIterator()
            var bookmark: String?
            while bookmark == nil, let event = try await iterator.next() {
                if case .bookmark(let version) = event { bookmark = version }
            }
            #expect(bookmark != nil)
        }
    }

    @Test func typedErrorsFromTheSimulatedCluster() async throws {
        try await self.withCluster { _, client in
            let missing = await #expect(throws: KubeError.self) { _ = try await client.cloneSet("nope") }
            #expect(missing?.code == .notFound)
            var bad = Self.cloneSet("Bad_Name", replicas: -1)
            bad.metadata.name = "Bad_Name"
            let invalid = await #expect(throws: KubeError.self) { _ = try await client.create(bad) }
            #expect(invalid?.code == .invalid)
            #expect(invalid?.causes.isEmpty == false)
        }
    }
}
