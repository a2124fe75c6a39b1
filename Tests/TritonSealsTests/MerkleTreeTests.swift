import Crypto
import Foundation
import Testing
import TritonSeals

/// The Merkle tree and its proofs against RFC 6962: roots of the Certificate Transparency test leaves
/// (expected values computed independently, with Python's hashlib), the structure of the RFC's own
/// example proofs (§2.1.3), and every proof for every tree up to 40 leaves, verified and tampered with.
@Suite("RFC 6962 Merkle tree and proofs")
struct MerkleTreeTests {
    /// The leaves of Certificate Transparency's test vectors.
    static let leaves: [[UInt8]] = [
        [], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43], [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        Array(0x60...0x6f),
    ]

    /// MTH of the first n test leaves, n = 0…8 (computed with hashlib from RFC 6962's definition).
    static let roots = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    @Test func rootsOfTheTestLeaves() {
        var tree = MerkleTree()
        #expect(Hex.encode(tree.root) == Self.roots[0])
        for (index, leaf) in Self.leaves.enumerated() {
            tree.append(leafHash: MerkleTree.leafHash(leaf))
            #expect(Hex.encode(tree.root) == Self.roots[index + 1], "size \(index + 1)")
            let hashes = Self.leaves.prefix(index + 1).map { MerkleTree.leafHash($0) }
            #expect(Hex.encode(MerkleProofs.root(hashes[...])) == Self.roots[index + 1])
        }
    }

    /// RFC 6962 §2.1.3's tree of seven leaves d0…d6: a b c d e f j are their leaf hashes, g = (a, b),
    /// h = (c, d), i = (e, f), k = (g, h), l = (i, j).
    @Test func theRFCsExampleProofs() {
        let d = (0..<7).map { MerkleTree.leafHash([UInt8($0)]) }
        let (a, b, c, dd, e, f, j) = (d[0], d[1], d[2], d[3], d[4], d[5], d[6])
        let g = MerkleTree.nodeHash(a, b), h = MerkleTree.nodeHash(c, dd), i = MerkleTree.nodeHash(e, f)
        let k = MerkleTree.nodeHash(g, h), l = MerkleTree.nodeHash(i, j)
        #expect(MerkleProofs.root(d[...]) == MerkleTree.nodeHash(k, l))
        #expect(MerkleProofs.inclusionProof(index: 0, d[...]) == [b, h, l])
        #expect(MerkleProofs.inclusionProof(index: 3, d[...]) == [c, g, l])
        #expect(MerkleProofs.inclusionProof(index: 4, d[...]) == [f, j, k])
        #expect(MerkleProofs.inclusionProof(index: 6, d[...]) == [i, k])
        #expect(MerkleProofs.consistencyProof(oldSize: 3, d[...]) == [c, dd, g, l])
        #expect(MerkleProofs.consistencyProof(oldSize: 4, d[...]) == [l])
        #expect(MerkleProofs.consistencyProof(oldSize: 6, d[...]) == [i, j, k])
    }

    @Test func everyInclusionProofUpTo40LeavesVerifiesAndNoTamperedOneDoes() {
        let all = (0..<40).map { MerkleTree.leafHash(Array("event \($0)".utf8)) }
        for n in 1...40 {
            let leaves = all.prefix(n)
            let root = MerkleProofs.root(leaves)
            for index in 0..<n {
                let proof = MerkleProofs.inclusionProof(index: index, leaves)
                let size = UInt64(n), at = UInt64(index)
                #expect(MerkleProofs.verifyInclusion(leafHash: all[index], index: at, treeSize: size, proof: proof, root: root))
                #expect(!MerkleProofs.verifyInclusion(leafHash: all[(index + 1) % 40], index: at, treeSize: size, proof: proof, root: root))
                if n > 1 {
                    #expect(!MerkleProofs.verifyInclusion(leafHash: all[index], index: (at + 1) % size, treeSize: size, proof: proof, root: root))
                    var flipped = proof
                    flipped[0][0] ^= 1
                    #expect(!MerkleProofs.verifyInclusion(leafHash: all[index], index: at, treeSize: size, proof: flipped, root: root))
                }
                // (The tree size itself is bound by the seal's signature, not by the path: a path can fit
                // trees of several sizes with the same root.)
            }
        }
    }

