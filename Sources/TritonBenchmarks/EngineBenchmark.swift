import EventStore
import Foundation
import KubeSim
import Logging
import PostgresStore
import TritonDomain
import TritonEngine
import TritonJSON
import TritonProjections
import TritonSimAdapter

/// `triton bench engine`: many concurrent flows end to end (runner with ownership locks, projector,
/// PostgreSQL log, in-process simulated cluster at a high time scale), each case in a throwaway schema.
public enum EngineBenchmark {
    public struct Options: Sendable {
        public var url: String
        /// Concurrent flows per case.
        public var flows: [Int]
        /// Pods per flow (a create in two auto batches).
        public var podsPerFlow: Int
        /// Simulated seconds per real second.
        public var timeScale: Double
        /// Milliseconds between runner ticks.
        public var tickMs: Int
        /// Seconds after which a case gives up.
        public var timeout: Double

        public init(url: String, flows: [Int] = [100, 1000], podsPerFlow: Int = 10, timeScale: Double = 50, tickMs: Int = 50, timeout: Double = 900) {
            self.url = url
            self.flows = flows
            self.podsPerFlow = podsPerFlow
            self.timeScale = timeScale
            self.tickMs = tickMs
            self.timeout = timeout
        }
    }

    /// A case did not finish in time.
    public struct Timeout: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    public struct Case: Sendable, Codable, CustomStringConvertible {
        public var flows: Int
        public var podsPerFlow: Int
        public var seconds: Double
        public var flowsPerSecond: Double
        public var intentToEventP50Ms: Double
        public var intentToEventP99Ms: Double
        public var projectionLagP50Ms: Double
        public var projectionLagP99Ms: Double
        public var events: Int64

        public var description: String {
            String(
                format: "%5d flows × %d pods: %.1f s, %.2f flows/s; intent→event p50 %.1f ms p99 %.1f ms; event→projection lag p50 %.0f ms p99 %.0f ms; %lld events",
                self.flows, self.podsPerFlow, self.seconds, self.flowsPerSecond, self.intentToEventP50Ms, self.intentToEventP99Ms,
                self.projectionLagP50Ms, self.projectionLagP99Ms, self.events
            )
        }
    }

    public struct Report: Sendable, Codable, CustomStringConvertible {
        public var timeScale: Double
        public var cases: [Case]
        public var peakMemoryMB: Double

        public var description: String {
            (["engine benchmark (in-process simulated cluster at time scale \(self.timeScale), PostgreSQL log, ownership locks)"]
                + self.cases.map { "  \($0)" }
                + [String(format: "  peak memory (max RSS) %.0f MB", self.peakMemoryMB)]).joined(separator: "\n")
        }
    }

    /// Runs every case in turn; `progress` gets a line per case and every two seconds within one.
    public static func run(_ options: Options, progress: @escaping @Sendable (String) -> Void) async throws -> Report {
        var cases: [Case] = []
        for count in options.flows {
            cases.append(try await self.measure(flows: count, options, progress: progress))
            progress("  \(cases.last!)")
        }
        return Report(timeScale: options.timeScale, cases: cases, peakMemoryMB: self.peakMemoryMB())
    }

