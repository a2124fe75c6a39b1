import EventStore
import Foundation
import PostgresStore
import TritonSeals

/// Proofs over the sealed log (RFC 9162 §2.1.3–2.1.4): that an event is in a seal's tree, and that a
/// later seal's tree extends an earlier one's (nothing sealed before was changed or dropped). The server
/// builds them from the log; anyone checks them with nothing but the seals (``verify(_:)``).
public enum SealProofs {
    /// The fields of an event's leaf, so a checker recomputes its hash.
    public struct Leaf: Codable, Sendable, Equatable {
        public var position: Int64
        public var stream: String
        public var version: Int64
        public var type: String
        public var timeMillis: Int64
        public var actor: String
        public var dataSHA256: String
        public var metadataSHA256: String

        init(_ leaf: SealLeaf) {
            self.position = leaf.position
            self.stream = leaf.stream
            self.version = leaf.version
            self.type = leaf.type
            self.timeMillis = leaf.timeMillis
            self.actor = leaf.actor
            self.dataSHA256 = Hex.encode(leaf.dataHash)
            self.metadataSHA256 = Hex.encode(leaf.metadataHash)
        }

        public var sealLeaf: SealLeaf? {
            guard let data = Hex.decode(self.dataSHA256), let metadata = Hex.decode(self.metadataSHA256) else { return nil }
            return SealLeaf(
                position: self.position, stream: self.stream, version: self.version, type: self.type, timeMillis: self.timeMillis,
                actor: self.actor, dataHash: data, metadataHash: metadata
            )
        }
    }

    public struct Inclusion: Codable, Sendable, Equatable {
        public var seal: Seal
        /// 0-based index of the event among the sealed events (its leaf index).
        public var leafIndex: UInt64
        public var leaf: Leaf
        public var leafHash: String
        /// The audit path, hex, leaf to root.
        public var path: [String]
    }

    public struct Consistency: Codable, Sendable, Equatable {
        public var from: Seal
        public var to: Seal
        /// The consistency proof, hex.
        public var proof: [String]
    }

    /// A proof that cannot be made: what is missing.
    public struct Unavailable: Error, Sendable, CustomStringConvertible {
        public var field: String
        public var message: String
        public var description: String { "\(self.field): \(self.message)" }
    }

    /// The proof that the event at global `position` is in seal `sequence` (default: the first seal
    /// that covers it).
    public static func inclusion(_ store: PostgresEventStore, position: Int64, seal sequence: UInt64? = nil) async throws -> Inclusion {
        let seals = try await SealRecords(store: store).all()
        var chosen = try sequence.map { sequence in
            guard let seal = seals.first(where: { $0.sequence == sequence }) else {
                throw Unavailable(field: "seal", message: "no seal \(sequence) (the last is \(seals.last?.sequence ?? 0))")
            }
            return seal
        }
        guard let limit = chosen?.treeSize ?? seals.last?.treeSize else {
            throw Unavailable(field: "position", message: "the log has no seal yet")
        }
        var leaves: [[UInt8]] = []
        var found: (index: Int, leaf: SealLeaf)?
        try await Self.leaves(store, upTo: limit) { event in
            let leaf = SealLeaf(event, actor: LogSealer.actor(event.metadata))
            if event.position == position { found = (leaves.count, leaf) }
            leaves.append(leaf.hash)
        }
        guard let found else {
            throw Unavailable(
                field: "position",
                message: "no event at position \(position) among the \(limit) events sealed by seal \(chosen?.sequence ?? seals.last?.sequence ?? 0)"
            )
        }
        if chosen == nil { chosen = seals.first { $0.treeSize > UInt64(found.index) } }
        guard let seal = chosen else { throw Unavailable(field: "position", message: "not sealed yet") }
        let path = MerkleProofs.inclusionProof(index: found.index, leaves[0..<Int(seal.treeSize)])
        return Inclusion(
            seal: seal, leafIndex: UInt64(found.index), leaf: Leaf(found.leaf), leafHash: Hex.encode(found.leaf.hash), path: path.map(Hex.encode)
        )
    }

