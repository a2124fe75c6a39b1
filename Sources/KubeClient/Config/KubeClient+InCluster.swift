import Foundation

extension KubeClient.Configuration {
    /// The service-account directory mounted into every pod.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The configuration of a process running in a pod: `KUBERNETES_SERVICE_HOST`/`PORT`, the mounted CA,
    /// the service-account token (re-read when the kubelet rotates it) and the pod's namespace.
    /// - Parameters:
    ///   - environment: Where to read `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`.
    ///   - serviceAccountDirectory: Where `token`, `ca.crt` and `namespace` live.
    /// - Throws: ``KubeError`` `.notInCluster` without the environment variables, `.fileUnreadable` without
    ///   the token or CA.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = Self.serviceAccountDirectory
    ) throws -> Self {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else {
            throw KubeError(
                .notInCluster,
                "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set: not running in a pod"
            )
        }
        let tokenPath = serviceAccountDirectory + "/token"
        let caPath = serviceAccountDirectory + "/ca.crt"
        try Self.checkReadable(tokenPath, field: "service-account token")
        try Self.checkReadable(caPath, field: "service-account CA")
        let namespace = (try? String(contentsOfFile: serviceAccountDirectory + "/namespace", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return Self(
            server: "https://\(hostPart):\(port)",
            tls: KubeClient.TLS(certificateAuthority: .file(caPath)),
            credentials: .tokenFile(tokenPath),
            namespace: namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        )
    }

    /// What kubectl-style tools do: `KUBECONFIG` or `~/.kube/config` when present, otherwise the in-cluster
    /// configuration when running in a pod.
    public static func automatic(
        context: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Self {
        let home = environment["HOME"].map { $0 + "/.kube/config" }
        let hasKubeConfig = (environment["KUBECONFIG"].map { !$0.isEmpty } ?? false)
            || home.map { FileManager.default.fileExists(atPath: $0) } ?? false
        if !hasKubeConfig, environment["KUBERNETES_SERVICE_HOST"] != nil {
            return try Self.inCluster(environment: environment)
        }
        return try Self.fromKubeConfig(context: context, environment: environment)
    }
}
