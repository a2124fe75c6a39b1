import Foundation
import Synchronization
import KubeSim
import TritonJSON

/// Latency percentiles of one kind of request, in milliseconds.
public struct LatencySummary: Sendable, Codable, Hashable {
    public var samples: Int
    public var p50: Double
    public var p99: Double
    public var max: Double

    init(_ durations: [Double]) {
        let sorted = durations.sorted()
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))] * 1000
        }
        self.samples = sorted.count
        self.p50 = percentile(0.5)
        self.p99 = percentile(0.99)
        self.max = (sorted.last ?? 0) * 1000
    }
}

/// What ``SimBenchmark/run(cloneSets:podsPerCloneSet:watchers:progress:)`` measured.
public struct SimBenchmarkReport: Sendable, Codable, CustomStringConvertible {
    public var cloneSets: Int
    public var pods: Int
    public var watchers: Int
    /// Seconds from creating the CloneSets until every pod was Running with ready containers.
    public var rolloutSeconds: Double
    /// `GET` of one CloneSet's pods by label selector.
    public var list: LatencySummary
    /// `GET` of one pod.
    public var get: LatencySummary
    /// Strategic-merge `PATCH` of a pod's status (a readiness gate), as Triton's executor does.
    public var patch: LatencySummary
    /// Watch events delivered per second, summed over all watchers.
    public var watchEventsPerSecond: Double
    /// Watch events delivered in total, summed over all watchers.
    public var watchEvents: Int

    public var description: String {
        func row(_ name: String, _ l: LatencySummary) -> String {
            name.padding(toLength: 28, withPad: " ", startingAt: 0)
                + String(format: "%8d %10.2f %10.2f %10.2f", l.samples, l.p50, l.p99, l.max)
        }
        return """
            triton sim benchmark: \(self.cloneSets) CloneSets, \(self.pods) pods, \(self.watchers) watchers
            rollout to all pods running: \(String(format: "%.1f", self.rolloutSeconds)) s

            request                      samples   p50 (ms)   p99 (ms)   max (ms)
            \(row("list pods (label selector)", self.list))
            \(row("get pod", self.get))
            \(row("patch pod status (SMP)", self.patch))

            watch events: \(self.watchEvents) delivered, \(String(format: "%.0f", self.watchEventsPerSecond)) events/s across \(self.watchers) watchers
            """
    }
}

/// Measures the simulated cluster at scale over real HTTP on loopback.
public enum SimBenchmark {
    /// Creates `cloneSets` CloneSets of `podsPerCloneSet` pods with `watchers` pod watches open,
    /// waits for every pod to run, then measures list, get and patch latency (p50/p99) and the
    /// rate of watch events.
    /// - Parameters:
    ///   - samples: Requests measured per kind. Defaults to `500`.
    ///   - timeScale: Simulated seconds per real second. Defaults to `20`.
    ///   - progress: Called with a line of progress now and then.
    public static func run(
        cloneSets: Int = 500, podsPerCloneSet: Int = 20, watchers: Int = 4, samples: Int = 500, timeScale: Double = 20,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> SimBenchmarkReport {
        var configuration = SimConfiguration(timeScale: timeScale, seed: 1)
        configuration.timings.startupSeconds = 5
        configuration.watchHistorySize = 200_000
        let cluster = SimulatedCluster(configuration: configuration)
        return try await withThrowingTaskGroup(of: SimBenchmarkReport?.self) { group in
            group.addTask {
                try await cluster.run()
                return nil
            }
            defer { group.cancelAll() }
            let port = try await cluster.waitUntilListening()
            let report = try await self.measure(
                cluster, port: port, cloneSets: cloneSets, podsPerCloneSet: podsPerCloneSet, watchers: watchers, samples: samples,
                progress: progress)
            group.cancelAll()
            return report
        }
    }

    static let namespaces = 10

    private static func measure(
        _ cluster: SimulatedCluster, port: Int, cloneSets: Int, podsPerCloneSet: Int, watchers: Int, samples: Int,
        progress: @escaping @Sendable (String) -> Void
    ) async throws -> SimBenchmarkReport {
        for i in 0..<Self.namespaces {
            try cluster.create(.namespaces, ["metadata": ["name": .string("bench-\(i)")]])
        }
        // Watchers over HTTP, each on its own thread.
        let counters = WatchCounters(count: watchers)
        let startRevision = cluster.resourceVersion
        var watchClients: [BlockingHTTPClient] = []
        for w in 0..<watchers {
            let client = try BlockingHTTPClient(host: "127.0.0.1", port: port)
            watchClients.append(client)
            _ = try await onThread { try client.startStream("/api/v1/pods?watch=1&resourceVersion=\(startRevision)") }
            let thread = Thread {
                while let chunk = try? client.readChunk() {
                    counters.add(w, chunk.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) })
                }
            }
            thread.start()
        }
        let start = ContinuousClock.now
        progress("creating \(cloneSets) CloneSets × \(podsPerCloneSet) pods")
        for i in 0..<cloneSets {
            var cs: JSONValue = [
                "metadata": ["name": .string("app-\(i)"), "namespace": .string("bench-\(i % Self.namespaces)")],
                "spec": [
                    "replicas": .int(podsPerCloneSet), "selector": ["matchLabels": ["app": .string("app-\(i)")]],
                    "template": [
                        "metadata": ["labels": ["app": .string("app-\(i)")]],
                        "spec": ["containers": [["name": "app", "image": "reg/bench:v1"]]],
                    ],
                    "updateStrategy": ["maxUnavailable": 0, "maxSurge": "60%"],
                ],
            ]
            cs["apiVersion"] = "apps.kruise.io/v1alpha1"
            try cluster.create(.cloneSets, cs)
        }
        let total = cloneSets * podsPerCloneSet
        var lastReport = ContinuousClock.now
        while true {
            let ready = try cluster.list(.pods, namespace: nil).filter {
                ($0[path: ["status", "containerStatuses"]]?.arrayValue?.first?["ready"]?.boolValue ?? false)
            }.count
            if ready >= total { break }
            if ContinuousClock.now - lastReport > .seconds(5) {
                progress("\(ready)/\(total) pods running and ready")
                lastReport = .now
            }
            if ContinuousClock.now - start > .seconds(600) { throw BlockingHTTPClient.Failure(description: "pods did not come up in 10 minutes") }
            try await Task.sleep(for: .milliseconds(500))
        }
        let rollout = ContinuousClock.now - start
        progress("all \(total) pods running; measuring \(samples) requests of each kind")

