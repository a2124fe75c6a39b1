import Foundation

extension KubeClient.Configuration {
    /// The configuration a command-line tool such as `triton kube get pods` uses, in kubectl's order:
    /// `--server` (a plain URL, e.g. `triton sim`'s, no credentials), else `--kubeconfig` or `KUBECONFIG` or
    /// `~/.kube/config` with `--context`, else the in-cluster service account.
    /// - Parameters:
    ///   - server: An explicit API server URL.
    ///   - kubeconfig: An explicit kubeconfig file (overrides `KUBECONFIG`).
    ///   - context: The kubeconfig context; `nil` uses `current-context`.
    ///   - namespace: Overrides the context's namespace.
    public static func commandLine(
        server: String? = nil,
        kubeconfig: String? = nil,
        context: String? = nil,
        namespace: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Self {
        var configuration: Self
        if let server {
            configuration = Self(server: server)
        } else if let kubeconfig {
            configuration = try Self(kubeConfig: KubeConfig.load(paths: [kubeconfig]), context: context)
        } else {
            configuration = try Self.automatic(context: context, environment: environment)
        }
        if let namespace { configuration.namespace = namespace }
        return configuration
    }
}
