import Foundation
import Testing
import TritonSeals

/// The verifier on a sealed log of 50 leaves with seals at 10, 25 and 50, tampered with in each way.
@Suite("Seal verifier")
struct SealVerifierTests {
    struct Log {
        var leaves: [[UInt8]]
        var seals: [Seal]
        var keys: [SealPublicKey]
    }

    static func sealed(key: SealKey = SealKey(), sizes: [Int] = [10, 25, 50]) throws -> Log {
        let leaves = (0..<50).map { MerkleTree.leafHash(Array("event \($0)".utf8)) }
        var seals: [Seal] = []
        for size in sizes {
            seals.append(try key.seal(treeSize: UInt64(size), root: MerkleProofs.root(leaves.prefix(size)), timeMillis: Int64(size), after: seals.last))
        }
        return Log(leaves: leaves, seals: seals, keys: [SealPublicKey(key.publicKey, validFromSequence: 1)])
    }

    func failure(_ log: Log, trusted: Seal? = nil) -> SealVerifier.Failure? {
        do {
            _ = try SealVerifier(keys: log.keys).verify(leafHashes: log.leaves, seals: log.seals, trusted: trusted)
            return nil
        } catch {
            return error
        }
    }

    @Test func anUntouchedLogPasses() throws {
        let log = try Self.sealed()
        let report = try SealVerifier(keys: log.keys).verify(leafHashes: log.leaves, seals: log.seals, trusted: log.seals[1])
        #expect(report == .init(events: 50, seals: 3, unsealedEvents: 0, checkedTrustedSeal: true))
    }

    @Test func eachTamperingIsCaughtAndNamed() throws {
        let log = try Self.sealed()
        var changed = log
        changed.leaves[17] = MerkleTree.leafHash(Array("forged".utf8))
        #expect(failure(changed).map { $0.seal == 2 && $0.position == 10 } == true, "\(String(describing: failure(changed)))")

        // Events removed right after a seal: the range named starts just after that seal's last event,
        // so the removed positions are inside it (not at the next event that is still there).
        var positions = Array(Int64(0)..<50)
        var removedAfterSeal = log
        removedAfterSeal.leaves.removeSubrange(10..<13)
        positions.removeSubrange(10..<13)
        let removedFailure: SealVerifier.Failure?
        do {
            _ = try SealVerifier(keys: log.keys).verify(leafHashes: removedAfterSeal.leaves, positions: positions, seals: log.seals)
            removedFailure = nil
        } catch {
            removedFailure = error
        }
        #expect(removedFailure.map { $0.seal == 2 && $0.position == 10 } == true, "\(String(describing: removedFailure))")

        var reordered = log
        reordered.leaves.swapAt(3, 4)
        #expect(failure(reordered)?.seal == 1)

        var cut = log
        cut.leaves.removeLast(5)
        #expect(failure(cut).map { $0.seal == 3 && $0.message.contains("tail was cut") } == true)

        // Cut consistently: the last events and the last seal go together; only a kept seal shows it.
        var cutTail = log
        cutTail.leaves.removeLast(25)
        cutTail.seals.removeLast()
        #expect(failure(cutTail) == nil)
        #expect(failure(cutTail, trusted: log.seals[2]).map { $0.message.contains("not in the log") } == true)

        // Rewritten and resealed with the real key after the seal the auditor kept: the copy differs.
        let key = SealKey()
        var original = try Self.sealed(key: key)
        let kept = original.seals[2]
        original.leaves[40] = MerkleTree.leafHash(Array("rewritten".utf8))
        original.seals.removeLast()
        original.seals.append(try key.seal(treeSize: 50, root: MerkleProofs.root(original.leaves[...]), timeMillis: 50, after: original.seals.last))
        #expect(failure(original) == nil)
        #expect(failure(original, trusted: kept).map { $0.message.contains("differs from your trusted copy") } == true)

        var replaced = log
        replaced.seals[1] = try SealKey().seal(treeSize: 25, root: MerkleProofs.root(log.leaves.prefix(25)), timeMillis: 25, after: log.seals[0])
        #expect(failure(replaced).map { $0.seal == 2 && $0.message.contains("unknown key") } == true)
        var forgedChain = log
        forgedChain.seals[1].previous = String(repeating: "0", count: 64)
        #expect(failure(forgedChain).map { $0.seal == 2 && $0.message.contains("chain") } == true)

        var missing = log
        missing.seals.remove(at: 1)
        #expect(failure(missing).map { $0.message.contains("seal 2 is missing") } == true)
    }

    @Test func aRotatedKeyVerifiesOnlyTheSealsOfItsTime() throws {
        let old = SealKey(), new = SealKey()
        let leaves = (0..<30).map { MerkleTree.leafHash(Array("e\($0)".utf8)) }
        let first = try old.seal(treeSize: 10, root: MerkleProofs.root(leaves.prefix(10)), timeMillis: 1, after: nil)
        let second = try new.seal(treeSize: 30, root: MerkleProofs.root(leaves[...]), timeMillis: 2, after: first)
        let keys = [SealPublicKey(old.publicKey, validFromSequence: 1, validUntilSequence: 1), SealPublicKey(new.publicKey, validFromSequence: 2)]
        _ = try SealVerifier(keys: keys).verify(leafHashes: leaves, seals: [first, second])
        let late = try old.seal(treeSize: 30, root: MerkleProofs.root(leaves[...]), timeMillis: 2, after: first)
        #expect(throws: SealVerifier.Failure.self) { try SealVerifier(keys: keys).verify(leafHashes: leaves, seals: [first, late]) }
    }
}