        let pods = try cluster.list(.pods, namespace: nil).map { ($0.namespace, $0.name) }
        let measured = try await onThread { () throws -> ([Double], [Double], [Double]) in
            let client = try BlockingHTTPClient(host: "127.0.0.1", port: port)
            var random = SeededRandom(seed: 99)
            func time(_ body: () throws -> Void) rethrows -> Double {
                let t0 = ContinuousClock.now
                try body()
                let d = ContinuousClock.now - t0
                return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
            }
            var lists: [Double] = []
            var gets: [Double] = []
            var patches: [Double] = []
            for _ in 0..<samples {
                let i = Int(random.next() % UInt64(cloneSets))
                lists.append(
                    try time {
                        let (status, _) = try client.request("GET", "/api/v1/namespaces/bench-\(i % Self.namespaces)/pods?labelSelector=app%3Dapp-\(i)")
                        guard status == 200 else { throw BlockingHTTPClient.Failure(description: "list returned \(status)") }
                    })
                let (ns, name) = pods[Int(random.next() % UInt64(pods.count))]
                gets.append(
                    try time {
                        let (status, _) = try client.request("GET", "/api/v1/namespaces/\(ns)/pods/\(name)")
                        guard status == 200 else { throw BlockingHTTPClient.Failure(description: "get returned \(status)") }
                    })
                let body: JSONValue = ["status": ["conditions": [["type": "apps.triton.io/ready", "status": "True"]]]]
                patches.append(
                    try time {
                        let (status, _) = try client.request(
                            "PATCH", "/api/v1/namespaces/\(ns)/pods/\(name)/status", body: body.serialized(),
                            contentType: "application/strategic-merge-patch+json")
                        guard status == 200 else { throw BlockingHTTPClient.Failure(description: "patch returned \(status)") }
                    })
            }
            return (lists, gets, patches)
        }
        // Let the watchers drain what is pending.
        try await Task.sleep(for: .milliseconds(500))
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let events = counters.total
        for client in watchClients { client.shutdownConnection() }
        return SimBenchmarkReport(
            cloneSets: cloneSets, pods: total, watchers: watchers,
            rolloutSeconds: Double(rollout.components.seconds) + Double(rollout.components.attoseconds) * 1e-18,
            list: LatencySummary(measured.0), get: LatencySummary(measured.1), patch: LatencySummary(measured.2),
            watchEventsPerSecond: Double(events) / max(seconds, 0.001), watchEvents: events)
    }

    /// Runs blocking work on a dedicated thread.
    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}

/// Event counts per watcher.
final class WatchCounters: Sendable {
    private let counts: Mutex<[Int]>

    init(count: Int) { self.counts = Mutex(Array(repeating: 0, count: count)) }

    func add(_ watcher: Int, _ n: Int) { self.counts.withLock { $0[watcher] += n } }

    var total: Int { self.counts.withLock { $0.reduce(0, +) } }
}
