import EventStore

extension PostgresEventStore {
    /// What `verify` found.
    public struct VerifyReport: Sendable {
        public var streams: Int
        public var events: Int
        /// The first broken link, if any.
        public var firstBreak: HashChain.Break?
    }

    /// Re-computes every stream's hash chain from the stored rows, page by page, and stops at the
    /// first broken link. `progress` is called after each page with the events checked so far.
    public func verify(pageSize: Int = 5000, progress: (@Sendable (Int) -> Void)? = nil) async throws -> VerifyReport {
        var verifier = HashChain.Verifier()
        var after: (String, Int64) = ("", 0)
        while true {
            let links = try await self.withRetryOnLostConnection {
                try await self.pool.withConnection { connection in
                    try await connection.query(
                        """
                        SELECT stream_id, version, event_type, data::text, metadata::text,
                               encode(prev_hash, 'hex'), encode(hash, 'hex')
                        FROM events WHERE (stream_id, version) > ($1, $2::bigint)
                        ORDER BY stream_id, version LIMIT $3::int
                        """,
                        [after.0, String(after.1), String(pageSize)]
                    ) { reader in
                        (0..<reader.rowCount).map { row in
                            HashChain.Link(
                                stream: StreamID(reader.string(row, 0)), version: reader.int64(row, 1),
                                type: reader.string(row, 2), data: reader.string(row, 3), metadata: reader.string(row, 4),
                                previousHash: reader.string(row, 5), hash: reader.string(row, 6)
                            )
                        }
                    }
                }
            }
            for link in links {
                do {
                    try verifier.check(link)
                } catch {
                    return VerifyReport(streams: verifier.streams, events: verifier.events, firstBreak: error)
                }
            }
            progress?(verifier.events)
            guard let last = links.last, links.count == pageSize else { break }
            after = (last.stream.rawValue, last.version)
        }
        return VerifyReport(streams: verifier.streams, events: verifier.events, firstBreak: nil)
    }
}
