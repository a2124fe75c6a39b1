import Crypto

/// The Merkle tree of RFC 6962 §2.1 (RFC 9162 §2.1) over a sequence of leaves: leaf hashes
/// `SHA-256(0x00 ‖ leaf)`, interior nodes `SHA-256(0x01 ‖ left ‖ right)`, a tree of n leaves split at
/// the largest power of two below n. The log's tree has one leaf per event, in global order.
///
/// Built incrementally: ``append(leafHash:)`` keeps only the roots of the perfect subtrees on the right
/// edge (O(log n) hashes), so a sealer follows the log without holding it. Proofs need the leaf hashes
/// (``MerkleProofs``).
public struct MerkleTree: Sendable, Equatable {
    public typealias Hash = [UInt8]

    /// The roots of the perfect subtrees that make up the tree, largest (leftmost) first.
    private var edge: [(height: Int, hash: Hash)] = []
    /// Leaves appended so far.
    public private(set) var size: UInt64 = 0

    public init() {}

    /// The tree of `size` leaves from its ``frontier``: what a sealer stores with a seal to resume without
    /// reading the log again. The subtree heights follow from `size` (its set bits, highest first).
    public init(size: UInt64, frontier: [Hash]) throws(SealError) {
        let heights = (0..<64).reversed().filter { size & (1 << UInt64($0)) != 0 }
        guard heights.count == frontier.count, frontier.allSatisfy({ $0.count == 32 }) else {
            throw SealError("a frontier of \(frontier.count) hashes does not fit a tree of \(size) leaves")
        }
        self.edge = zip(heights, frontier).map { (height: $0, hash: $1) }
        self.size = size
    }

    /// The roots of the perfect subtrees on the tree's right edge, largest first.
    public var frontier: [Hash] { self.edge.map(\.hash) }

    public static func == (lhs: MerkleTree, rhs: MerkleTree) -> Bool {
        lhs.size == rhs.size && lhs.edge.map(\.hash) == rhs.edge.map(\.hash)
    }

    /// `SHA-256(0x00 ‖ leaf)`.
    public static func leafHash(_ leaf: some Sequence<UInt8>) -> Hash {
        var hasher = Crypto.SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: Array(leaf))
        return Array(hasher.finalize())
    }

    /// `SHA-256(0x01 ‖ left ‖ right)`.
    public static func nodeHash(_ left: Hash, _ right: Hash) -> Hash {
        var hasher = Crypto.SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    /// The root of the empty tree: `SHA-256()` of nothing.
    public static let emptyRoot: Hash = Array(Crypto.SHA256.hash(data: [UInt8]()))

    /// Appends one leaf by its leaf hash.
    public mutating func append(leafHash: Hash) {
        var node = (height: 0, hash: leafHash)
        while let last = self.edge.last, last.height == node.height {
            self.edge.removeLast()
            node = (height: node.height + 1, hash: Self.nodeHash(last.hash, node.hash))
        }
        self.edge.append(node)
        self.size += 1
    }

    /// The tree head: MTH of every leaf appended.
    public var root: Hash {
        guard var hash = self.edge.last?.hash else { return Self.emptyRoot }
        for subtree in self.edge.dropLast().reversed() { hash = Self.nodeHash(subtree.hash, hash) }
        return hash
    }
}

/// Proofs over a list of leaf hashes (RFC 6962 §2.1.1–2.1.2, verification as RFC 9162 §2.1.3.2 and
/// §2.1.4.2). Computing a proof reads the leaves it needs; verifying needs only the proof and the roots.
public enum MerkleProofs {
    public typealias Hash = [UInt8]

    /// MTH(D[range]).
    public static func root(_ leaves: ArraySlice<Hash>) -> Hash {
        switch leaves.count {
        case 0: return MerkleTree.emptyRoot
        case 1: return leaves[leaves.startIndex]
        default:
            let k = largestPowerOfTwo(below: leaves.count)
            return MerkleTree.nodeHash(root(leaves.prefix(k)), root(leaves.dropFirst(k)))
        }
    }

    /// PATH(m, D[n]): the audit path of leaf `index` in the tree of `leaves`.
    public static func inclusionProof(index: Int, _ leaves: ArraySlice<Hash>) -> [Hash] {
        precondition(index >= 0 && index < leaves.count, "leaf index out of range")
        guard leaves.count > 1 else { return [] }
        let k = largestPowerOfTwo(below: leaves.count)
        if index < k {
            return inclusionProof(index: index, leaves.prefix(k)) + [root(leaves.dropFirst(k))]
        }
        return inclusionProof(index: index - k, leaves.dropFirst(k)) + [root(leaves.prefix(k))]
    }

    /// PROOF(m, D[n]): that the tree of the first `oldSize` leaves is a prefix of the tree of `leaves`.
    public static func consistencyProof(oldSize: Int, _ leaves: ArraySlice<Hash>) -> [Hash] {
        precondition(oldSize >= 0 && oldSize <= leaves.count, "old size out of range")
        guard oldSize > 0, oldSize < leaves.count else { return [] }
        return subproof(oldSize, leaves, complete: true)
    }

    private static func subproof(_ m: Int, _ leaves: ArraySlice<Hash>, complete: Bool) -> [Hash] {
        let n = leaves.count
        if m == n { return complete ? [] : [root(leaves)] }
        let k = largestPowerOfTwo(below: n)
        if m <= k {
            return subproof(m, leaves.prefix(k), complete: complete) + [root(leaves.dropFirst(k))]
        }
        return subproof(m - k, leaves.dropFirst(k), complete: false) + [root(leaves.prefix(k))]
    }

    /// Whether `proof` shows the leaf with `leafHash` at `index` in the tree of `treeSize` leaves whose
    /// root is `root` (RFC 9162 §2.1.3.2).
    public static func verifyInclusion(leafHash: Hash, index: UInt64, treeSize: UInt64, proof: [Hash], root: Hash) -> Bool {
        guard index < treeSize else { return false }
        var fn = index
        var sn = treeSize - 1
        var r = leafHash
        for p in proof {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                r = MerkleTree.nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0, fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = MerkleTree.nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// Whether `proof` shows the tree of `oldSize` leaves with `oldRoot` to be a prefix of the tree of
    /// `newSize` leaves with `newRoot` (RFC 9162 §2.1.4.2).
    public static func verifyConsistency(oldSize: UInt64, newSize: UInt64, oldRoot: Hash, newRoot: Hash, proof: [Hash]) -> Bool {
        guard oldSize <= newSize else { return false }
        if oldSize == newSize { return proof.isEmpty && oldRoot == newRoot }
        if oldSize == 0 { return proof.isEmpty }
        guard !proof.isEmpty else { return false }
        var path = proof
        // When the old tree is a perfect subtree on the left, its root starts the path.
        if oldSize & (oldSize - 1) == 0 { path.insert(oldRoot, at: 0) }
        var fn = oldSize - 1
        var sn = newSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0]
        var sr = path[0]
        for c in path.dropFirst() {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                fr = MerkleTree.nodeHash(c, fr)
                sr = MerkleTree.nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0, fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = MerkleTree.nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && fr == oldRoot && sr == newRoot
    }

    /// The largest power of two smaller than `n` (n ≥ 2).
    static func largestPowerOfTwo(below n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }
}
