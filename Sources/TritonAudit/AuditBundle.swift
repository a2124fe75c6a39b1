import Crypto
import EventStore
import Foundation
import PostgresStore
import TritonJSON
import TritonSeals

/// An audit bundle: everything an auditor needs to check the log without its database. A folder of
/// `events.jsonl` (one event per line in global order, data and metadata as the exact text the hash
/// chain covers), `seals.json`, `keys.json` (the public keys with the seals each may sign) and
/// `manifest.json` (the SHA-256 and size of each of those files, counts, the last seal).
public enum AuditBundle {
    public static let format = "triton-audit-bundle/v1"
    public static let eventsFile = "events.jsonl"
    public static let sealsFile = "seals.json"
    public static let keysFile = "keys.json"
    public static let manifestFile = "manifest.json"

    public struct Manifest: Codable, Sendable, Equatable {
        public struct File: Codable, Sendable, Equatable {
            public var sha256: String
            public var bytes: UInt64

            public init(sha256: String, bytes: UInt64) {
                self.sha256 = sha256
                self.bytes = bytes
            }
        }

        public var format: String
        public var createdAt: String
        public var events: UInt64
        public var streams: Int
        public var seals: Int
        public var lastSeal: Seal?
        public var files: [String: File]
    }

    // MARK: - Export

    /// Writes the bundle of the log as it stands into `directory` (created; existing bundle files are
    /// replaced). The seals are read first, so every sealed event is in the bundle; events appended
    /// since are exported unsealed.
    public static func export(
        _ store: PostgresEventStore, to directory: URL, now: Date = Date(), progress: (@Sendable (UInt64, Int64) -> Void)? = nil
    ) async throws -> Manifest {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let records = SealRecords(store: store)
        let seals = try await records.all()
        let keys = try await records.keys()
        let (committed, _) = try await store.statistics()

        let eventsURL = directory.appendingPathComponent(Self.eventsFile)
        _ = FileManager.default.createFile(atPath: eventsURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: eventsURL)
        defer { try? handle.close() }
        var hasher = Crypto.SHA256()
        var bytes: UInt64 = 0
        var count: UInt64 = 0
        var streams = Set<String>()
        var buffer: [UInt8] = []
        try await store.readLog(expecting: committed) { events in
            buffer.removeAll(keepingCapacity: true)
            for event in events {
                Self.line(event).write(into: &buffer)
                buffer.append(0x0A)
                streams.insert(event.streamID.rawValue)
            }
            hasher.update(data: buffer)
            bytes += UInt64(buffer.count)
            try handle.write(contentsOf: buffer)
            count += UInt64(events.count)
            progress?(count, committed)
        }
        try handle.close()

        var files: [String: Manifest.File] = [Self.eventsFile: .init(sha256: Hex.encode(Array(hasher.finalize())), bytes: bytes)]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        for (name, data) in [(Self.sealsFile, try encoder.encode(seals)), (Self.keysFile, try encoder.encode(keys))] {
            try data.write(to: directory.appendingPathComponent(name), options: .atomic)
            files[name] = .init(sha256: Hex.encode(Array(Crypto.SHA256.hash(data: data))), bytes: UInt64(data.count))
        }
        let manifest = Manifest(
            format: Self.format, createdAt: ISO8601DateFormatter().string(from: now), events: count, streams: streams.count, seals: seals.count,
            lastSeal: seals.last, files: files
        )
        try encoder.encode(manifest).write(to: directory.appendingPathComponent(Self.manifestFile), options: .atomic)
        return manifest
    }

    /// One event's line.
    static func line(_ event: RecordedEvent) -> JSONValue {
        [
            "position": .int(Int(event.position)),
            "tx": .string(String(event.logPosition.transaction)),
            "stream": .string(event.streamID.rawValue),
            "version": .int(Int(event.version)),
            "type": .string(event.type),
            "timeMillis": .int(Int((event.recordedAt.timeIntervalSince1970 * 1000).rounded())),
            "data": .string(event.data),
            "metadata": .string(event.metadata),
            "hash": .string(event.hash),
        ]
    }

    // MARK: - Verify