    /// The proof that seal `to` (default: the last) extends seal `from`.
    public static func consistency(_ store: PostgresEventStore, from: UInt64, to: UInt64? = nil) async throws -> Consistency {
        let seals = try await SealRecords(store: store).all()
        guard let old = seals.first(where: { $0.sequence == from }) else {
            throw Unavailable(field: "from", message: "no seal \(from) (the last is \(seals.last?.sequence ?? 0))")
        }
        guard let new = to.map({ to in seals.first { $0.sequence == to } }) ?? seals.last else {
            throw Unavailable(field: "to", message: "no seal \(to ?? 0) (the last is \(seals.last?.sequence ?? 0))")
        }
        guard new.sequence >= old.sequence else { throw Unavailable(field: "to", message: "must not come before from (\(from))") }
        var leaves: [[UInt8]] = []
        try await Self.leaves(store, upTo: new.treeSize) { event in leaves.append(SealLeaf(event, actor: LogSealer.actor(event.metadata)).hash) }
        guard leaves.count == Int(new.treeSize) else {
            throw Unavailable(field: "to", message: "the log holds \(leaves.count) events, seal \(new.sequence) covers \(new.treeSize): run triton audit verify")
        }
        let proof = MerkleProofs.consistencyProof(oldSize: Int(old.treeSize), leaves[...])
        return Consistency(from: old, to: new, proof: proof.map(Hex.encode))
    }

    /// The first `count` events in global order.
    static func leaves(_ store: PostgresEventStore, upTo count: UInt64, _ body: (RecordedEvent) -> Void) async throws {
        try await store.readLog(expecting: Int64(count), maximum: Int64(count)) { events in events.forEach(body) }
    }

    // MARK: - Checking

    /// Checks an inclusion proof: the leaf's hash from its fields, the path up to the seal's root, and the
    /// seal's signature by one of `keys`. Returns what is wrong, or `nil`.
    public static func problem(_ proof: Inclusion, keys: [SealPublicKey]) -> String? {
        guard let leaf = proof.leaf.sealLeaf, Hex.encode(leaf.hash) == proof.leafHash else { return "the leaf's fields do not hash to its leaf hash" }
        guard let root = Hex.decode(proof.seal.root), let path = Self.hashes(proof.path),
            MerkleProofs.verifyInclusion(leafHash: leaf.hash, index: proof.leafIndex, treeSize: proof.seal.treeSize, proof: path, root: root)
        else { return "the audit path does not lead to seal \(proof.seal.sequence)'s root" }
        return Self.signatureProblem(proof.seal, keys: keys)
    }

    /// Checks a consistency proof and both seals' signatures. Returns what is wrong, or `nil`.
    public static func problem(_ proof: Consistency, keys: [SealPublicKey]) -> String? {
        guard let old = Hex.decode(proof.from.root), let new = Hex.decode(proof.to.root), let hashes = Self.hashes(proof.proof),
            MerkleProofs.verifyConsistency(oldSize: proof.from.treeSize, newSize: proof.to.treeSize, oldRoot: old, newRoot: new, proof: hashes)
        else { return "seal \(proof.to.sequence) does not extend seal \(proof.from.sequence): the log was rewritten between them" }
        return Self.signatureProblem(proof.from, keys: keys) ?? Self.signatureProblem(proof.to, keys: keys)
    }

    static func signatureProblem(_ seal: Seal, keys: [SealPublicKey]) -> String? {
        let registrations = keys.filter { $0.keyID == seal.keyID }
        guard !registrations.isEmpty else { return "seal \(seal.sequence) is signed by an unknown key \(seal.keyID)" }
        return registrations.contains { $0.signedValidly(seal) } ? nil : "seal \(seal.sequence): the signature does not verify with key \(seal.keyID), or the key was not valid for it"
    }

    static func hashes(_ hex: [String]) -> [[UInt8]]? {
        var out: [[UInt8]] = []
        for item in hex {
            guard let hash = Hex.decode(item), hash.count == 32 else { return nil }
            out.append(hash)
        }
        return out
    }
}
