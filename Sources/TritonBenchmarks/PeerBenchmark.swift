import EventStore
import Foundation
import PostgresStore
import TritonDomain
import TritonEngine

/// Triton's side of `ops/bench-peers.sh`: the same three figures the script measures for each peer on
/// the same server in the same run — appends by writer count, the global log read and decoded, and
/// streams folded into their state — printed for the script (`--output json`) or for people.
public enum PeerBenchmark {
    public struct Options: Sendable {
        public var url: String
        /// Concurrent writers per append case, each appending one event at a time to its own stream.
        public var writers: [Int]
        /// Seconds per append case.
        public var seconds: Double
        /// Bytes of each appended event's data.
        public var payloadBytes: Int
        /// Flow streams written for the read and fold figures.
        public var streams: Int
        /// Events per flow stream.
        public var eventsPerStream: Int

        public init(
            url: String, writers: [Int] = [1, 2, 4, 8], seconds: Double = 5, payloadBytes: Int = 600, streams: Int = 1000,
            eventsPerStream: Int = 100
        ) {
            self.url = url
            self.writers = writers
            self.seconds = seconds
            self.payloadBytes = payloadBytes
            self.streams = streams
            self.eventsPerStream = eventsPerStream
        }
    }

    public struct AppendRate: Sendable, Codable {
        public var writers: Int
        public var eventsPerSecond: Double
    }

    public struct Report: Sendable, Codable, CustomStringConvertible {
        public var system = "triton"
        public var synchronousCommit: String
        public var payloadBytes: Int
        public var appends: [AppendRate]
        /// Events of the whole log read in global order and each decoded into its domain event.
        public var globalReadEventsPerSecond: Double
        /// Flow streams read and folded with the domain's `evolve`, one after another.
        public var foldEventsPerSecond: Double
        public var readEvents: Int
        public var meanEventBytes: Int

        public var description: String {
            var lines = ["triton (synchronous_commit=\(self.synchronousCommit), payload \(self.payloadBytes) B)"]
            for rate in self.appends {
                lines.append(String(format: "  append, %d writer(s) × 1 event: %.0f events/s", rate.writers, rate.eventsPerSecond))
            }
            lines.append(
                String(format: "  global read + decode: %.0f events/s over %d events (~%d B each)", self.globalReadEventsPerSecond, self.readEvents, self.meanEventBytes)
            )
            lines.append(String(format: "  fold (read a flow's stream, decode, evolve): %.0f events/s", self.foldEventsPerSecond))
            return lines.joined(separator: "\n")
        }
    }

    public static func run(_ options: Options, progress: @escaping @Sendable (String) -> Void) async throws -> Report {
        let schema = "bench_peers_" + String(UInt64.random(in: 0..<UInt64.max), radix: 36)
        let store = try PostgresEventStore(
            configuration: .init(url: options.url, schema: schema, poolSize: max(10, (options.writers.max() ?? 1) + 2), applicationName: "triton-bench")
        )
        defer { store.shutdown() }
        try await store.migrate()
        let background = Task { await store.run() }
        defer { background.cancel() }
        do {
            let report = try await Self.measure(store, options, progress: progress)
            try await store.withTransaction { tx in try await tx.execute("DROP SCHEMA \(schema) CASCADE") }
            return report
        } catch {
            try? await store.withTransaction { tx in try await tx.execute("DROP SCHEMA \(schema) CASCADE") }
            throw error
        }
    }

    private static func measure(
        _ store: PostgresEventStore, _ options: Options, progress: @escaping @Sendable (String) -> Void
    ) async throws -> Report {
        let payload = StoreBenchmark.payload(bytes: options.payloadBytes)
        let setting = try await store.withTransaction { tx in try await tx.query("SELECT current_setting('synchronous_commit')") }
        var appends: [AppendRate] = []
        for writers in options.writers {
            progress("triton: append, \(writers) writer(s) × 1 event…")
            let rate = try await StoreBenchmark.measureAppends(
                store, writers: writers, seconds: options.seconds, payload: payload, streamPrefix: "bench-peers-\(writers)"
            )
            appends.append(AppendRate(writers: writers, eventsPerSecond: rate))
        }

        progress("triton: writing \(options.streams) flow streams of \(options.eventsPerStream) events…")
        let streams = try await Self.writeFlows(store, options)

        progress("triton: reading the global log and decoding each event…")
        // Every event written above is read, even while a transaction elsewhere on the server holds
        // the global read back for a moment (waited for off the clock).
        var read = 0
        var bytes = 0
        let total = try await store.statistics().events
        let readDuration = try await store.readLog(expecting: total, maximum: total, pageSize: 5000, timeout: .seconds(60)) { page in
            for event in page where event.type != "BenchmarkEvent" {
                _ = try DeployFlow.Event.decode(type: event.type, data: Data(event.data.utf8))
                bytes += event.data.utf8.count
                read += 1
            }
        }
        let readSeconds = StoreBenchmark.seconds(readDuration)

        progress("triton: folding \(streams.count) flow streams…")
        let handler = CommandHandler(store: store)
        var folded = 0
        let foldStarted = ContinuousClock.now
        for stream in streams {
            let (_, version) = try await handler.load(DeployFlow.self, stream: stream)
            folded += Int(version)
        }
        let foldSeconds = StoreBenchmark.seconds(ContinuousClock.now - foldStarted)
        return Report(
            synchronousCommit: (setting.first?.first ?? nil) ?? "?", payloadBytes: options.payloadBytes, appends: appends,
            globalReadEventsPerSecond: Double(read) / readSeconds, foldEventsPerSecond: Double(folded) / foldSeconds,
            readEvents: read, meanEventBytes: read == 0 ? 0 : bytes / read
        )
    }

    /// Real flow streams: a creation, then pod observations decided by the domain, appended 100 at a time.
    private static func writeFlows(_ store: PostgresEventStore, _ options: Options) async throws -> [StreamID] {
        let metadata = EventMetadata(actor: "observer", source: .observer, time: Date()).storedPrecision
        var streams: [StreamID] = []
        for n in 0..<options.streams {
            let create = DeployFlow.CreateFlow(
                flowID: FlowID("peers-\(n)"), instance: InstanceRef(namespace: "bench", name: "app-\(n)"), action: .create,
                appSpec: AppSpec(appID: n, groupID: 1, appName: "app-\(n)", image: "bench/app:v1"), currentReplicas: 0,
                targetReplicas: 10, strategy: Strategy(batches: 2, mode: .auto)
            )
            var state = DeployFlow.initialState
            var events: [DeployFlow.Event] = []
            var restarts = 0
            while events.count < options.eventsPerStream {
                let kind: DeployFlow.Command.Kind =
                    events.isEmpty
                    ? .create(create)
                    : .observePod(PodObservation(name: "app-\(n)-pod-\(restarts % 10)", phase: .running, restartCount: restarts))
                restarts += 1
                let produced = try DeployFlow.decide(DeployFlow.Command(kind, metadata: metadata), state)
                state = DeployFlow.fold(produced, from: state)
                events += produced
            }
            let stream = Streams.flow(create.flowID)
            var version: Int64 = 0
            for chunk in stride(from: 0, to: events.count, by: 100).map({ Array(events[$0..<min($0 + 100, events.count)]) }) {
                let result = try await store.append(
                    to: stream, expectedVersion: version == 0 ? .noStream : .exact(version),
                    events: try chunk.map { try $0.newEvent(metadata: metadata) }
                )
                version = result.lastVersion
            }
            streams.append(stream)
        }
        return streams
    }
}
