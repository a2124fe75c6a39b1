import EventStore
import Foundation
import KubeSim
import Logging
import PostgresStore
import TritonDomain
import TritonEngine
import TritonJSON
import TritonProjections
import TritonReports
import TritonSimAdapter

/// `triton bench reports`: the period report over many releases. Two real releases (a create, then a
/// canary update approved step by step) are run once by the engine on the simulated cluster; their
/// events are copied into as many instances as needed, projected, and the report is generated from the
/// log: the compliance record of every release, the summaries, CSV and HTML.
public enum ReportBenchmark {
    public struct Options: Sendable {
        public var url: String
        public var releases: Int

        public init(url: String, releases: Int = 10_000) {
            self.url = url
            self.releases = releases
        }
    }

    public struct Report: Sendable, Codable, CustomStringConvertible {
        public var releases: Int
        public var events: Int64
        public var writeSeconds: Double
        public var projectSeconds: Double
        /// Every release's compliance record, from the log.
        public var recordsSeconds: Double
        public var summarySeconds: Double
        public var csvSeconds: Double
        public var htmlSeconds: Double
        public var csvBytes: Int
        public var htmlBytes: Int

        public var description: String {
            [
                "report benchmark: \(self.releases) releases (\(self.events) events; written in \(String(format: "%.1f", self.writeSeconds)) s, projected in \(String(format: "%.1f", self.projectSeconds)) s)",
                String(format: "  compliance records: %6.2f s (%.0f releases/s)", self.recordsSeconds, Double(self.releases) / self.recordsSeconds),
                String(format: "  summaries:          %6.3f s", self.summarySeconds),
                String(format: "  csv:                %6.3f s (%d bytes)", self.csvSeconds, self.csvBytes),
                String(format: "  html:               %6.3f s (%d bytes)", self.htmlSeconds, self.htmlBytes),
                String(format: "  total:              %6.2f s", self.recordsSeconds + self.summarySeconds + self.csvSeconds + self.htmlSeconds),
            ].joined(separator: "\n")
        }
    }

    public static func run(_ options: Options, progress: @escaping @Sendable (String) -> Void) async throws -> Report {
        let schema = "bench_report_" + String(UInt64.random(in: 0..<UInt64.max), radix: 36)
        let admin = try await PostgresSession.connect(url: options.url, schema: nil, applicationName: "triton-bench")
        try await admin.execute("CREATE SCHEMA \(schema)")
        let store = try PostgresEventStore(configuration: .init(url: options.url, schema: schema, applicationName: "triton-bench"))
        defer { store.shutdown() }
        do {
            try await store.migrate()
            progress("running two real releases on the simulated cluster…")
            let template = try await Self.templateReleases(store)
            let copies = max(0, (options.releases + 1) / 2 - 1)
            progress("copying them into \(copies) more instances…")
            var started = ContinuousClock.now
            var copied = 0
            while copied < copies {
                let batch = (copied..<min(copies, copied + 50)).flatMap { Self.copy(template, as: $0 + 1) }
                _ = try await store.append(batch)
                copied = min(copies, copied + 50)
                if copied % 1000 == 0 || copied == copies { progress("copied \(copied) of \(copies)…") }
            }
            let writeSeconds = Self.seconds(ContinuousClock.now - started)
            progress("projecting…")
            started = ContinuousClock.now
            _ = try await FlowProjector(store: store).catchUp()
            let projectSeconds = Self.seconds(ContinuousClock.now - started)
            let events = try await store.statistics().events

            progress("building every release's compliance record…")
            started = ContinuousClock.now
            let records = try await PeriodReports.records(store, PeriodReport.Filter()) { done, total in
                if done % 1000 == 0 || done == total { progress("records \(done) of \(total)…") }
            }
            let recordsSeconds = Self.seconds(ContinuousClock.now - started)
            started = ContinuousClock.now
            let report = PeriodReport(records: records, filter: PeriodReport.Filter())
            let summarySeconds = Self.seconds(ContinuousClock.now - started)
            started = ContinuousClock.now
            let csv = report.csv
            let csvSeconds = Self.seconds(ContinuousClock.now - started)
            started = ContinuousClock.now
            let html = ReportHTML.report(report)
            let htmlSeconds = Self.seconds(ContinuousClock.now - started)
            try await admin.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
            return Report(
                releases: records.count, events: events, writeSeconds: writeSeconds, projectSeconds: projectSeconds, recordsSeconds: recordsSeconds,
                summarySeconds: summarySeconds, csvSeconds: csvSeconds, htmlSeconds: htmlSeconds, csvBytes: csv.utf8.count, htmlBytes: html.utf8.count
            )
        } catch {
            try? await admin.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
            throw error
        }
    }

