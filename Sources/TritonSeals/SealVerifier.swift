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
        /// The first global log position (0-based leaf index) the failure concerns, when known: for a seal
        /// whose root differs, the position just after the last event of the seal before it.
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
        var stream = try Incremental(keys: self.keys, seals: seals)
        for (index, leaf) in leafHashes.enumerated() {
            try stream.add(leafHash: leaf, position: positions.flatMap { index < $0.count ? $0[index] : nil } ?? Int64(index))
        }
        return try stream.finish(trusted: trusted)
    }

    /// The same checks with the leaves fed one at a time, in global order, keeping only the tree's right
    /// edge: a log of any length is verified in O(log n) memory. The seals' chain and signatures are
    /// checked first (``init(keys:seals:)``), each root as soon as its last leaf arrives.
    public struct Incremental: Sendable {
        let seals: [Seal]
        private var next = 0
        private var tree = MerkleTree()
        private var rangeStart: Int64?
        private var lastPosition: Int64?

        public init(keys: [SealPublicKey], seals: [Seal]) throws(Failure) {
            self.seals = seals.sorted(by: { $0.sequence < $1.sequence })
            var previous: Seal?
            for seal in self.seals {
                let expected = (previous?.sequence ?? 0) + 1
                guard seal.sequence == expected else {
                    throw Failure(seal: seal.sequence, position: nil, message: "seal \(expected) is missing (the next seal is \(seal.sequence))")
                }
                guard seal.previous == (previous?.hash ?? "") else {
                    throw Failure(seal: seal.sequence, position: nil, message: "seal \(seal.sequence) does not chain to seal \(expected - 1): a seal was replaced")
                }
                let registrations = keys.filter { $0.keyID == seal.keyID }
                guard let key = registrations.first(where: { $0.covers(seal.sequence) }) ?? registrations.first else {
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
                guard seal.treeSize >= (previous?.treeSize ?? 0) else {
                    throw Failure(
                        seal: seal.sequence, position: nil,
                        message: "seal \(seal.sequence) covers fewer events (\(seal.treeSize)) than seal \(expected - 1) (\(previous?.treeSize ?? 0))"
                    )
                }
                previous = seal
            }
            try self.checkReached()
        }

        /// Events seen so far.
        public var events: UInt64 { self.tree.size }

        public mutating func add(leafHash: [UInt8], position: Int64) throws(Failure) {
            if self.rangeStart == nil { self.rangeStart = position }
            self.tree.append(leafHash: leafHash)
            self.lastPosition = position
            try self.checkReached()
        }

        /// Checks every seal whose size the tree has reached.
        private mutating func checkReached() throws(Failure) {
            while self.next < self.seals.count, self.seals[self.next].treeSize == self.tree.size {
                let seal = self.seals[self.next]
                guard Hex.encode(self.tree.root) == seal.root else {
                    let from = self.rangeStart.map(String.init) ?? "?"
                    throw Failure(
                        seal: seal.sequence, position: self.rangeStart,
                        message: "seal \(seal.sequence): the events from position \(from) to \(self.lastPosition.map(String.init) ?? "?") are not the ones it sealed (changed, removed, inserted or reordered)"
                    )
                }
                self.next += 1
                // The next range starts right after the last sealed event, not at the next event seen:
                // events removed just after a seal lie inside the range the next failure names.
                self.rangeStart = self.lastPosition.map { $0 + 1 }
            }
        }

        /// After the last leaf: no seal may cover more events than the log holds, and a kept seal must be
        /// in the log as kept.
        public func finish(trusted: Seal? = nil) throws(Failure) -> Report {
            if self.next < self.seals.count {
                let seal = self.seals[self.next]
                throw Failure(
                    seal: seal.sequence, position: self.lastPosition.map { $0 + 1 } ?? 0,
                    message: "seal \(seal.sequence) covers \(seal.treeSize) events but the log holds \(self.tree.size): its tail was cut after position \(self.lastPosition.map(String.init) ?? "(none)")"
                )
            }
            var checkedTrusted = false
            if let trusted {
                guard let ours = self.seals.first(where: { $0.sequence == trusted.sequence }) else {
                    throw Failure(
                        seal: trusted.sequence, position: nil,
                        message: "your trusted seal \(trusted.sequence) (\(trusted.treeSize) events) is not in the log, which ends at seal \(self.seals.last?.sequence ?? 0): seals and events were cut"
                    )
                }
                guard ours == trusted else {
                    throw Failure(seal: trusted.sequence, position: nil, message: "the log's seal \(trusted.sequence) differs from your trusted copy: the log was rewritten")
                }
                checkedTrusted = true
            }
            return Report(
                events: self.tree.size, seals: self.seals.count, unsealedEvents: self.tree.size - (self.seals.last?.treeSize ?? 0),
                checkedTrustedSeal: checkedTrusted
            )
        }
    }
}

extension SealPublicKey {
    /// Whether this key signed `seal` and may sign a seal of its sequence.
    public func signedValidly(_ seal: Seal) -> Bool {
        guard self.covers(seal.sequence), let raw = Data(base64Encoded: self.publicKey),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
        else { return false }
        return seal.isSigned(by: key)
    }
}
