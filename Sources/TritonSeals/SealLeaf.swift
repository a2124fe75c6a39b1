import Crypto
import EventStore
import Foundation

/// What one event contributes to the log's Merkle tree: its global position, stream, version, type,
/// time (milliseconds), actor, and the SHA-256 of its data and of its metadata (which holds the reason,
/// the request id and the client address), each length-prefixed so no two events encode alike. A
/// changed payload, a changed reason, an event moved to another position or stream — each changes the
/// leaf, so the root of every later seal.
public struct SealLeaf: Sendable, Hashable {
    public var position: Int64
    public var stream: String
    public var version: Int64
    public var type: String
    public var timeMillis: Int64
    public var actor: String
    public var dataHash: [UInt8]
    public var metadataHash: [UInt8]

    public init(
        position: Int64, stream: String, version: Int64, type: String, timeMillis: Int64, actor: String, dataHash: [UInt8],
        metadataHash: [UInt8]
    ) {
        self.position = position
        self.stream = stream
        self.version = version
        self.type = type
        self.timeMillis = timeMillis
        self.actor = actor
        self.dataHash = dataHash
        self.metadataHash = metadataHash
    }

    /// The leaf of a recorded event; `actor` is its metadata's actor (the caller decodes the metadata).
    public init(_ event: RecordedEvent, actor: String) {
        self.init(
            position: event.logPosition.position, stream: event.streamID.rawValue, version: event.version, type: event.type,
            timeMillis: Int64((event.recordedAt.timeIntervalSince1970 * 1000).rounded()), actor: actor,
            dataHash: Array(Crypto.SHA256.hash(data: Array(event.data.utf8))),
            metadataHash: Array(Crypto.SHA256.hash(data: Array(event.metadata.utf8)))
        )
    }

    /// The leaf's bytes: `triton-leaf/v1`, then each field as a 4-byte big-endian length and its bytes.
    public var bytes: [UInt8] {
        var out = Array("triton-leaf/v1".utf8)
        func field(_ bytes: [UInt8]) {
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: bytes)
        }
        field(Array(String(self.position).utf8))
        field(Array(self.stream.utf8))
        field(Array(String(self.version).utf8))
        field(Array(self.type.utf8))
        field(Array(String(self.timeMillis).utf8))
        field(Array(self.actor.utf8))
        field(self.dataHash)
        field(self.metadataHash)
        return out
    }

    /// `SHA-256(0x00 ‖ bytes)`: the leaf as the tree hashes it.
    public var hash: [UInt8] { MerkleTree.leafHash(self.bytes) }
}