    private static func measure(flows count: Int, _ options: Options, progress: @escaping @Sendable (String) -> Void) async throws -> Case {
        let schema = "bench_engine_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
        let store = try PostgresEventStore(
            configuration: .init(url: options.url, schema: schema, poolSize: 16, applicationName: "triton-bench")
        )
        defer { store.shutdown() }
        try await store.migrate()
        // The pool's connections are opened before the clock starts, as a running server has them open:
        // otherwise the first 16 intents each pay a connection's set-up, which is the p99 at 1,000 flows.
        try await store.warmUp()
        progress("\(count) flows × \(options.podsPerFlow) pods (schema \(schema))…")

        var simLogger = Logger(label: "triton.sim")
        simLogger.logLevel = .critical
        var simConfiguration = SimConfiguration(port: 0, timeScale: options.timeScale, seed: 1)
        simConfiguration.watchHistorySize = 1000
        let cluster = SimulatedCluster(configuration: simConfiguration, logger: simLogger)
        try cluster.create(.namespaces, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "bench"]])
        let handler = CommandHandler(store: store, cache: StateCache())
        let locks = PostgresAdvisoryLocks(store: store)
        let runner = FlowRunner(
            worker: FlowWorker(handler: handler, cluster: SimClusterPort(cluster: cluster), clock: { cluster.clock.date(at: cluster.now) }),
            tickInterval: .milliseconds(options.tickMs), ownership: locks
        )
        let projector = FlowProjector(store: store)
        let lags = Samples()
        let background = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await cluster.run() }
                group.addTask { await store.run() }
                group.addTask { try await projector.run() }
                group.addTask { try await runner.run() }
                group.addTask {
                    // The age of the oldest event the projector has not folded yet, every 50 ms.
                    while !Task.isCancelled {
                        let checkpoint = try await projector.checkpoint()
                        let next = try await store.readAll(after: checkpoint, limit: 1)
                        lags.add(next.first.map { Date().timeIntervalSince($0.recordedAt) * 1000 } ?? 0)
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
                try await group.waitForAll()
            }
        }
        defer { background.cancel() }
        _ = try await cluster.waitUntilListening()

        let latencies = Samples()
        let started = ContinuousClock.now
        let pods = options.podsPerFlow
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func add() {
                let n = next
                next += 1
                group.addTask {
                    let create = DeployFlow.CreateFlow(
                        flowID: FlowID("bench-\(n)"), instance: InstanceRef(namespace: "bench", name: "app-\(n)"), action: .create,
                        appSpec: AppSpec(appID: n, groupID: 1, appName: "app-\(n)", image: "bench/app:v1"), currentReplicas: 0,
                        targetReplicas: pods, strategy: Strategy(batches: 2, mode: .auto)
                    )
                    let t0 = ContinuousClock.now
                    _ = try await handler.createFlow(
                        create, metadata: EventMetadata(actor: "bench", reason: "benchmark", source: .api, time: Date())
                    )
                    latencies.add((ContinuousClock.now - t0).seconds * 1000)
                }
            }
            for _ in 0..<min(16, count) { add() }
            while try await group.next() != nil {
                if next < count { add() }
            }
        }
        var lastReport = ContinuousClock.now
        while runner.finishedFlows.count < count {
            guard ContinuousClock.now - started < .seconds(options.timeout) else {
                throw EngineBenchmark.Timeout("timeout: \(runner.finishedFlows.count)/\(count) flows finished after \(options.timeout) s")
            }
            if ContinuousClock.now - lastReport > .seconds(2) {
                progress("  finished \(runner.finishedFlows.count)/\(count)")
                lastReport = ContinuousClock.now
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let seconds = (ContinuousClock.now - started).seconds
        // Let the projector catch up so the lag samples include the tail.
        try await Task.sleep(for: .milliseconds(500))
        let events = try await store.statistics().events
        background.cancel()
        _ = await background.result
        // The benchmark's log is throwaway: it leaves no schema behind (the name is bench_engine_ + hex).
        try await store.withTransaction { tx in try await tx.execute("DROP SCHEMA \(schema) CASCADE") }
        return Case(
            flows: count, podsPerFlow: pods, seconds: seconds, flowsPerSecond: Double(count) / seconds,
            intentToEventP50Ms: latencies.percentile(0.5), intentToEventP99Ms: latencies.percentile(0.99),
            projectionLagP50Ms: lags.percentile(0.5), projectionLagP99Ms: lags.percentile(0.99), events: events
        )
    }

    public static func peakMemoryMB() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
    }
}

/// Thread-safe samples with percentiles.
final class Samples: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Double] = []

    func add(_ value: Double) {
        self.lock.lock()
        self.values.append(value)
        self.lock.unlock()
    }

    func percentile(_ p: Double) -> Double {
        self.lock.lock()
        defer { self.lock.unlock() }
        guard !self.values.isEmpty else { return 0 }
        let sorted = self.values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }
}

extension Duration {
    var seconds: Double { Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18 }
}
