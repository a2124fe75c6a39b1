import EventStore
import PostgresStore
import TritonAudit
import TritonSeals
import Foundation

/// `triton bench store`: append and read throughput of the event log, each figure next to the
/// physical reference (plain single-row INSERTs of the same payload into a bare table) measured in
/// the same run on the same server.
public enum StoreBenchmark {
    public struct Options: Sendable {
        public var url: String
        /// Seconds per measured case. Defaults to `5`.
        public var seconds: Double
        /// Payload size in bytes of each event's data. Defaults to `600`.
        public var payloadBytes: Int
        /// Events written for the global-read measurement. Defaults to `200_000`.
        public var readEvents: Int

        public init(url: String, seconds: Double = 5, payloadBytes: Int = 600, readEvents: Int = 200_000) {
            self.url = url
            self.seconds = seconds
            self.payloadBytes = payloadBytes
            self.readEvents = readEvents
        }
    }

    public struct Row: Sendable, Codable {
        public var name: String
        public var writers: Int
        public var eventsPerAppend: Int
        public var eventsPerSecond: Double
        /// Ratio to the bare INSERT rate with the same number of writers (nil for the reference).
        public var ratioToBareInsert: Double?
        /// For the headline cases (coalesced NOTIFY, one event per append): measured in rounds that
        /// alternate with bare INSERTs, so a slow or noisy moment of the machine hits both; the rate and
        /// ratio are the rounds' medians, and these are the lowest and highest ratio of a round.
        public var ratioRange: [Double]? = nil
        public var rounds: Int? = nil
    }

    public struct SealingRow: Sendable, Codable {
        public var writers: Int
        public var unsealedEventsPerSecond: Double
        public var sealedEventsPerSecond: Double
        public var seals: Int
        /// The share of the append rate sealing takes (0.05 = 5% fewer events/s).
        public var cut: Double
    }

    public struct Report: Sendable, Codable, CustomStringConvertible {
        public var synchronousCommit: String
        public var fsync: String
        public var payloadBytes: Int
        public var secondsPerCase: Double
        public var rows: [Row]
        public var globalReadEventsPerSecond: Double
        public var globalReadEvents: Int
        /// Appends (coalesced NOTIFY, one event each) measured in alternating rounds without and with the sealer
        /// following the log (a seal every 1,000 events or 10 s, as `serve` seals).
        public var sealing: [SealingRow] = []

        public var description: String {
            var lines = [
                "event store benchmark (synchronous_commit=\(self.synchronousCommit), fsync=\(self.fsync), payload \(self.payloadBytes) B, \(self.secondsPerCase) s per case)",
                "",
                "case".padding(toLength: 44, withPad: " ", startingAt: 0) + "writers  ev/append      events/s   vs bare INSERT",
            ]
            for row in self.rows {
                var ratio = row.ratioToBareInsert.map { String(format: "%13.0f%%", $0 * 100) } ?? "    (reference)"
                if let range = row.ratioRange, range.count == 2, let rounds = row.rounds {
                    ratio += String(format: " (rounds %.0f–%.0f%%, %d alternating with bare INSERT)", range[0] * 100, range[1] * 100, rounds)
                }
                lines.append(
                    row.name.padding(toLength: 44, withPad: " ", startingAt: 0)
                        + String(format: "%7d  %9d  %12.0f  ", row.writers, row.eventsPerAppend, row.eventsPerSecond) + ratio
                )
            }
            lines.append("")
            lines.append(String(format: "global log read (decoded): %.0f events/s over %d events", self.globalReadEventsPerSecond, self.globalReadEvents))
            if !self.sealing.isEmpty {
                lines.append("")
                lines.append("sealing (a seal every 1,000 events or 10 s), medians of 3 rounds that alternate without and with it:")
                lines.append("writers   without sealer   with sealer   seals   cut (goal ≤ 10%)")
                for row in self.sealing {
                    lines.append(
                        String(
                            format: "%7d   %14.0f   %11.0f   %5d   %5.1f%%", row.writers, row.unsealedEventsPerSecond, row.sealedEventsPerSecond, row.seals,
                            row.cut * 100
                        )
                    )
                }
            }
            if self.synchronousCommit != "on" || self.fsync != "on" {
                lines.append("WARNING: the server is not durable (synchronous_commit/fsync off): figures are not comparable")
            }
            return lines.joined(separator: "\n")
        }
    }

    /// Runs every case; `progress` receives a line per case as it starts.
    public static func run(_ options: Options, progress: @escaping @Sendable (String) -> Void) async throws -> Report {
        let schema = "bench_" + String(UInt64.random(in: 0..<UInt64.max), radix: 36)
        let payload = Self.payload(bytes: options.payloadBytes)
        let admin = try await PostgresSession.connect(url: options.url, schema: nil, applicationName: "triton-bench")
        let row = try await admin.firstRow("SELECT current_setting('synchronous_commit'), current_setting('fsync')")
        let settings = ((row.first ?? nil) ?? "?", (row.last ?? nil) ?? "?")
        try await admin.execute("CREATE SCHEMA \(schema); CREATE TABLE \(schema).bare (payload jsonb)")
        do {
            let report = try await Self.runCases(options, schema: schema, payload: payload, admin: admin, progress: progress)
            try await admin.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
            return Report(
                synchronousCommit: settings.0, fsync: settings.1, payloadBytes: options.payloadBytes,
                secondsPerCase: options.seconds, rows: report.rows, globalReadEventsPerSecond: report.readRate,
                globalReadEvents: report.read, sealing: report.sealing
            )
        } catch {
            try? await admin.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
            throw error
        }
    }

