import Foundation

extension KubeClient.Configuration {
    /// Resolves a kubeconfig context into a client configuration.
    /// - Parameters:
    ///   - kubeConfig: The (merged) kubeconfig.
    ///   - context: The context to use; `nil` uses `current-context`.
    /// - Throws: ``KubeError`` naming what is wrong: `.noCurrentContext`, `.contextNotFound`,
    ///   `.clusterNotFound`, `.userNotFound`, `.invalidConfiguration` (e.g. no server, a certificate without
    ///   its key), `.invalidBase64`, `.fileUnreadable`, `.unsupportedAuthentication`.
    public init(kubeConfig: KubeConfig, context: String? = nil) throws {
        guard let contextName = context ?? kubeConfig.currentContext else {
            throw KubeError(.noCurrentContext, "the kubeconfig sets no current-context and no context was given")
        }
        guard let resolved = kubeConfig.contexts[contextName] else {
            let known = kubeConfig.contexts.keys.sorted().joined(separator: ", ")
            throw KubeError(.contextNotFound, "context \"\(contextName)\" not found in the kubeconfig (known: \(known))")
        }
        guard let cluster = kubeConfig.clusters[resolved.cluster] else {
            throw KubeError(
                .clusterNotFound,
                "context \"\(contextName)\" names cluster \"\(resolved.cluster)\", which is not in the kubeconfig"
            )
        }
        guard let server = cluster.server else {
            throw KubeError(.invalidConfiguration, "cluster \"\(resolved.cluster)\" has no server")
        }
        var tls = KubeClient.TLS(insecureSkipVerify: cluster.insecureSkipTLSVerify, serverName: cluster.tlsServerName)
        let clusterField = "clusters[\(resolved.cluster)]"
        tls.certificateAuthority = try Self.pem(
            data: cluster.certificateAuthorityData,
            file: cluster.certificateAuthority,
            field: "\(clusterField).certificate-authority"
        )
        var credentials = KubeClient.Credentials.none
        if !resolved.user.isEmpty {
            guard let user = kubeConfig.users[resolved.user] else {
                throw KubeError(
                    .userNotFound,
                    "context \"\(contextName)\" names user \"\(resolved.user)\", which is not in the kubeconfig"
                )
            }
            let userField = "users[\(resolved.user)]"
            if let provider = user.authProvider {
                throw KubeError(
                    .unsupportedAuthentication,
                    "\(userField) uses auth-provider \"\(provider)\", which is not supported; use an exec plugin"
                )
            }
            tls.clientCertificate = try Self.pem(
                data: user.clientCertificateData,
                file: user.clientCertificate,
                field: "\(userField).client-certificate"
            )
            tls.clientKey = try Self.pem(data: user.clientKeyData, file: user.clientKey, field: "\(userField).client-key")
            if (tls.clientCertificate == nil) != (tls.clientKey == nil) {
                throw KubeError(
                    .invalidConfiguration,
                    "\(userField) has a client certificate without a key or a key without a certificate"
                )
            }
            credentials.bearerToken = user.token
            if let tokenFile = user.tokenFile {
                try Self.checkReadable(tokenFile, field: "\(userField).tokenFile")
                credentials.tokenFile = tokenFile
            }
            if let username = user.username {
                credentials.basic = (username, user.password ?? "")
            }
            if var exec = user.exec {
                if exec.provideClusterInfo {
                    exec.clusterInfo = ExecConfig.ClusterInfo(
                        server: server,
                        certificateAuthorityData: try tls.certificateAuthority.map(Self.read),
                        insecureSkipTLSVerify: cluster.insecureSkipTLSVerify,
                        tlsServerName: cluster.tlsServerName
                    )
                }
                credentials.exec = exec
            }
        }
        self.init(server: server, tls: tls, credentials: credentials, namespace: resolved.namespace ?? "default")
        self.proxy = cluster.proxyURL
    }

    /// Loads the kubeconfig kubectl would use (`KUBECONFIG` or `~/.kube/config`) and resolves a context.
    public static func fromKubeConfig(
        context: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Self {
        try Self(kubeConfig: KubeConfig.load(environment: environment), context: context)
    }

    // MARK: - Private Methods -

    static func pem(data: String?, file: String?, field: String) throws -> KubeClient.PEMSource? {
        if let data {
            return .data(try Self.decodeBase64(data, field: "\(field)-data"))
        }
        if let file {
            try Self.checkReadable(file, field: field)
            return .file(file)
        }
        return nil
    }

    static func decodeBase64(_ text: String, field: String) throws -> Data {
        let compact = text.filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: compact), !data.isEmpty else {
            throw KubeError(.invalidBase64, "\(field) is not valid base64")
        }
        return data
    }

    static func checkReadable(_ path: String, field: String) throws {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw KubeError(.fileUnreadable, "\(field): cannot read file \(path)")
        }
    }

    static func read(_ source: KubeClient.PEMSource) throws -> Data {
        switch source {
        case .data(let data):
            return data
        case .file(let path):
            do {
                return try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                throw KubeError(.fileUnreadable, "cannot read file \(path)", underlying: error)
            }
        }
    }
}