    /// The streams of the two template releases of instance `bench/app-0`.
    struct Template {
        var streams: [(StreamID, [RecordedEvent])]
    }

    static let instance = InstanceRef(namespace: "bench", name: "app-0")

    static func templateReleases(_ store: PostgresEventStore) async throws -> Template {
        var logger = Logger(label: "triton.sim")
        logger.logLevel = .critical
        // A manual clock: the loop below moves it a second at a time, as the engine tests do.
        var configuration = SimConfiguration(seed: 1)
        configuration.clock = .manual(ManualClock())
        configuration.timingJitter = 0
        let cluster = SimulatedCluster(configuration: configuration, logger: logger)
        try cluster.create(.namespaces, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "bench"]])
        let handler = CommandHandler(store: store, cache: StateCache())
        let worker = FlowWorker(handler: handler, cluster: SimClusterPort(cluster: cluster), clock: { cluster.clock.date(at: cluster.now) })
        func metadata(_ actor: String, _ reason: String) -> EventMetadata {
            EventMetadata(actor: actor, reason: reason, requestID: UUID().uuidString, source: .api, time: cluster.clock.date(at: cluster.now))
        }
        func run(_ create: DeployFlow.CreateFlow) async throws {
            var state = try await handler.createFlow(create, metadata: metadata("dave", "release \(create.appSpec.image)"))
            for _ in 0..<900 where !state.isFinished {
                cluster.advance(by: 1)
                state = try await worker.step(create.flowID)
                if DeployFlow.waitingStep(state) != nil {
                    state = try await handler.send(.next, to: create.flowID, metadata: metadata("anna", "looks good")).state
                }
            }
            guard state.phase == .success else { throw ComplianceError("the template release \(create.flowID) ended \(state.phase.rawValue)") }
        }
        let spec = { (image: String) in
            AppSpec(appID: 1, groupID: 1, appName: "app", image: image, template: "{\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"\(image)\"}]}}")
        }
        try await run(
            DeployFlow.CreateFlow(
                flowID: FlowID("app-0-create"), instance: Self.instance, action: .create, appSpec: spec("shop/app:v1"), currentReplicas: 0,
                targetReplicas: 4, strategy: Strategy(batchSize: .count(2), mode: .auto)
            )
        )
        cluster.advance(by: 60)
        let pods = try await SimClusterPort(cluster: cluster).pods(Self.instance).filter { !$0.terminating }.map(\.name).sorted()
        try await run(
            DeployFlow.CreateFlow(
                flowID: FlowID("app-0-update"), instance: Self.instance, action: .update, appSpec: spec("shop/app:v2"), currentReplicas: 4,
                targetReplicas: 4, existingPods: pods, strategy: Strategy(batchSize: .count(2), canary: 1, mode: .manual)
            )
        )
        var streams: [(StreamID, [RecordedEvent])] = []
        for stream in [Streams.instance(Self.instance), Streams.flow(FlowID("app-0-create")), Streams.flow(FlowID("app-0-update"))] {
            streams.append((stream, try await store.readStream(stream)))
        }
        return Template(streams: streams)
    }

    /// The template's streams as instance `bench/app-<n>`'s.
    static func copy(_ template: Template, as n: Int) -> [StreamAppend] {
        template.streams.map { stream, events in
            let rename = { (text: String) in text.replacingOccurrences(of: "app-0", with: "app-\(n)") }
            return StreamAppend(
                streamID: StreamID(rename(stream.rawValue)), expectedVersion: .noStream,
                events: events.map { NewEvent(type: $0.type, data: rename($0.data), metadata: $0.metadata) }
            )
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
