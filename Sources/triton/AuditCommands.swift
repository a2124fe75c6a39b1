import ArgumentParser
import EventStore
import Foundation
import PostgresStore
import TritonAudit
import TritonSeals

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Audit tools over the event log: verify it (in the database or a bundle), export a bundle, seals and their proofs.",
        subcommands: [AuditVerify.self, AuditExport.self, AuditSeals.self, AuditProof.self, AuditKeygen.self]
    )
}

/// A seal an auditor kept (`triton audit seals --last --output json`, or one of a bundle's seals.json):
/// a seal object, or `{"seals": [...]}` (its last seal).
enum TrustedSealFile {
    static func read(_ path: String?) throws -> Seal? {
        guard let path else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("--trusted-seal \(path): cannot be read")
        }
        struct Listing: Decodable { var seals: [Seal] }
        if let seal = try? JSONDecoder().decode(Seal.self, from: data) { return seal }
        if let last = (try? JSONDecoder().decode(Listing.self, from: data))?.seals.last { return last }
        if let last = (try? JSONDecoder().decode([Seal].self, from: data))?.last { return last }
        throw ValidationError("--trusted-seal \(path): not a seal (expected the JSON of triton audit seals --last --output json)")
    }
}

/// Writes a new seal key's seed (hex) to a file only its owner may read; refuses to replace one.
enum SealKeyFile {
    static func write(_ key: SealKey, to path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        guard !FileManager.default.fileExists(atPath: path) else { throw ValidationError("\(path): exists already; not replacing a key") }
        guard FileManager.default.createFile(atPath: path, contents: Data((key.seedHex + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("\(path): cannot be written")
        }
    }
}

struct AuditVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify the log: every stream's hash chain, every seal's signature, chain and root, and a seal you kept.",
        discussion: """
            Without --bundle it reads the database (of --database-url, $TRITON_DATABASE_URL, or the triton serve running here); \
            with --bundle DIR it checks a bundle of triton audit export and needs no database. Exits 1 naming the first failure \
            and the log position it concerns.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("Verify this bundle (of triton audit export) instead of the database.", valueName: "dir"))
    var bundle: String?

    @Option(help: ArgumentHelp("A seal you kept (JSON of triton audit seals --last --output json): the log must still hold it as kept.", valueName: "file"))
    var trustedSeal: String?

    @OptionGroup var output: OutputOptions

    struct Result: Encodable {
        var ok: Bool
        var source: String
        var events: UInt64?
        var streams: Int?
        var seals: Int?
        var unsealedEvents: UInt64?
        var lastSeal: Seal?
        var keys: [SealPublicKey]?
        var trustedSeal: UInt64?
        var files: [String]?
        var failure: AuditFailure?
    }

    func run() async throws {
        let trusted = try TrustedSealFile.read(self.trustedSeal)
        let output = self.output
        let source = self.bundle.map { "bundle \($0)" } ?? "database"
        let report: AuditReport
        do {
            if let bundle = self.bundle {
                report = try AuditBundle.verify(URL(fileURLWithPath: bundle), trusted: trusted) { done, total in
                    if !output.isJSON { output.progress("verified \(done) of \(total) events…") }
                }
            } else {
                let store = try self.database.makeStore()
                defer { store.shutdown() }
                report = try await LogAudit.verify(store, trusted: trusted) { done, total in
                    if !output.isJSON { output.progress("verified \(done) of \(total) events…") }
                }
            }
        } catch let failure as AuditFailure {
            if output.isJSON {
                try output.printJSON(Result(ok: false, source: source, failure: failure))
            } else {
                print("FAILED (\(failure.check.rawValue) check of the \(source)): \(failure.message)")
                var at: [String] = []
                if let position = failure.position { at.append("log position \(position)") }
                if let stream = failure.stream { at.append("stream \(stream)\(failure.version.map { " version \($0)" } ?? "")") }
                if let seal = failure.seal { at.append("seal \(seal)") }
                if !at.isEmpty { print("  at \(at.joined(separator: ", "))") }
            }
            throw ExitCode(1)
        }
        if output.isJSON {
            try output.printJSON(
                Result(
                    ok: true, source: source, events: report.events, streams: report.streams, seals: report.seals,
                    unsealedEvents: report.unsealedEvents, lastSeal: report.lastSeal, keys: report.keys, trustedSeal: report.trustedSeal,
                    files: report.files
                )
            )
            return
        }
        print("ok: the \(source)")
        if !report.files.isEmpty { print("  files:   \(report.files.joined(separator: ", ")) match the manifest's SHA-256") }
        print("  events:  \(report.events) in \(report.streams) streams, every stream's hash chain intact")
        if let last = report.lastSeal {
            print("  seals:   \(report.seals), chained, each root recomputed from the events; the last, seal \(last.sequence), covers \(last.treeSize) events")
            for key in report.keys {
                let range = key.validUntilSequence.map { "seals \(key.validFromSequence)–\($0)" } ?? "seals \(key.validFromSequence) onwards (the current key)"
                print("  key:     \(key.keyID) signed \(range)")
            }
        } else {
            print("  seals:   none (the log was never sealed: run triton serve with a seal key)")
        }
        if report.unsealedEvents > 0 { print("  unsealed: \(report.unsealedEvents) event\(report.unsealedEvents == 1 ? "" : "s") after the last seal (the next seal covers them)") }
        if let kept = report.trustedSeal { print("  trusted: your seal \(kept) is in the log as you kept it: nothing it sealed was cut or rewritten") }
    }
}

struct AuditExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write an audit bundle (events.jsonl, seals.json, keys.json, manifest.json) for triton audit verify --bundle."
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("Folder to write the bundle into (created).", valueName: "dir"))
    var out: String

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let store = try self.database.makeStore()
        defer { store.shutdown() }
        let output = self.output
        let manifest = try await AuditBundle.export(store, to: URL(fileURLWithPath: self.out)) { done, total in
            if !output.isJSON { output.progress("exported \(done) of \(total) events…") }
        }
        if output.isJSON {
            try output.printJSON(manifest)
        } else {
            let sealed = manifest.lastSeal.map { "the last seal, \($0.sequence), covers \($0.treeSize)" } ?? "no seal yet"
            print("exported \(manifest.events) events in \(manifest.streams) streams and \(manifest.seals) seals (\(sealed)) to \(self.out)")
            print("check it anywhere: triton audit verify --bundle \(self.out) [--trusted-seal kept-seal.json]")
        }
    }
}

struct AuditKeygen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen", abstract: "Make a seal key (Ed25519) for triton serve --seal-key-file; prints its id and public key, never the key."
    )

    @Option(help: ArgumentHelp("File to write the key into (mode 0600; an existing file is not replaced).", valueName: "path"))
    var out: String

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let key = SealKey()
        try SealKeyFile.write(key, to: self.out)
        if self.output.isJSON {
            try self.output.printJSON(["keyID": key.keyID, "publicKey": key.publicKeyBase64, "file": self.out])
        } else {
            print("seal key \(key.keyID) written to \(self.out) (public key \(key.publicKeyBase64))")
        }
    }
}

struct SealsReply: Codable {
    var seals: [Seal]
    var keys: [SealPublicKey]
}

struct AuditSeals: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seals", abstract: "The log's seals and the keys that signed them (keep the last one: --last --output json > kept-seal.json)."
    )

    @Flag(help: "Only the last seal (with --output json: the seal object itself, for --trusted-seal).")
    var last = false

    @OptionGroup var api: APIOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await self.api.calling(self.output) { client in
            let reply = try await client.get(SealsReply.self, "/api/v1/audit/seals\(self.last ? "?last=true" : "")")
            if self.output.isJSON {
                if self.last {
                    guard let seal = reply.seals.last else { throw CLIError(code: "notFound", field: nil, message: "the log has no seal yet") }
                    try self.output.printJSON(seal)
                } else {
                    try self.output.printJSON(reply)
                }
                return
            }
            guard !reply.seals.isEmpty else {
                print("no seals yet")
                return
            }
            print("SEAL  EVENTS  TIME                      KEY               ROOT")
            for seal in reply.seals {
                let time = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(seal.timeMillis) / 1000))
                print(
                    "\(String(seal.sequence).padding(toLength: 6, withPad: " ", startingAt: 0))\(String(seal.treeSize).padding(toLength: 8, withPad: " ", startingAt: 0))\(time.padding(toLength: 26, withPad: " ", startingAt: 0))\(String(seal.keyID.prefix(16)))  \(seal.root.prefix(16))…"
                )
            }
        }
    }
}

struct AuditProof: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proof", abstract: "Ask the API for a proof and check it here, with the seals' public keys.",
        subcommands: [Inclusion.self, Consistency.self]
    )

    struct Inclusion: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "That an event (by global log position, or a flow's last event) is in a seal's tree (RFC 9162 §2.1.3)."
        )

        @Option(help: "The event's global log position.")
        var position: Int64?

        @Option(help: ArgumentHelp("A flow: prove its last event (the seal made at its end).", valueName: "id"))
        var flow: String?

        @Option(help: "The seal (default: the first that covers the event).")
        var seal: UInt64?

        @OptionGroup var api: APIOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard (self.position == nil) != (self.flow == nil) else { throw ValidationError("--position, --flow: give one of them") }
            if self.flow != nil, self.seal != nil { throw ValidationError("--seal: only with --position") }
        }

        func run() async throws {
            try await self.api.calling(self.output) { client in
                let path =
                    if let flow = self.flow {
                        "/api/v1/deployflows/\(TritonClient.escape(flow))/seal"
                    } else {
                        "/api/v1/audit/proofs/inclusion?position=\(self.position ?? 0)\(self.seal.map { "&seal=\($0)" } ?? "")"
                    }
                let proof = try await client.get(SealProofs.Inclusion.self, path)
                let keys = try await client.get(SealsReply.self, "/api/v1/audit/seals?last=true").keys
                let problem = SealProofs.problem(proof, keys: keys)
                if self.output.isJSON {
                    struct Result: Encodable {
                        var ok: Bool
                        var problem: String?
                        var proof: SealProofs.Inclusion
                    }
                    try self.output.printJSON(Result(ok: problem == nil, problem: problem, proof: proof))
                } else if let problem {
                    print("FAILED: \(problem)")
                } else {
                    let leaf = proof.leaf
                    print(
                        "ok: event \(leaf.position) (\(leaf.stream) version \(leaf.version), \(leaf.type) by \(leaf.actor.isEmpty ? "-" : leaf.actor)) is leaf \(proof.leafIndex) of seal \(proof.seal.sequence)"
                    )
                    print("  \(proof.path.count) hashes lead to its root \(proof.seal.root.prefix(16))… over \(proof.seal.treeSize) events; signed by key \(proof.seal.keyID)")
                }
                if problem != nil { throw ExitCode(1) }
            }
        }
    }

    struct Consistency: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "That a later seal's tree extends an earlier one's: nothing sealed before was changed or dropped (RFC 9162 §2.1.4)."
        )

        @Option(help: "The earlier seal.")
        var from: UInt64?

        @Option(help: ArgumentHelp("Start from a seal you kept instead (it must equal the log's seal of its sequence).", valueName: "file"))
        var trustedSeal: String?

        @Option(help: "The later seal (default: the last).")
        var to: UInt64?

        @OptionGroup var api: APIOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard (self.from == nil) != (self.trustedSeal == nil) else { throw ValidationError("--from, --trusted-seal: give one of them") }
        }

        func run() async throws {
            let kept = try TrustedSealFile.read(self.trustedSeal)
            try await self.api.calling(self.output) { client in
                let from = kept?.sequence ?? self.from ?? 0
                let proof = try await client.get(
                    SealProofs.Consistency.self, "/api/v1/audit/proofs/consistency?from=\(from)\(self.to.map { "&to=\($0)" } ?? "")"
                )
                let keys = try await client.get(SealsReply.self, "/api/v1/audit/seals?last=true").keys
                var problem = SealProofs.problem(proof, keys: keys)
                if let kept, kept != proof.from {
                    problem = "the log's seal \(kept.sequence) differs from your kept copy: the log was rewritten"
                }
                if self.output.isJSON {
                    struct Result: Encodable {
                        var ok: Bool
                        var problem: String?
                        var proof: SealProofs.Consistency
                    }
                    try self.output.printJSON(Result(ok: problem == nil, problem: problem, proof: proof))
                } else if let problem {
                    print("FAILED: \(problem)")
                } else {
                    print(
                        "ok: seal \(proof.to.sequence) (\(proof.to.treeSize) events) extends seal \(proof.from.sequence) (\(proof.from.treeSize) events)\(kept != nil ? ", your kept seal" : ""): \(proof.proof.count) hashes"
                    )
                }
                if problem != nil { throw ExitCode(1) }
            }
        }
    }
}
