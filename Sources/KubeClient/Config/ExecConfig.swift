import Foundation

/// An `exec` credential plugin (`client.authentication.k8s.io/v1` or `v1beta1`), such as
/// `aws eks get-token`, `gke-gcloud-auth-plugin` or `kubelogin`.
public struct ExecConfig: Sendable, Hashable {
    /// How the plugin may interact with the user.
    public enum InteractiveMode: String, Sendable, Hashable {
        case never = "Never"
        case ifAvailable = "IfAvailable"
        case always = "Always"
    }

    /// The `ExecCredential` API version the plugin speaks. Defaults to `client.authentication.k8s.io/v1`.
    public var apiVersion: String
    /// The command: a bare name is looked up in `PATH`; a relative path is resolved against the kubeconfig's
    /// directory.
    public var command: String
    /// The arguments.
    public var args: [String]
    /// Extra environment variables for the plugin.
    public var env: [String: String]
    /// Shown when the command cannot be found.
    public var installHint: String?
    /// Pass the cluster's server and CA to the plugin in `KUBERNETES_EXEC_INFO`.
    public var provideClusterInfo: Bool
    /// Interaction mode. Defaults to `IfAvailable`; this client never has a terminal, so `Always` fails.
    public var interactiveMode: InteractiveMode
    /// The directory relative commands are resolved against (the kubeconfig file's directory).
    public var baseDirectory: String?
    /// The cluster passed to the plugin when ``provideClusterInfo`` is set (filled in on resolution).
    public var clusterInfo: ClusterInfo?

    /// The cluster description sent to a plugin in `KUBERNETES_EXEC_INFO.spec.cluster`.
    public struct ClusterInfo: Sendable, Hashable {
        /// The `server` field.
        public var server: String
        /// The `certificateAuthorityData` field.
        public var certificateAuthorityData: Data?
        /// The `insecureSkipTLSVerify` field.
        public var insecureSkipTLSVerify: Bool
        /// The `tlsServerName` field.
        public var tlsServerName: String?
    }

    /// Creates a value with the given fields.
    public init(
        apiVersion: String = "client.authentication.k8s.io/v1",
        command: String,
        args: [String] = [],
        env: [String: String] = [:],
        installHint: String? = nil,
        provideClusterInfo: Bool = false,
        interactiveMode: InteractiveMode = .ifAvailable,
        baseDirectory: String? = nil
    ) {
        self.apiVersion = apiVersion
        self.command = command
        self.args = args
        self.env = env
        self.installHint = installHint
        self.provideClusterInfo = provideClusterInfo
        self.interactiveMode = interactiveMode
        self.baseDirectory = baseDirectory
    }
}
