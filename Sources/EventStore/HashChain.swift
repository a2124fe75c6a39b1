/// The per-stream hash chain. Each event's hash is SHA-256 over the previous event's hash (32 zero
/// bytes for the first) followed by the UTF-8 of
/// `stream \n version \n type \n data \n metadata`, where data and metadata are the canonical
/// `jsonb` text PostgreSQL renders. The database computes it on append; `verify` recomputes it here.
public enum HashChain {
    public static let genesis = [UInt8](repeating: 0, count: 32)

    public static func link(
        previous: [UInt8], stream: StreamID, version: Int64, type: String, data: String, metadata: String
    ) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(previous)
        hasher.update("\(stream.rawValue)\n\(version)\n\(type)\n")
        hasher.update(data)
        hasher.update("\n")
        hasher.update(metadata)
        return hasher.finalize()
    }

    /// One stored link, as read back for verification.
    public struct Link: Sendable {
        public var stream: StreamID
        public var version: Int64
        public var type: String
        public var data: String
        public var metadata: String
        public var previousHash: String
        public var hash: String

        public init(
            stream: StreamID, version: Int64, type: String, data: String, metadata: String, previousHash: String,
            hash: String
        ) {
            self.stream = stream
            self.version = version
            self.type = type
            self.data = data
            self.metadata = metadata
            self.previousHash = previousHash
            self.hash = hash
        }
    }

    /// The first broken link found.
    public struct Break: Error, Sendable, Equatable, CustomStringConvertible {
        public var stream: StreamID
        public var version: Int64
        public var reason: String

        public init(stream: StreamID, version: Int64, reason: String) {
            self.stream = stream
            self.version = version
            self.reason = reason
        }

        public var description: String { "stream \(self.stream) is broken at version \(self.version): \(self.reason)" }
    }

    /// Checks links in (stream, version) order, one stream after another, keeping only the running
    /// state, so a log of any size can be verified in pages.
    public struct Verifier: Sendable {
        private var stream: StreamID?
        private var lastVersion: Int64 = 0
        private var lastHash: [UInt8] = HashChain.genesis
        public private(set) var streams = 0
        public private(set) var events = 0

        public init() {}

        public mutating func check(_ link: Link) throws(Break) {
            if link.stream != self.stream {
                self.stream = link.stream
                self.lastVersion = 0
                self.lastHash = HashChain.genesis
                self.streams += 1
            }
            guard link.version == self.lastVersion + 1 else {
                throw Break(stream: link.stream, version: self.lastVersion + 1, reason: "version \(self.lastVersion + 1) is missing")
            }
            guard link.previousHash == self.lastHash.hexString else {
                throw Break(stream: link.stream, version: link.version, reason: "previous-hash does not match the event before it")
            }
            let expected = HashChain.link(
                previous: self.lastHash, stream: link.stream, version: link.version, type: link.type, data: link.data,
                metadata: link.metadata
            )
            guard expected.hexString == link.hash else {
                throw Break(stream: link.stream, version: link.version, reason: "content does not match its hash (the event was altered)")
            }
            self.lastVersion = link.version
            self.lastHash = expected
            self.events += 1
        }
    }

    /// Checks events in global log order, where streams interleave: each stream's versions must run
    /// 1, 2, 3… and each event's hash must link to the one before it in its stream. Keeps one version
    /// and hash per stream.
    public struct InterleavedVerifier: Sendable {
        private var heads: [StreamID: (version: Int64, hash: [UInt8])] = [:]
        public private(set) var events = 0
        public var streams: Int { self.heads.count }

        public init() {}

        public mutating func check(stream: StreamID, version: Int64, type: String, data: String, metadata: String, hash: String) throws(Break) {
            let head = self.heads[stream] ?? (0, HashChain.genesis)
            guard version == head.version + 1 else {
                throw Break(
                    stream: stream, version: head.version + 1,
                    reason: version <= head.version ? "version \(version) comes again after \(head.version)" : "version \(head.version + 1) is missing"
                )
            }
            let expected = HashChain.link(previous: head.hash, stream: stream, version: version, type: type, data: data, metadata: metadata)
            guard expected.hexString == hash else {
                throw Break(stream: stream, version: version, reason: "content does not match its hash (the event was altered)")
            }
            self.heads[stream] = (version, expected)
            self.events += 1
        }
    }
}
