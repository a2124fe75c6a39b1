import ArgumentParser
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
/// PostgreSQL log, in-process simulated cluster at a high time scale).
struct BenchEngine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Flows completed per second, intent-to-event latency, projection lag and peak memory, with many concurrent flows."
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Concurrent flows per case, comma-separated.")
    var flows: String = "100,1000"

    @Option(help: "Pods per flow (a create in two auto batches).")
    var pods: Int = 10

    @Option(help: "Simulated seconds per real second.")
    var timeScale: Double = 50

    @Option(help: "Milliseconds between runner ticks.")
    var tickMs: Int = 50

    @Option(help: "Give up on a case after this many seconds.")
    var timeout: Double = 900

    struct Case: Encodable, CustomStringConvertible {
        var flows: Int
        var podsPerFlow: Int
        var seconds: Double
        var flowsPerSecond: Double
        var intentToEventP50Ms: Double
        var intentToEventP99Ms: Double
        var projectionLagP50Ms: Double
        var projectionLagP99Ms: Double
        var events: Int64

        var description: String {
            String(
                format: "%5d flows × %d pods: %.1f s, %.2f flows/s; intent→event p50 %.1f ms p99 %.1f ms; event→projection lag p50 %.0f ms p99 %.0f ms; %lld events",
                self.flows, self.podsPerFlow, self.seconds, self.flowsPerSecond, self.intentToEventP50Ms, self.intentToEventP99Ms,
                self.projectionLagP50Ms, self.projectionLagP99Ms, self.events
            )
        }
    }

    struct Report: Encodable, CustomStringConvertible {
        var timeScale: Double
        var cases: [Case]
        var peakMemoryMB: Double

        var description: String {
            (["engine benchmark (in-process simulated cluster at time scale \(self.timeScale), PostgreSQL log, ownership locks)"]
                + self.cases.map { "  \($0)" }
                + [String(format: "  peak memory (max RSS) %.0f MB", self.peakMemoryMB)]).joined(separator: "\n")
        }
    }

    func validate() throws {
        guard !self.counts.isEmpty, self.counts.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--flows: give positive numbers, comma-separated (got '\(self.flows)')")
        }
        guard self.pods > 0 else { throw ValidationError("--pods: must be greater than 0") }
        guard self.timeScale > 0 else { throw ValidationError("--time-scale: must be greater than 0") }
        guard self.tickMs > 0 else { throw ValidationError("--tick-ms: must be greater than 0") }
    }

    var counts: [Int] { self.flows.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func run() async throws {
        var cases: [Case] = []
        for count in self.counts {
            cases.append(try await self.measure(flows: count))
            if !self.output.isJSON { self.output.progress("  \(cases.last!)") }
        }
        let report = Report(timeScale: self.timeScale, cases: cases, peakMemoryMB: Self.peakMemoryMB())
        if self.output.isJSON { try self.output.printJSON(report) } else { print(report) }
    }

    private func measure(flows count: Int) async throws -> Case {
        let schema = "bench_engine_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
        let store = try PostgresEventStore(
            configuration: .init(url: try self.database.resolvedURL(), schema: schema, poolSize: 16, applicationName: "triton-bench")
        )
        defer { store.shutdown() }
        try await store.migrate()
        self.output.progress("\(count) flows × \(self.pods) pods (schema \(schema))…")

        var simLogger = Logger(label: "triton.sim")
        simLogger.logLevel = .critical
        var simConfiguration = SimConfiguration(port: 0, timeScale: self.timeScale, seed: 1)
        simConfiguration.watchHistorySize = 1000
        let cluster = SimulatedCluster(configuration: simConfiguration, logger: simLogger)
        try cluster.create(.namespaces, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "bench"]])
        let handler = CommandHandler(store: store, cache: StateCache())
        let locks = PostgresAdvisoryLocks(store: store)
        let runner = FlowRunner(
            worker: FlowWorker(handler: handler, cluster: SimClusterPort(cluster: cluster), clock: { cluster.clock.date(at: cluster.now) }),
            tickInterval: .milliseconds(self.tickMs), ownership: locks
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
        let pods = self.pods
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
            guard ContinuousClock.now - started < .seconds(self.timeout) else {
                throw ValidationError("timeout: \(runner.finishedFlows.count)/\(count) flows finished after \(self.timeout) s")
            }
            if ContinuousClock.now - lastReport > .seconds(2) {
                self.output.progress("  finished \(runner.finishedFlows.count)/\(count)")
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

    static func peakMemoryMB() -> Double {
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
