import EventStore
import Foundation
import Hummingbird
import PostgresStore
import TritonAudit
import TritonDomain
import TritonEngine
import TritonSeals

/// The seals and their proofs (viewer role): what an auditor needs to check, with nothing but the
/// public keys, that an event is in the sealed log and that the log only grew between two seals.
extension TritonAPI {
    struct SealsReply: Encodable {
        var seals: [Seal]
        var keys: [SealPublicKey]
    }

    /// `GET /api/v1/audit/seals[?last=true]`: every seal (or the last one) and the keys that signed them.
    @Sendable func seals(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "reading the seals")
        let records = SealRecords(store: self.store)
        let all = try await records.all()
        let last = request.uri.queryParameters.get("last") == "true"
        return try Self.encode(SealsReply(seals: last ? Array(all.suffix(1)) : all, keys: try await records.keys()))
    }

    /// `GET /api/v1/audit/proofs/inclusion?position=P[&seal=N]`: the audit path of the event at global
    /// position P in seal N (default: the first seal that covers it).
    @Sendable func inclusionProof(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "reading proofs")
        let query = request.uri.queryParameters
        guard let text = query.get("position"), let position = Int64(text) else {
            throw APIError.badRequest("position", "required: the event's global log position (an integer)")
        }
        return try await self.inclusion(position: position, seal: try Self.sequence(query.get("seal"), field: "seal"))
    }

    /// `GET /api/v1/deployflows/{name}/seal`: the seal that covers the flow's last event (made at its end)
    /// with that event's audit path.
    @Sendable func flowSeal(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "reading proofs")
        let record = try await self.flowRecord(context)
        guard let last = try await self.store.readStream(Streams.flow(record.id)).last else {
            throw APIError.notFound("name", "flow \(record.id) has no events")
        }
        return try await self.inclusion(position: last.position, seal: nil)
    }

    /// `GET /api/v1/audit/proofs/consistency?from=A[&to=B]`: that seal B (default: the last) extends seal A.
    @Sendable func consistencyProof(_ request: Request, _ context: APIContext) async throws -> Response {
        try context.require(.viewer, for: "reading proofs")
        let query = request.uri.queryParameters
        guard let from = try Self.sequence(query.get("from"), field: "from") else {
            throw APIError.badRequest("from", "required: the sequence of the earlier seal")
        }
        do {
            return try Self.encode(try await SealProofs.consistency(self.store, from: from, to: try Self.sequence(query.get("to"), field: "to")))
        } catch let unavailable as SealProofs.Unavailable {
            throw APIError.notFound(unavailable.field, unavailable.message)
        }
    }

    private func inclusion(position: Int64, seal: UInt64?) async throws -> Response {
        do {
            return try Self.encode(try await SealProofs.inclusion(self.store, position: position, seal: seal))
        } catch let unavailable as SealProofs.Unavailable {
            throw APIError.notFound(unavailable.field, unavailable.message)
        }
    }

    private static func sequence(_ text: String?, field: String) throws -> UInt64? {
        guard let text else { return nil }
        guard let value = UInt64(text), value > 0 else { throw APIError.badRequest(field, "must be a seal sequence (1, 2, …), not '\(text)'") }
        return value
    }
}
