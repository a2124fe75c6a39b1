import EventStore
import Foundation
import PostgresStore
import TritonAudit
import TritonSeals

/// What sealing costs and how fast a log is verified: in memory (the leaf and tree work, the signature,
/// the checker both verifiers run) and on PostgreSQL (sealing, the database verifier, the export and the
/// bundle verifier over the same `events`).
public enum SealBenchmark {
    public struct Options: Sendable {
        public var url: String
        public var events: Int
        /// A seal after this many events (in memory, for the verifier's work per seal).
        public var sealEvery: Int

        public init(url: String, events: Int = 1_000_000, sealEvery: Int = 1000) {
            self.url = url
            self.events = events
            self.sealEvery = sealEvery
        }
    }

    public struct Report: Sendable, Codable, CustomStringConvertible {
        public var events: Int
        public var sealEvery: Int
        /// Leaf hash and tree append, per event (nanoseconds).
        public var leafAndTreeNanosPerEvent: Double
        /// One Ed25519 seal signature (microseconds).
        public var signMicrosPerSeal: Double
        /// The sealer's work per event with a seal every `sealEvery` events (nanoseconds).
        public var sealingNanosPerEvent: Double
        /// LogChecker (chains, leaves, roots, signatures) in memory.
        public var verifyInMemoryEventsPerSecond: Double
        /// LogSealer.seal() over the whole log in the database (reading included), per event.
        public var databaseSealNanosPerEvent: Double
        public var databaseVerifyEventsPerSecond: Double
        public var exportEventsPerSecond: Double
        public var bundleVerifyEventsPerSecond: Double
        public var bundleBytes: UInt64

        public var description: String {
            [
                "seal benchmark: \(self.events) events (seals every \(self.sealEvery) in memory)",
                String(format: "  sealing, in memory:   %8.0f ns/event leaf + tree, %6.1f µs per signature → %6.0f ns/event", self.leafAndTreeNanosPerEvent, self.signMicrosPerSeal, self.sealingNanosPerEvent),
                String(format: "  verify, in memory:    %12.0f events/s (chains, leaves, roots, signatures)", self.verifyInMemoryEventsPerSecond),
                String(format: "  seal the database:    %8.0f ns/event (reading the log included)", self.databaseSealNanosPerEvent),
                String(format: "  verify the database:  %12.0f events/s", self.databaseVerifyEventsPerSecond),
                String(format: "  export a bundle:      %12.0f events/s (%.0f MB)", self.exportEventsPerSecond, Double(self.bundleBytes) / 1e6),
                String(format: "  verify the bundle:    %12.0f events/s (no database)", self.bundleVerifyEventsPerSecond),
            ].joined(separator: "\n")
        }
    }

