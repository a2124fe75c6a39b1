import Crypto
import Foundation

/// A public seal key and the seals it may sign (kept with the seals, so a rotated key still verifies
/// the seals it made).
public struct SealPublicKey: Sendable, Hashable, Codable {
    public var keyID: String
    /// The raw 32-byte Ed25519 public key, base64.
    public var publicKey: String
    /// The first seal it signs.
    public var validFromSequence: UInt64
    /// The last seal it signs; `nil` while it is the current key.
    public var validUntilSequence: UInt64?

    public init(_ key: Curve25519.Signing.PublicKey, validFromSequence: UInt64, validUntilSequence: UInt64? = nil) {
        self.keyID = SealKey.keyID(of: key)
        self.publicKey = key.rawRepresentation.base64EncodedString()
        self.validFromSequence = validFromSequence
        self.validUntilSequence = validUntilSequence
    }

    public init(keyID: String, publicKey: String, validFromSequence: UInt64, validUntilSequence: UInt64? = nil) {
        self.keyID = keyID
        self.publicKey = publicKey
        self.validFromSequence = validFromSequence
        self.validUntilSequence = validUntilSequence
    }

    func covers(_ sequence: UInt64) -> Bool {
        sequence >= self.validFromSequence && self.validUntilSequence.map { sequence <= $0 } != false
    }
}

/// Checks a log against its seals, needing nothing but the leaves (in global order), the seals and the
/// public keys: every signature by a key valid for that seal, the chain of seals, every root recomputed
/// from the leaves, and — against a seal the auditor kept — that the log still holds what it sealed.
/// The database verifier and the bundle verifier both run it; it stops at the first failure and names it.
public struct SealVerifier {
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The seal the failure is about, when it is about one.
        public var seal: UInt64?
        /// The first global log position (0-based leaf index) the failure concerns, when known.
        public var position: Int64?
        public var message: String
        public var description: String { self.message }
    }

    public struct Report: Sendable, Equatable {
        public var events: UInt64
        public var seals: Int
        /// Events after the last seal (not covered by a seal yet).
        public var unsealedEvents: UInt64
        public var checkedTrustedSeal: Bool

        public init(events: UInt64, seals: Int, unsealedEvents: UInt64, checkedTrustedSeal: Bool) {
            self.events = events
            self.seals = seals
            self.unsealedEvents = unsealedEvents
            self.checkedTrustedSeal = checkedTrustedSeal
        }
    }

    public let keys: [SealPublicKey]

    public init(keys: [SealPublicKey]) { self.keys = keys }

    /// `leafHashes[i]` is the leaf hash of the i-th event in global order; `positions[i]` its log position
    /// (named in failures; defaults to the index).
    public func verify(leafHashes: [[UInt8]], positions: [Int64]? = nil, seals: [Seal], trusted: Seal? = nil) throws(Failure) -> Report {
        func position(_ index: UInt64) -> Int64 {
            guard let positions, index < positions.count else { return Int64(index) }
            return positions[Int(index)]
        }
        var tree = MerkleTree()
        var previous: Seal?
        for seal in seals.sorted(by: { $0.sequence < $1.sequence }) {
            let expected = (previous?.sequence ?? 0) + 1
            guard seal.sequence == expected else {
                throw Failure(seal: seal.sequence, position: nil, message: "seal \(expected) is missing (the next seal is \(seal.sequence))")
            }
            guard seal.previous == (previous?.hash ?? "") else {
                throw Failure(seal: seal.sequence, position: nil, message: "seal \(seal.sequence) does not chain to seal \(expected - 1): a seal was replaced")
            }
            guard let key = self.keys.first(where: { $0.keyID == seal.keyID }) else {
                throw Failure(seal: seal.sequence, position: nil, message: "seal \(seal.sequence) is signed by an unknown key \(seal.keyID)")
            }
            guard key.covers(seal.sequence) else {
                throw Failure(seal: seal.sequence, position: nil, message: "seal \(seal.sequence) is signed by key \(seal.keyID), which is not valid for it")
            }
            guard let raw = Data(base64Encoded: key.publicKey), let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
                seal.isSigned(by: publicKey)
            else {
                throw Failure(seal: seal.sequence, position: nil, message: "seal \(seal.sequence): the signature does not verify with key \(seal.keyID)")
            }
            guard seal.treeSize >= tree.size else {
                throw Failure(seal: seal.sequence, position: nil, message: "seal \(seal.sequence) covers fewer events (\(seal.treeSize)) than seal \(expected - 1) (\(tree.size))")
            }
            guard seal.treeSize <= UInt64(leafHashes.count) else {
                throw Failure(
                    seal: seal.sequence, position: position(UInt64(leafHashes.count)),
                    message: "seal \(seal.sequence) covers \(seal.treeSize) events but the log holds \(leafHashes.count): its tail was cut after position \(leafHashes.isEmpty ? -1 : position(UInt64(leafHashes.count - 1)))"
                )
            }
            let from = tree.size
            while tree.size < seal.treeSize { tree.append(leafHash: leafHashes[Int(tree.size)]) }
            guard Hex.encode(tree.root) == seal.root else {
                throw Failure(
                    seal: seal.sequence, position: position(from),
                    message: "seal \(seal.sequence): the events from position \(position(from)) to \(position(seal.treeSize - 1)) are not the ones it sealed (changed, removed, inserted or reordered)"
                )
            }
            previous = seal
        }
        var checkedTrusted = false
        if let trusted {
            guard let ours = seals.first(where: { $0.sequence == trusted.sequence }) else {
                throw Failure(
                    seal: trusted.sequence, position: nil,
                    message: "your trusted seal \(trusted.sequence) (\(trusted.treeSize) events) is not in the log, which ends at seal \(previous?.sequence ?? 0): seals and events were cut"
                )
            }
            guard ours == trusted else {
                throw Failure(seal: trusted.sequence, position: nil, message: "the log's seal \(trusted.sequence) differs from your trusted copy: the log was rewritten")
            }
            checkedTrusted = true
        }
        return Report(
            events: UInt64(leafHashes.count), seals: seals.count, unsealedEvents: UInt64(leafHashes.count) - tree.size,
            checkedTrustedSeal: checkedTrusted
        )
    }
}
