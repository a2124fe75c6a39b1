import ArgumentParser
import Foundation

/// `triton login`: checks a server and a token, then records them as a context and makes it current.
struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Log in to a Triton API: check the server and the token, record them as a context, make it current.",
        discussion: "The contexts file keeps the token file's path, never the token. See `triton context list`."
    )

    @Option(help: ArgumentHelp("URL of the Triton API, e.g. https://triton.example.com:8088.", valueName: "url"))
    var server: String

    @Option(help: ArgumentHelp("A file holding your bearer token (omit for an open server).", valueName: "path"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("PEM bundle to verify the server against (default: the system's).", valueName: "path"))
    var caFile: String?

    @Flag(help: "Do not verify the server's certificate (test servers only).")
    var insecureSkipTlsVerify = false

    @Option(help: "Name of the context (default: the server's host:port).")
    var name: String?

    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await self.output.reporting {
            func absolute(_ path: String?) -> String? { path.map { URL(fileURLWithPath: $0).standardizedFileURL.path } }
            let host = URL(string: self.server).map { url in "\(url.host ?? "server")\(url.port.map { ":\($0)" } ?? "")" } ?? "server"
            let context = ContextsFile.Context(
                name: self.name ?? host, server: self.server, tokenFile: absolute(self.tokenFile), certificateAuthority: absolute(self.caFile),
                insecureSkipVerify: self.insecureSkipTlsVerify ? true : nil
            )
            let client = try APIOptions.client(for: context)
            defer { client.shutdown() }
            let me = try await client.get(WhoAmI.Reply.self, "/api/v1/whoami")
            var file = try ContextsFile.load()
            file.upsert(context)
            file.currentContext = context.name
            try file.save()
            if self.output.isJSON {
                try self.output.printJSON(WhoAmI.Report(context: context.name, server: context.server, user: me.user, roles: me.roles, open: me.open))
            } else {
                print("logged in to \(context.server) as \(me.user) (\(me.roles.joined(separator: ", ")))\(me.open ? " — the server is OPEN" : ""); context \(context.name) is current")
            }
        }
    }
}

/// `triton whoami`: who the server says you are, through the current context.
struct WhoAmI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "whoami", abstract: "Who the Triton API says you are, and your roles.")

    struct Reply: Decodable {
        var user: String
        var roles: [String]
        var open: Bool
    }

    struct Report: Encodable {
        var context: String?
        var server: String
        var user: String
        var roles: [String]
        var open: Bool
    }

    @OptionGroup var api: APIOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await self.output.reporting {
            let context = try self.api.resolved()
            let client = try APIOptions.client(for: context)
            defer { client.shutdown() }
            let me = try await client.get(Reply.self, "/api/v1/whoami")
            let report = Report(context: context.name.isEmpty ? nil : context.name, server: context.server, user: me.user, roles: me.roles, open: me.open)
            if self.output.isJSON {
                try self.output.printJSON(report)
            } else {
                print("\(me.user) (\(me.roles.joined(separator: ", "))) at \(context.server)\(me.open ? " — the server is OPEN" : "")")
            }
        }
    }
}

/// `triton context list|use`: the contexts of the CLI's config file.
struct ContextCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "context", abstract: "The Triton APIs this CLI knows (written by `triton login` and `triton serve`).",
        subcommands: [ContextList.self, ContextUse.self]
    )
}

struct ContextList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the contexts; * marks the current one.")
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await self.output.reporting {
            let file = try ContextsFile.load()
            if self.output.isJSON {
                try self.output.printJSON(file)
                return
            }
            print("config: \(ContextsFile.path)")
            for context in file.contexts {
                let marker = context.name == file.currentContext ? "*" : " "
                print("\(marker) \(context.name)  \(context.server)\(context.tokenFile.map { "  token file \($0)" } ?? "  (no token)")")
            }
        }
    }
}

struct ContextUse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "use", abstract: "Make a context the current one.")
    @Argument(help: "The context's name.") var name: String
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await self.output.reporting {
            var file = try ContextsFile.load()
            guard file.context(named: self.name) != nil else {
                throw CLIError(code: "noContext", field: "name", message: "no context named '\(self.name)' in \(ContextsFile.path)")
            }
            file.currentContext = self.name
            try file.save()
            if !self.output.isJSON { print("context \(self.name) is current") }
        }
    }
}
