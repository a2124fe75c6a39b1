import Foundation

/// The CLI's config file of contexts, as kubectl has for clusters: which `triton serve` API to talk to
/// (URL), with which token (a file holding it, never the token itself) and which CA. Written by
/// `triton login` and, for the local embedded default, by `triton serve` (the context `local`).
///
/// Where: `$TRITON_CONFIG`, else `$XDG_CONFIG_HOME/triton/config.json`, else `~/.config/triton/config.json`.
struct ContextsFile: Codable, Sendable, Equatable {
    struct Context: Codable, Sendable, Equatable {
        var name: String
        /// The API's base URL, e.g. `http://127.0.0.1:8088`.
        var server: String
        /// A file whose content is the bearer token; none in open mode.
        var tokenFile: String?
        /// A PEM bundle to verify an https server against (default: the system's).
        var certificateAuthority: String?
        /// Skip verifying the server's certificate (test servers only).
        var insecureSkipVerify: Bool?
    }

    var currentContext: String?
    var contexts: [Context] = []

    static let localName = "local"

    static var path: String {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["TRITON_CONFIG"], !path.isEmpty { return path }
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty { return xdg + "/triton/config.json" }
        return FileManager.default.homeDirectoryForCurrentUser.path + "/.config/triton/config.json"
    }

    /// The file, or an empty one when there is none; a file that is not a contexts file is an error
    /// (it is never overwritten silently).
    static func load(from path: String = Self.path) throws -> ContextsFile {
        guard let data = FileManager.default.contents(atPath: path) else { return ContextsFile() }
        do {
            return try JSONDecoder().decode(ContextsFile.self, from: data)
        } catch {
            throw CLIError(code: "config", field: nil, message: "\(path) is not a Triton contexts file (\(error)); fix or remove it")
        }
    }

    /// Writes the file atomically, readable by its owner only (it names token files).
    func save(to path: String = Self.path) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid())")
        guard FileManager.default.createFile(atPath: temporary.path, contents: try encoder.encode(self), attributes: [.posixPermissions: 0o600])
        else { throw CLIError(code: "config", field: nil, message: "cannot write \(temporary.path)") }
        guard rename(temporary.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw CLIError(code: "config", field: nil, message: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    func context(named name: String) -> Context? { self.contexts.first { $0.name == name } }

    /// Adds or replaces the context of the same name.
    mutating func upsert(_ context: Context) {
        if let index = self.contexts.firstIndex(where: { $0.name == context.name }) {
            self.contexts[index] = context
        } else {
            self.contexts.append(context)
        }
    }

    /// What `triton serve` records for the CLI on this machine: the context `local` with its URL (and CA,
    /// over TLS). It becomes the current context unless the user chose another one (`triton login`).
    static func recordLocal(server: String, certificateAuthority: String?, at path: String = Self.path) throws {
        var file = try Self.load(from: path)
        let previous = file.context(named: Self.localName)
        file.upsert(
            Context(
                name: Self.localName, server: server, tokenFile: previous?.tokenFile, certificateAuthority: certificateAuthority,
                insecureSkipVerify: nil
            )
        )
        if file.currentContext == nil || file.context(named: file.currentContext ?? "") == nil {
            file.currentContext = Self.localName
        }
        try file.save(to: path)
    }
}
