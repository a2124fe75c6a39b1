import ArgumentParser
import Foundation
import KubeClient

/// Which Triton API a flow or instance command talks to: `--api-server` (with `--token-file`,
/// `--ca-file`), else the context `--context` or the current one of the contexts file (written by
/// `triton login`, and by `triton serve` for the local default).
struct APIOptions: ParsableArguments {
    @Option(name: .customLong("context"), help: "The Triton context to use (default: the current one; see `triton context list`).")
    var contextName: String?

    @Option(help: ArgumentHelp("URL of the Triton API, e.g. http://127.0.0.1:8088 (instead of a context).", valueName: "url"))
    var apiServer: String?

    @Option(help: ArgumentHelp("A file holding the bearer token (instead of the context's).", valueName: "path"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("PEM bundle to verify an https API against (instead of the context's).", valueName: "path"))
    var caFile: String?

    /// The settings the flags and the contexts file give.
    func resolved() throws -> ContextsFile.Context {
        var context: ContextsFile.Context
        if let server = self.apiServer {
            context = ContextsFile.Context(name: "", server: server)
        } else {
            let file = try ContextsFile.load()
            guard let name = self.contextName ?? file.currentContext else {
                throw CLIError(
                    code: "noContext", field: "--context",
                    message: "no Triton API to talk to: start `triton serve` here (it records the context local), "
                        + "or `triton login --server <url> --token-file <file>`, or give --api-server"
                )
            }
            guard let found = file.context(named: name) else {
                let known = file.contexts.map(\.name).joined(separator: ", ")
                throw CLIError(code: "noContext", field: "--context", message: "no context named '\(name)' in \(ContextsFile.path) (known: \(known.isEmpty ? "none" : known))")
            }
            context = found
        }
        if let tokenFile = self.tokenFile { context.tokenFile = tokenFile }
        if let caFile = self.caFile { context.certificateAuthority = caFile }
        return context
    }

    /// A client for the resolved API.
    func client() throws -> TritonClient {
        try Self.client(for: try self.resolved())
    }

    /// A command's body with a client of the resolved API (shut down after it); a refusal is printed as
    /// `output` prints failures.
    func calling<T>(_ output: OutputOptions, _ body: (TritonClient) async throws -> T) async throws -> T {
        try await output.reporting {
            let client = try self.client()
            defer { client.shutdown() }
            return try await body(client)
        }
    }

    static func client(for context: ContextsFile.Context) throws -> TritonClient {
        guard let url = URL(string: context.server), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw CLIError(code: "invalidField", field: "--api-server", message: "'\(context.server)' is not an http:// or https:// URL")
        }
        var token: String?
        if let path = context.tokenFile {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CLIError(code: "invalidField", field: "--token-file", message: "cannot read \(path)")
            }
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw CLIError(code: "invalidField", field: "--token-file", message: "\(path) is empty") }
            token = text
        }
        let tls = KubeClient.TLS(
            certificateAuthority: context.certificateAuthority.map { .file($0) }, insecureSkipVerify: context.insecureSkipVerify ?? false
        )
        return TritonClient(server: context.server, token: token, contextName: context.name.isEmpty ? nil : context.name, tls: tls)
    }
}