    public static func run(_ options: Options, progress: @escaping @Sendable (String) -> Void) async throws -> Report {
        let key = SealKey()
        let payload = StoreBenchmark.payload(bytes: 300)
        let metadata = "{\"actor\": \"bench\", \"reason\": \"seal benchmark\"}"

        // In memory: events generated in chunks off the clock (their chain hashes too).
        progress("sealing \(options.events) events in memory…")
        var generator = Generator(payload: payload, metadata: metadata)
        var tree = MerkleTree()
        var seals: [Seal] = []
        var treeTime = Duration.zero
        var signTime = Duration.zero
        var done = 0
        while done < options.events {
            let chunk = generator.next(min(10_000, options.events - done))
            let started = ContinuousClock.now
            for event in chunk {
                tree.append(leafHash: SealLeaf(event, actor: "bench").hash)
                if tree.size % UInt64(options.sealEvery) == 0 {
                    let signing = ContinuousClock.now
                    seals.append(try key.seal(treeSize: tree.size, root: tree.root, timeMillis: 0, after: seals.last))
                    signTime += ContinuousClock.now - signing
                }
            }
            treeTime += ContinuousClock.now - started
            done += chunk.count
        }
        let leafAndTree = (Self.seconds(treeTime) - Self.seconds(signTime)) / Double(options.events) * 1e9
        let signMicros = seals.isEmpty ? 0 : Self.seconds(signTime) / Double(seals.count) * 1e6

        progress("verifying \(options.events) events in memory…")
        generator = Generator(payload: payload, metadata: metadata)
        var checker = try LogChecker(seals: seals, keys: [SealPublicKey(key.publicKey, validFromSequence: 1)])
        var verifyTime = Duration.zero
        done = 0
        while done < options.events {
            let chunk = generator.next(min(10_000, options.events - done))
            let started = ContinuousClock.now
            for event in chunk { try checker.check(event) }
            verifyTime += ContinuousClock.now - started
            done += chunk.count
        }
        _ = try checker.finish(trusted: seals.last)

        // On PostgreSQL: the same number of events, written by the database's own append function.
        let schema = "bench_seal_" + String(UInt64.random(in: 0..<UInt64.max), radix: 36)
        let admin = try await PostgresSession.connect(url: options.url, schema: nil, applicationName: "triton-bench")
        try await admin.execute("CREATE SCHEMA \(schema)")
        let store = try PostgresEventStore(configuration: .init(url: options.url, schema: schema, applicationName: "triton-bench"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("triton-bench-bundle-\(UUID().uuidString)")
        defer {
            store.shutdown()
            try? FileManager.default.removeItem(at: directory)
        }
        do {
            try await store.migrate()
            var written = 0
            while written < options.events {
                let streams = min(1000, (options.events - written + 99) / 100)
                try await admin.execute(
                    """
                    SET search_path TO \(schema);
                    SELECT append_events('bench-' || g, 0,
                        array_fill('BenchmarkEvent'::text, ARRAY[100]),
                        array_fill(\(PostgresSession.quoteLiteral(payload))::text, ARRAY[100]),
                        array_fill(\(PostgresSession.quoteLiteral(metadata))::text, ARRAY[100]))
                    FROM generate_series(\(written / 100 + 1), \(written / 100 + streams)) AS g;
                    """
                )
                written += streams * 100
                progress("wrote \(written) events to the database…")
            }
            let total = try await store.statistics().events

            progress("sealing the database's \(total) events…")
            var started = ContinuousClock.now
            var sealed: Seal?
            for _ in 0..<100 where sealed?.treeSize ?? 0 < UInt64(total) {
                if let seal = try await LogSealer(store: store, key: key).seal() { sealed = seal }
            }
            let databaseSeal = Self.seconds(ContinuousClock.now - started) / Double(total) * 1e9

            progress("verifying the database…")
            started = ContinuousClock.now
            let verified = try await LogAudit.verify(store)
            let databaseVerify = Double(verified.events) / Self.seconds(ContinuousClock.now - started)

            progress("exporting a bundle…")
            started = ContinuousClock.now
            let manifest = try await AuditBundle.export(store, to: directory)
            let export = Double(manifest.events) / Self.seconds(ContinuousClock.now - started)

            progress("verifying the bundle…")
            started = ContinuousClock.now
            let bundle = try AuditBundle.verify(directory)
            let bundleVerify = Double(bundle.events) / Self.seconds(ContinuousClock.now - started)
            try await admin.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")

            return Report(
                events: options.events, sealEvery: options.sealEvery, leafAndTreeNanosPerEvent: leafAndTree, signMicrosPerSeal: signMicros,
                sealingNanosPerEvent: leafAndTree + signMicros * 1000 / Double(options.sealEvery),
                verifyInMemoryEventsPerSecond: Double(options.events) / Self.seconds(verifyTime), databaseSealNanosPerEvent: databaseSeal,
                databaseVerifyEventsPerSecond: databaseVerify, exportEventsPerSecond: export, bundleVerifyEventsPerSecond: bundleVerify,
                bundleBytes: manifest.files.values.reduce(0) { $0 + $1.bytes }
            )
        } catch {
            try? await admin.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
            throw error
        }
    }

    /// Events of 1,000 interleaved streams with valid hash chains, as the log holds them.
    struct Generator {
        let payload: String
        let metadata: String
        var position: Int64 = 0
        var heads: [StreamID: (Int64, [UInt8])] = [:]
        let streams = (0..<1000).map { StreamID("bench-\($0)") }

        init(payload: String, metadata: String) {
            self.payload = payload
            self.metadata = metadata
        }

        mutating func next(_ count: Int) -> [RecordedEvent] {
            (0..<count).map { _ in
                self.position += 1
                let stream = self.streams[Int(self.position % 1000)]
                let (version, previous) = self.heads[stream] ?? (0, HashChain.genesis)
                let hash = HashChain.link(previous: previous, stream: stream, version: version + 1, type: "BenchmarkEvent", data: self.payload, metadata: self.metadata)
                self.heads[stream] = (version + 1, hash)
                return RecordedEvent(
                    logPosition: LogPosition(transaction: UInt64(self.position), position: self.position), streamID: stream, version: version + 1,
                    type: "BenchmarkEvent", data: self.payload, metadata: self.metadata,
                    recordedAt: Date(timeIntervalSince1970: 1_800_000_000 + Double(self.position) / 1000), hash: hash.hexString
                )
            }
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