    private static func runCases(
        _ options: Options, schema: String, payload: String, admin: PostgresSession, progress: @escaping @Sendable (String) -> Void
    ) async throws -> (rows: [Row], readRate: Double, read: Int, sealing: [SealingRow]) {

        var rows: [Row] = []
        var sealing: [SealingRow] = []
        var bare: [Int: Double] = [:]
        @Sendable func bareRate(_ writers: Int) async throws -> Double {
            try await Self.measure(writers: writers, seconds: options.seconds) { writer in
                let connection = try await PostgresSession.connect(url: options.url, schema: schema, applicationName: "triton-bench")
                return { _ in
                    try await connection.command("INSERT INTO bare (payload) VALUES ($1::jsonb)", [payload])
                    return 1
                }
            }
        }
        var bareRounds: [Int: [Double]] = [:]
        for writers in [1, 8] {
            progress("bare INSERT, \(writers) writer(s)…")
            let rate = try await bareRate(writers)
            bare[writers] = rate
            bareRounds[writers] = [rate]
            rows.append(Row(name: "bare INSERT (reference)", writers: writers, eventsPerAppend: 1, eventsPerSecond: rate))
        }
        let headlineRounds = 3

        for mode in [PostgresEventStore.NotifyMode.coalesced, .inTransaction, .none] {
            let store = try PostgresEventStore(
                configuration: .init(url: options.url, schema: schema, poolSize: 10, notifyMode: mode, applicationName: "triton-bench")
            )
            try await store.migrate()
            let background = Task { await store.run() }
            let cases: [(Int, Int)] = mode == .coalesced ? [(1, 1), (8, 1), (1, 10), (8, 10)] : [(1, 1), (8, 1)]
            for (writers, perAppend) in cases {
                @Sendable func appendRate(round: Int) async throws -> Double {
                    try await Self.measureAppends(
                        store, writers: writers, eventsPerAppend: perAppend, seconds: options.seconds, payload: payload,
                        streamPrefix: "bench-\(mode.rawValue)-\(writers)-\(perAppend)-\(round)"
                    )
                }
                guard mode == .coalesced, perAppend == 1 else {
                    progress("append, \(writers) writer(s) × \(perAppend) event(s), notify \(mode.rawValue)…")
                    let rate = try await appendRate(round: 0)
                    rows.append(
                        Row(
                            name: "append (notify \(mode.rawValue))", writers: writers, eventsPerAppend: perAppend,
                            eventsPerSecond: rate, ratioToBareInsert: bare[writers].map { rate / $0 }
                        )
                    )
                    continue
                }
                var rates: [Double] = []
                var ratios: [Double] = []
                for round in 0..<headlineRounds {
                    progress("append, \(writers) writer(s) × 1 event, notify coalesced, round \(round + 1)/\(headlineRounds)…")
                    let rate = try await appendRate(round: round)
                    // The first round's bare INSERTs are the reference rows measured above.
                    let reference = round == 0 ? bare[writers]! : try await bareRate(writers)
                    if round > 0 { bareRounds[writers, default: []].append(reference) }
                    rates.append(rate)
                    ratios.append(rate / reference)
                }
                rows.append(
                    Row(
                        name: "append (notify coalesced)", writers: writers, eventsPerAppend: 1, eventsPerSecond: Self.median(rates),
                        ratioToBareInsert: Self.median(ratios), ratioRange: [ratios.min()!, ratios.max()!], rounds: headlineRounds
                    )
                )
            }
            if mode == .coalesced {
                sealing = try await Self.measureSealing(store, payload: payload, seconds: options.seconds, progress: progress)
            }
            background.cancel()
            await background.value
            store.shutdown()
        }

        for (index, row) in rows.enumerated() where row.ratioToBareInsert == nil {
            if let rates = bareRounds[row.writers], rates.count > 1 { rows[index].eventsPerSecond = Self.median(rates) }
        }

        // Global read: make sure there are enough events, then read them all from the start.
        let store = try PostgresEventStore(configuration: .init(url: options.url, schema: schema, applicationName: "triton-bench"))
        defer { store.shutdown() }
        var existing = try await store.statistics().events
        if existing < Int64(options.readEvents) {
            progress("writing \(Int64(options.readEvents) - existing) events for the read test…")
            try await admin.execute(
                """
                SET search_path TO \(schema);
                SELECT append_events('bench-read-' || g, 0,
                    array_fill('BenchmarkEvent'::text, ARRAY[100]),
                    array_fill(\(PostgresSession.quoteLiteral(payload))::text, ARRAY[100]),
                    array_fill('{"actor":"bench"}'::text, ARRAY[100]))
                FROM generate_series(1, \((Int64(options.readEvents) - existing + 99) / 100)) AS g;
                """
            )
            existing = try await store.statistics().events
        }
        progress("reading the global log (\(existing) events)…")
        var read = 0
        let elapsed = try await store.readLog(expecting: existing, maximum: existing, pageSize: 5000, timeout: .seconds(60)) { read += $0.count }
        let readRate = Double(read) / Self.seconds(elapsed)

        return (rows, readRate, read, sealing)
    }

