import TritonJSON

/// Reads the parsed tree of one kubeconfig file into a ``KubeConfig``, naming the offending entry on error.
struct KubeConfigReader {
    var origin: String
    var directory: String?

    func fail(_ message: String) -> KubeError {
        KubeError(.invalidConfiguration, "\(self.origin): \(message)")
    }

    mutating func read(_ tree: JSONValue) throws -> KubeConfig {
        var config = KubeConfig()
        if case .null = tree { return config }
        guard case .object = tree else { throw self.fail("the top level is not a mapping") }
        if let kind = tree["kind"]?.stringValue, kind != "Config" {
            throw self.fail("kind is \(kind), expected Config")
        }
        config.currentContext = tree["current-context"]?.scalarText.flatMap { $0.isEmpty ? nil : $0 }
        for (name, body) in try self.namedEntries(tree, list: "clusters", field: "cluster") {
            config.clusters[name] = try self.cluster(body, name: name)
        }
        for (name, body) in try self.namedEntries(tree, list: "users", field: "user") {
            config.users[name] = try self.user(body, name: name)
        }
        for (name, body) in try self.namedEntries(tree, list: "contexts", field: "context") {
            config.contexts[name] = KubeConfig.Context(
                cluster: body["cluster"]?.scalarText ?? "",
                user: body["user"]?.scalarText ?? "",
                namespace: body["namespace"]?.scalarText.flatMap { $0.isEmpty ? nil : $0 }
            )
        }
        return config
    }

    /// `list: [{name: N, field: {...}}]` as (N, body) pairs; within one file the first entry of a name wins.
    func namedEntries(_ tree: JSONValue, list: String, field: String) throws -> [(String, JSONValue)] {
        guard let value = tree[list], value != .null else { return [] }
        guard let items = value.arrayValue else { throw self.fail("`\(list)` is not a list") }
        var result: [(String, JSONValue)] = []
        var seen = Set<String>()
        for (index, item) in items.enumerated() {
            guard let name = item["name"]?.scalarText, !name.isEmpty else {
                throw self.fail("\(list)[\(index)] has no name")
            }
            let body = item[field] ?? .object([:])
            guard case .object = body else { throw self.fail("\(list)[\(name)].\(field) is not a mapping") }
            if seen.insert(name).inserted { result.append((name, body)) }
        }
        return result
    }

    func string(_ body: JSONValue, _ key: String) -> String? {
        guard let text = body[key]?.scalarText, !text.isEmpty else { return nil }
        return text
    }

    func path(_ body: JSONValue, _ key: String) -> String? {
        self.string(body, key).map { KubeConfig.absolutePath($0, relativeTo: self.directory) }
    }

    func cluster(_ body: JSONValue, name: String) throws -> KubeConfig.Cluster {
        var cluster = KubeConfig.Cluster()
        cluster.server = self.string(body, "server")
        cluster.certificateAuthority = self.path(body, "certificate-authority")
        cluster.certificateAuthorityData = self.string(body, "certificate-authority-data")
        cluster.tlsServerName = self.string(body, "tls-server-name")
        cluster.proxyURL = self.string(body, "proxy-url")
        switch body["insecure-skip-tls-verify"] {
        case nil, .null: break
        case .bool(let value): cluster.insecureSkipTLSVerify = value
        case .string("true"): cluster.insecureSkipTLSVerify = true
        case .string("false"): cluster.insecureSkipTLSVerify = false
        default: throw self.fail("clusters[\(name)].insecure-skip-tls-verify is not a boolean")
        }
        return cluster
    }

    func user(_ body: JSONValue, name: String) throws -> KubeConfig.User {
        var user = KubeConfig.User()
        user.token = self.string(body, "token")
        user.tokenFile = self.path(body, "tokenFile")
        user.clientCertificate = self.path(body, "client-certificate")
        user.clientCertificateData = self.string(body, "client-certificate-data")
        user.clientKey = self.path(body, "client-key")
        user.clientKeyData = self.string(body, "client-key-data")
        user.username = self.string(body, "username")
        user.password = self.string(body, "password")
        if let provider = body["auth-provider"], provider != .null {
            user.authProvider = provider["name"]?.scalarText ?? "unnamed"
        }
        if let exec = body["exec"], exec != .null {
            user.exec = try self.exec(exec, name: name)
        }
        return user
    }

    func exec(_ body: JSONValue, name: String) throws -> ExecConfig {
        guard let command = self.string(body, "command") else {
            throw self.fail("users[\(name)].exec has no command")
        }
        let args = try (body["args"]?.arrayValue ?? []).map { arg in
            guard let text = arg.scalarText else { throw self.fail("users[\(name)].exec.args must be strings") }
            return text
        }
        var env: [String: String] = [:]
        for entry in body["env"]?.arrayValue ?? [] {
            guard let key = entry["name"]?.scalarText else {
                throw self.fail("users[\(name)].exec.env entries need a name")
            }
            env[key] = entry["value"]?.scalarText ?? ""
        }
        let mode: ExecConfig.InteractiveMode
        if let text = self.string(body, "interactiveMode") {
            guard let parsed = ExecConfig.InteractiveMode(rawValue: text) else {
                throw self.fail("users[\(name)].exec.interactiveMode `\(text)` is not Never, IfAvailable or Always")
            }
            mode = parsed
        } else {
            mode = .ifAvailable
        }
        return ExecConfig(
            apiVersion: self.string(body, "apiVersion") ?? "client.authentication.k8s.io/v1",
            command: command,
            args: args,
            env: env,
            installHint: self.string(body, "installHint"),
            provideClusterInfo: body["provideClusterInfo"]?.boolValue ?? false,
            interactiveMode: mode,
            baseDirectory: self.directory
        )
    }
}
