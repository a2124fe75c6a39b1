import EventStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PostgresStore
import Testing
import TritonAPI
import TritonAudit
import TritonSeals
import TritonTesting

extension RESTTests {
    @Test("Seals and proofs over REST: the seals with their keys, an event's inclusion, a flow's end seal, two seals' consistency; each checks with the keys alone and fails when tampered with")
    func sealsAndProofs() async throws {
        let h = try await APIHarness()
        defer { h.store.shutdown() }
        let sealer = LogSealer(store: h.store, key: SealKey())
        try await h.run { client in
            func get(_ path: String, token: String? = "viewer-token-1") async throws -> (HTTPResponse.Status, Data) {
                try await client.execute(uri: path, method: .get, headers: APIHarness.headers(token)) { ($0.status, Data($0.body.readableBytesView)) }
            }
            let (none, noneBody) = try await get("/api/v1/audit/proofs/inclusion?position=1")
            #expect(none == .notFound && String(decoding: noneBody, as: UTF8.self).contains("no seal yet"))

            let name = try await APIHarness.createFlow(client)
            _ = try await APIHarness.waitFor(client, name) { $0["phase"] as? String == "Success" }
            // The seal must cover the flow's last event: wait (bounded) until the global read shows
            // FlowSucceeded, which a loaded machine can append and show a moment after the phase.
            let shown = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < shown {
                let log = try await h.store.readAll(after: .start, limit: 10_000)
                if log.contains(where: { $0.streamID.rawValue == "deployflow-\(name)" && $0.type == "FlowSucceeded" }) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let first = try #require(try await sealer.seal())

            let (status, listing) = try await get("/api/v1/audit/seals")
            #expect(status == .ok)
            struct Listing: Decodable {
                var seals: [Seal]
                var keys: [SealPublicKey]
            }
            let seals = try JSONDecoder().decode(Listing.self, from: listing)
            #expect(seals.seals.last == first && seals.keys.map(\.keyID) == [sealer.key.keyID])

            // An event in the middle of the log.
            let middle = try await h.store.readAll(after: .start, limit: 1000)[Int(first.treeSize / 2)]
            let (included, inclusionBody) = try await get("/api/v1/audit/proofs/inclusion?position=\(middle.position)")
            #expect(included == .ok)
            var proof = try JSONDecoder().decode(SealProofs.Inclusion.self, from: inclusionBody)
            #expect(proof.seal == first && proof.leaf.position == middle.position && proof.leaf.stream == middle.streamID.rawValue)
            #expect(SealProofs.problem(proof, keys: seals.keys) == nil)
            proof.leaf.actor = "mallory"
            #expect(SealProofs.problem(proof, keys: seals.keys) != nil, "a changed leaf does not verify")
            #expect(SealProofs.problem(proof, keys: []) != nil)

            // The flow's end: its last event (FlowSucceeded) is in the seal.
            let (flowSealed, flowBody) = try await get("/api/v1/deployflows/\(name)/seal")
            #expect(flowSealed == .ok)
            let flowProof = try JSONDecoder().decode(SealProofs.Inclusion.self, from: flowBody)
            #expect(flowProof.leaf.type == "FlowSucceeded" && SealProofs.problem(flowProof, keys: seals.keys) == nil)

            // A second release, a second seal: it extends the first.
            try await client.execute(
                uri: "/api/v1/namespaces/prod/deployflows", method: .post, headers: APIHarness.headers("deployer-token-1"),
                body: ByteBuffer(string: APIHarness.updateBody("shop/checkout:v2"))
            ) { #expect($0.status == .created) }
            // Seal once the global read shows the new release's events: a transaction open elsewhere on
            // the server (another test's) holds that read back for a moment.
            let grown = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < grown, try await h.store.readAll(after: .start, limit: 10_000).count <= Int(first.treeSize) {
                try await Task.sleep(for: .milliseconds(50))
            }
            let second = try #require(try await sealer.seal())
            let (consistent, consistencyBody) = try await get("/api/v1/audit/proofs/consistency?from=\(first.sequence)")
            #expect(consistent == .ok)
            var consistency = try JSONDecoder().decode(SealProofs.Consistency.self, from: consistencyBody)
            #expect(consistency.from == first && consistency.to == second && !consistency.proof.isEmpty)
            #expect(SealProofs.problem(consistency, keys: seals.keys) == nil)
            consistency.proof[0] = String(repeating: "0", count: 64)
            #expect(SealProofs.problem(consistency, keys: seals.keys)?.contains("does not extend") == true)

            // Bad input names the field; the viewer role is needed.
            let (bad, badBody) = try await get("/api/v1/audit/proofs/inclusion?position=abc")
            #expect(bad == .badRequest && String(decoding: badBody, as: UTF8.self).contains("\"position\""))
            let (noSeal, noSealBody) = try await get("/api/v1/audit/proofs/consistency?from=1&to=99")
            #expect(noSeal == .notFound && String(decoding: noSealBody, as: UTF8.self).contains("\"to\""))
            let (missing, _) = try await get("/api/v1/audit/proofs/consistency")
            #expect(missing == .badRequest)
            let (anonymous, _) = try await get("/api/v1/audit/seals", token: nil)
            #expect(anonymous == .unauthorized)
        }
    }
}