    /// Checks a bundle with no database: each file against the manifest, every event's stream chain and
    /// leaf, every seal (signature by a key valid for it, the chain of seals, each root recomputed), and
    /// against `trusted`, a seal the auditor kept. Throws the first ``AuditFailure``.
    public static func verify(
        _ directory: URL, trusted: Seal? = nil, progress: (@Sendable (UInt64, UInt64) -> Void)? = nil
    ) throws(AuditFailure) -> AuditReport {
        let manifestURL = directory.appendingPathComponent(Self.manifestFile)
        guard let manifestData = FileManager.default.contents(atPath: manifestURL.path) else {
            throw AuditFailure(check: .manifest, message: "\(manifestURL.path): not found (is \(directory.path) a bundle of triton audit export?)")
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: manifestData)
        } catch {
            throw AuditFailure(check: .manifest, message: "\(Self.manifestFile): not a bundle manifest (\(error))")
        }
        guard manifest.format == Self.format else {
            throw AuditFailure(check: .manifest, message: "\(Self.manifestFile): format \(manifest.format), this verifier reads \(Self.format)")
        }
        var checked: [String] = []
        for name in [Self.eventsFile, Self.sealsFile, Self.keysFile] {
            guard let expected = manifest.files[name] else {
                throw AuditFailure(check: .manifest, message: "\(Self.manifestFile): lists no \(name)")
            }
            let (sha256, bytes) = try Self.digest(directory.appendingPathComponent(name))
            guard sha256 == expected.sha256, bytes == expected.bytes else {
                throw AuditFailure(
                    check: .manifest, message: "\(name): its SHA-256 or size (\(bytes) bytes) does not match the manifest's: the file was changed after the export"
                )
            }
            checked.append(name)
        }
        let seals: [Seal]
        let keys: [SealPublicKey]
        do {
            seals = try JSONDecoder().decode([Seal].self, from: Data(contentsOf: directory.appendingPathComponent(Self.sealsFile)))
            keys = try JSONDecoder().decode([SealPublicKey].self, from: Data(contentsOf: directory.appendingPathComponent(Self.keysFile)))
        } catch {
            throw AuditFailure(check: .manifest, message: "seals.json or keys.json: not readable (\(error))")
        }

        var checker = try LogChecker(seals: seals, keys: keys)
        var lineNumber = 0
        var previous: LogPosition?
        try Self.lines(of: directory.appendingPathComponent(Self.eventsFile)) { line throws(AuditFailure) in
            lineNumber += 1
            let event = try Self.event(line, number: lineNumber)
            if let previous, event.logPosition <= previous {
                throw AuditFailure(
                    check: .events, position: event.position,
                    message: "\(Self.eventsFile) line \(lineNumber): position \(event.logPosition) does not come after \(previous) (events out of order)"
                )
            }
            previous = event.logPosition
            try checker.check(event)
            if lineNumber % 100_000 == 0 { progress?(UInt64(lineNumber), manifest.events) }
        }
        guard checker.events == manifest.events else {
            throw AuditFailure(check: .manifest, message: "\(Self.eventsFile) holds \(checker.events) events, the manifest says \(manifest.events)")
        }
        progress?(checker.events, manifest.events)
        return try checker.finish(trusted: trusted, files: checked)
    }

    static func event(_ line: ArraySlice<UInt8>, number: Int) throws(AuditFailure) -> RecordedEvent {
        func bad(_ why: String) -> AuditFailure { AuditFailure(check: .events, message: "\(Self.eventsFile) line \(number): \(why)") }
        let object: [String: JSONValue]
        do {
            guard let parsed = try JSONValue.parse(line).objectValue else { throw bad("not a JSON object") }
            object = parsed
        } catch let error as AuditFailure {
            throw error
        } catch {
            throw bad("\(error)")
        }
        func string(_ key: String) throws(AuditFailure) -> String {
            guard let value = object[key]?.stringValue else { throw bad("\(key): missing or not a string") }
            return value
        }
        func int(_ key: String) throws(AuditFailure) -> Int {
            guard let value = object[key]?.intValue else { throw bad("\(key): missing or not an integer") }
            return value
        }
        guard let tx = UInt64(try string("tx")) else { throw bad("tx: not a transaction id") }
        return RecordedEvent(
            logPosition: LogPosition(transaction: tx, position: Int64(try int("position"))), streamID: StreamID(try string("stream")),
            version: Int64(try int("version")), type: try string("type"), data: try string("data"), metadata: try string("metadata"),
            recordedAt: Date(timeIntervalSince1970: Double(try int("timeMillis")) / 1000), hash: try string("hash")
        )
    }

    /// SHA-256 (hex) and size of a file, read in pieces.
    public static func digest(_ url: URL) throws(AuditFailure) -> (String, UInt64) {
        guard let handle = try? FileHandle(forReadingFrom: url) else { throw AuditFailure(check: .manifest, message: "\(url.lastPathComponent): not found") }
        defer { try? handle.close() }
        var hasher = Crypto.SHA256()
        var bytes: UInt64 = 0
        while let chunk = try? handle.read(upToCount: 4 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            bytes += UInt64(chunk.count)
        }
        return (Hex.encode(Array(hasher.finalize())), bytes)
    }

    /// Calls `body` with each line of a file (without its newline), reading in pieces.
    static func lines(of url: URL, _ body: (ArraySlice<UInt8>) throws(AuditFailure) -> Void) throws(AuditFailure) {
        guard let handle = try? FileHandle(forReadingFrom: url) else { throw AuditFailure(check: .manifest, message: "\(url.lastPathComponent): not found") }
        defer { try? handle.close() }
        var pending: [UInt8] = []
        while let chunk = try? handle.read(upToCount: 4 << 20), !chunk.isEmpty {
            pending.append(contentsOf: chunk)
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                if newline > start { try body(pending[start..<newline]) }
                start = newline + 1
            }
            pending.removeSubrange(..<start)
        }
        if !pending.isEmpty { try body(pending[...]) }
    }
}