    @Test func everyConsistencyProofUpTo40LeavesVerifiesAndARewrittenPrefixDoesNot() {
        let all = (0..<40).map { MerkleTree.leafHash(Array("event \($0)".utf8)) }
        for n in 1...40 {
            let newRoot = MerkleProofs.root(all.prefix(n))
            for m in 0...n {
                let oldRoot = MerkleProofs.root(all.prefix(m))
                let proof = MerkleProofs.consistencyProof(oldSize: m, all.prefix(n))
                let old = UInt64(m), new = UInt64(n)
                #expect(MerkleProofs.verifyConsistency(oldSize: old, newSize: new, oldRoot: oldRoot, newRoot: newRoot, proof: proof), "\(m) → \(n)")
                guard m > 0, m < n else { continue }
                // A log whose first m events were rewritten: the old root no longer fits.
                var rewritten = Array(all.prefix(n))
                rewritten[m - 1] = MerkleTree.leafHash(Array("forged".utf8))
                let forgedRoot = MerkleProofs.root(rewritten[...])
                let forgedProof = MerkleProofs.consistencyProof(oldSize: m, rewritten[...])
                #expect(!MerkleProofs.verifyConsistency(oldSize: old, newSize: new, oldRoot: oldRoot, newRoot: forgedRoot, proof: forgedProof))
            }
        }
    }

    @Test func theIncrementalTreeEqualsTheDefinitionAtEverySize() throws {
        var tree = MerkleTree()
        var hashes: [[UInt8]] = []
        for n in 1...300 {
            let hash = MerkleTree.leafHash(withUnsafeBytes(of: UInt32(n).bigEndian, Array.init))
            tree.append(leafHash: hash)
            hashes.append(hash)
            #expect(tree.root == MerkleProofs.root(hashes[...]), "size \(n)")
        }
        #expect(tree.size == 300)
        // Resumed from its frontier, it goes on as if it had never stopped.
        var resumed = try MerkleTree(size: tree.size, frontier: tree.frontier)
        #expect(resumed == tree && resumed.frontier.count == 4)  // 300 = 256 + 32 + 8 + 4
        for n in 301...310 {
            let hash = MerkleTree.leafHash(withUnsafeBytes(of: UInt32(n).bigEndian, Array.init))
            tree.append(leafHash: hash)
            resumed.append(leafHash: hash)
        }
        #expect(resumed.root == tree.root)
        #expect(throws: SealError.self) { try MerkleTree(size: 300, frontier: Array(tree.frontier.prefix(2))) }
    }
}

@Suite("Seals: signed checkpoints")
struct SealTests {
    @Test func aSealVerifiesWithItsKeyOnlyAndChainsToThePreviousOne() throws {
        let key = SealKey()
        let other = SealKey()
        let first = try key.seal(treeSize: 3, root: MerkleTree.leafHash([1]), timeMillis: 1_000, after: nil)
        let second = try key.seal(treeSize: 7, root: MerkleTree.leafHash([2]), timeMillis: 2_000, after: first)
        #expect(first.sequence == 1 && first.previous.isEmpty)
        #expect(second.sequence == 2 && second.previous == first.hash)
        #expect(first.isSigned(by: key.publicKey) && second.isSigned(by: key.publicKey))
        #expect(!first.isSigned(by: other.publicKey))
        var tampered = second
        tampered.treeSize = 6
        #expect(!tampered.isSigned(by: key.publicKey))
        var foreign = try other.seal(treeSize: 7, root: MerkleTree.leafHash([2]), timeMillis: 2_000, after: first)
        #expect(foreign.isSigned(by: other.publicKey) && !foreign.isSigned(by: key.publicKey))
        foreign.keyID = key.keyID
        #expect(!foreign.isSigned(by: key.publicKey))
    }

    @Test func aKeyFromItsSeedIsTheSameKeyAndBadSeedsAreRefusedWithoutEchoingThem() throws {
        let key = SealKey()
        let again = try SealKey(seedText: key.seedHex + "\n")
        #expect(again.keyID == key.keyID && again.keyID.count == 32)
        let base64 = Data(Hex.decode(key.seedHex) ?? []).base64EncodedString()
        #expect(try SealKey(seedText: base64).keyID == key.keyID)
        do {
            _ = try SealKey(seedText: "secret-but-short")
            Issue.record("a short seed was accepted")
        } catch let error as SealError {
            #expect(!error.description.contains("secret-but-short"))
        }
    }
}