    /// Appends of one event by 1 and 8 writers, without and with a sealer following the log, in three
    /// rounds that alternate the two (the medians are reported: on a noisy machine one pair of runs
    /// back to back had moved by as much as the cut it measured).
    static func measureSealing(
        _ store: PostgresEventStore, payload: String, seconds: Double, progress: @escaping @Sendable (String) -> Void
    ) async throws -> [SealingRow] {
        var rows: [SealingRow] = []
        let rounds = 3
        for writers in [1, 8] {
            var unsealed: [Double] = []
            var sealedRates: [Double] = []
            var seals = 0
            for round in 0..<rounds {
                for sealed in [false, true] {
                    progress("append, \(writers) writer(s) × 1 event, \(sealed ? "with" : "without") the sealer, round \(round + 1)/\(rounds)…")
                    let sealer = LogSealer(store: store, key: SealKey())
                    // The earlier cases' events are sealed off the clock: what is measured is the sealer
                    // keeping up with the appends, as a running serve does, not its catching up.
                    if sealed { try await sealer.seal() }
                    let before = try await SealRecords(store: store).all().count
                    let task = sealed ? Task { try await sealer.run(policy: SealPolicy()) } : nil
                    if sealed { try await Task.sleep(for: .milliseconds(200)) }
                    let tag = sealed ? "sealed" : "unsealed"
                    let rate = try await Self.measureAppends(
                        store, writers: writers, seconds: seconds, payload: payload, streamPrefix: "bench-seal-\(tag)-\(writers)-\(round)"
                    )
                    task?.cancel()
                    _ = try? await task?.value
                    if sealed {
                        sealedRates.append(rate)
                        seals += try await SealRecords(store: store).all().count - before
                    } else {
                        unsealed.append(rate)
                    }
                }
            }
            let without = Self.median(unsealed)
            let with = Self.median(sealedRates)
            rows.append(SealingRow(writers: writers, unsealedEventsPerSecond: without, sealedEventsPerSecond: with, seals: seals, cut: 1 - with / without))
        }
        return rows
    }

    /// Appends by `writers` concurrent writers for `seconds`, each on its own stream (`<prefix>-<writer>`)
    /// with `eventsPerAppend` events of `payload` per append; returns events per second.
    static func measureAppends(
        _ store: PostgresEventStore, writers: Int, eventsPerAppend: Int = 1, seconds: Double, payload: String, streamPrefix: String
    ) async throws -> Double {
        try await Self.measure(writers: writers, seconds: seconds) { writer in
            let stream = StreamID("\(streamPrefix)-\(writer)")
            let events = (0..<eventsPerAppend).map { _ in
                NewEvent(type: "BenchmarkEvent", data: payload, metadata: "{\"actor\":\"bench\",\"source\":\"cli\"}")
            }
            return { i in
                let version = Int64(i * eventsPerAppend)
                _ = try await store.append(to: stream, expectedVersion: version == 0 ? .noStream : .exact(version), events: events)
                return eventsPerAppend
            }
        }
    }

    /// Runs `writers` concurrent loops for `seconds` and returns events per second. Each writer's
    /// setup runs before the clock starts; its step returns the number of events it wrote.
    static func measure(
        writers: Int, seconds: Double,
        setUp: @escaping @Sendable (Int) async throws -> @Sendable (Int) async throws -> Int
    ) async throws -> Double {
        let steps = try await withThrowingTaskGroup(of: (@Sendable (Int) async throws -> Int).self) { group in
            for writer in 0..<writers { group.addTask { try await setUp(writer) } }
            var steps: [@Sendable (Int) async throws -> Int] = []
            for try await step in group { steps.append(step) }
            return steps
        }
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let started = ContinuousClock.now
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for step in steps {
                group.addTask {
                    var count = 0
                    var i = 0
                    while ContinuousClock.now < deadline {
                        count += try await step(i)
                        i += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(total) / Self.seconds(ContinuousClock.now - started)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// A JSON object of about `bytes` bytes, shaped like a real event.
    static func payload(bytes: Int) -> String {
        let base = "{\"flowID\":\"8f14e45f-ceea-467f-a0e6-3f1a2b3c4d5e\",\"instance\":{\"namespace\":\"prod\",\"name\":\"checkout\"},\"batch\":3,\"phase\":\"Baking\",\"pods\":[\"checkout-x7k2p\",\"checkout-b9f3q\"],\"note\":\""
        let filler = String(repeating: "x", count: max(0, bytes - base.utf8.count - 2))
        return base + filler + "\"}"
    }
}
