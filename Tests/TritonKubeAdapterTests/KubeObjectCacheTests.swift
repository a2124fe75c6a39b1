import Foundation
import Hummingbird
import KubeClient
import KubeSim
import Testing
import TritonDomain
import TritonEngine
import TritonJSON
import TritonKubeAdapter
import TritonKubeMapping
import TritonSimAdapter

/// The watch-fed cache behind `KubeClusterPort`: after its first lists, reads cost no request, and
/// follow the cluster (a CloneSet created, pods appearing, a pod deleted) as the direct reads do.
@Suite("KubeClusterPort reading from watches", .timeLimit(.minutes(1)))
struct KubeObjectCacheTests {
    @Test func cachedReadsFollowTheCluster() async throws {
        let cluster = try KubeClusterPortTests.makeCluster()
        let application = cluster.makeApplication()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await application.runService(gracefulShutdownSignals: []) }
            let port = try await cluster.waitUntilListening()
            var configuration = try KubeClient.Configuration.commandLine(server: "http://127.0.0.1:\(port)", namespace: "default", environment: [:])
            configuration.qps = 0
            let client = KubeClient(configuration: configuration)
            let cache = KubeObjectCache(client: client)
            defer {
                cache.stop()
                client.shutdown()
                group.cancelAll()
            }
            let direct = KubeClusterPort(client: client)
            let cached = KubeClusterPort(client: client, cache: cache)
            let instance = KubeClusterPortTests.instance
            #expect(await cache.waitUntilSynced("prod"))
            #expect(try await cached.workload(instance) == nil)

            // The port reads its own writes at once, not when the watch catches up (else the executor would
            // see the CloneSet drifted from what it just applied, and apply it again).
            let created = try await cached.createWorkload(instance, appSpec: KubeClusterPortTests.appSpec)
            #expect(try await cached.workload(instance)?.resourceVersion == created)
            let applied = try await cached.apply(KubeClusterPortTests.intent(replicas: 3, partition: 0), to: instance)
            let seen = try await cached.workload(instance)
            #expect(seen?.replicas == 3 && seen?.resourceVersion == applied)
            for _ in 0..<60 { cluster.advance(by: 1) }
            // The watch delivers the changes; then both ports see the same.
            func same() async throws -> Bool {
                let a = try await cached.workload(instance), b = try await direct.workload(instance)
                let pa = try await cached.pods(instance).sorted { $0.name < $1.name }
                let pb = try await direct.pods(instance).sorted { $0.name < $1.name }
                return a == b && pa == pb
            }
            var agreed = false
            for _ in 0..<200 where !agreed {
                agreed = try await same()
                if !agreed { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(agreed)
            #expect(try await cached.pods(instance).count == 3)
            // …and they came from the cache, not from a fallback to the server.
            let fromWatch = cache.cloneSet(namespace: "prod", name: instance.name)
            #expect(fromWatch??.metadata.name == instance.name)
            #expect((cache.pods(namespace: "prod", matchLabels: [:])?.count ?? 0) >= 3)

            // A pod deleted (scale in by name) leaves the cache too.
            let victim = try #require(try await cached.pods(instance).first?.name)
            _ = try await cached.apply(KubeClusterPortTests.intent(replicas: 2, partition: 0, podsToDelete: [victim]), to: instance)
            for _ in 0..<60 { cluster.advance(by: 1) }
            var gone = false
            for _ in 0..<200 where !gone {
                let left = try await cached.pods(instance).allSatisfy { $0.name != victim }
                let agree = try await same()
                gone = left && agree
                if !gone { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(gone)
        }
    }
}
