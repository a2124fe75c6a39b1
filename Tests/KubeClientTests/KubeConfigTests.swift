import Foundation
import Testing

@testable import KubeClient

@Suite("kubeconfig loading, merging and resolution")
struct KubeConfigTests {
    static let caBase64 = Data("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8).base64EncodedString()

    /// Shaped like a kubeadm / EKS / kind file: several contexts, data and file fields, exec users.
    static let realWorld = """
        apiVersion: v1
        kind: Config
        preferences: {}
        current-context: kind-dev
        clusters:
        - cluster:
            certificate-authority-data: \(caBase64)
            server: https://127.0.0.1:40123
          name: kind-dev
        - cluster:
            certificate-authority: certs/prod-ca.crt
            server: https://prod.example.com
            tls-server-name: kubernetes.default.svc
          name: prod
        - cluster:
            insecure-skip-tls-verify: true
            server: https://10.0.0.1:6443
          name: lab
        contexts:
        - context:
            cluster: kind-dev
            user: kind-dev
          name: kind-dev
        - context:
            cluster: prod
            namespace: payments
            user: eks-admin
          name: prod
        - context:
            cluster: lab
            user: basic-user
          name: lab
        - context:
            cluster: nowhere
            user: kind-dev
          name: broken-cluster
        - context:
            cluster: lab
            user: ghost
          name: broken-user
        users:
        - name: kind-dev
          user:
            client-certificate-data: \(caBase64)
            client-key-data: \(caBase64)
        - name: eks-admin
          user:
            exec:
              apiVersion: client.authentication.k8s.io/v1beta1
              command: aws
              args:
              - eks
              - get-token
              - --cluster-name
              - prod
              env:
              - name: AWS_PROFILE
                value: prod
              interactiveMode: IfAvailable
              provideClusterInfo: false
        - name: basic-user
          user:
            username: admin
            password: hunter2
        """

    /// Written by `kubectl config set-cluster / set-credentials / set-context` (kubectl v1.32).
    static let writtenByKubectl = """
        apiVersion: v1
        clusters:
        - cluster:
            insecure-skip-tls-verify: true
            server: https://lab:443
          name: lab
        - cluster:
            certificate-authority: /etc/ca.crt
            server: https://1.2.3.4:6443
            tls-server-name: kube.internal
          name: prod
        contexts:
        - context:
            cluster: lab
            user: eks
          name: lab
        - context:
            cluster: prod
            namespace: payments
            user: alice
          name: prod
        current-context: prod
        kind: Config
        preferences: {}
        users:
        - name: alice
          user:
            token: abc:def#x y
        - name: eks
          user:
            exec:
              apiVersion: client.authentication.k8s.io/v1beta1
              args:
              - eks
              - get-token
              command: aws
              env:
              - name: AWS_PROFILE
                value: prod
              interactiveMode: IfAvailable
              provideClusterInfo: false
        """

    @Test func parsesWhatKubectlWrites() throws {
        let config = try KubeConfig(text: Self.writtenByKubectl, path: "/tmp/kubeconfig")
        #expect(config.currentContext == "prod")
        #expect(config.users["alice"]?.token == "abc:def#x y")
        #expect(config.clusters["prod"]?.tlsServerName == "kube.internal")
        #expect(config.clusters["lab"]?.insecureSkipTLSVerify == true)
        #expect(config.contexts["prod"] == KubeConfig.Context(cluster: "prod", user: "alice", namespace: "payments"))
        #expect(config.users["eks"]?.exec?.args == ["eks", "get-token"])
        #expect(config.users["eks"]?.exec?.env == ["AWS_PROFILE": "prod"])
        let lab = try KubeClient.Configuration(kubeConfig: config, context: "lab")
        #expect(lab.credentials.exec?.command == "aws")
    }

    func write(_ directory: TemporaryDirectory) throws -> String {
        try FileManager.default.createDirectory(atPath: directory.path + "/certs", withIntermediateDirectories: true)
        try directory.write("certs/prod-ca.crt", "pem")
        return try directory.write("config", Self.realWorld)
    }

    @Test func parsesARealWorldFile() throws {
        let directory = try TemporaryDirectory()
        let config = try KubeConfig.load(paths: [try self.write(directory)])
        #expect(config.currentContext == "kind-dev")
        #expect(config.contexts.count == 5)
        #expect(config.clusters["prod"]?.certificateAuthority == directory.path + "/certs/prod-ca.crt")
        #expect(config.clusters["lab"]?.insecureSkipTLSVerify == true)
        #expect(config.users["eks-admin"]?.exec?.args == ["eks", "get-token", "--cluster-name", "prod"])
        #expect(config.users["eks-admin"]?.exec?.env == ["AWS_PROFILE": "prod"])

        let kind = try KubeClient.Configuration(kubeConfig: config)
        #expect(kind.server == "https://127.0.0.1:40123")
        #expect(kind.namespace == "default")
        #expect(kind.tls.certificateAuthority == .data(Data(base64Encoded: Self.caBase64)!))
        #expect(kind.tls.clientKey != nil)

        let prod = try KubeClient.Configuration(kubeConfig: config, context: "prod")
        #expect(prod.namespace == "payments")
        #expect(prod.tls.serverName == "kubernetes.default.svc")
        #expect(prod.tls.certificateAuthority == .file(directory.path + "/certs/prod-ca.crt"))
        #expect(prod.credentials.exec?.command == "aws")
        #expect(prod.credentials.exec?.apiVersion == "client.authentication.k8s.io/v1beta1")

        let lab = try KubeClient.Configuration(kubeConfig: config, context: "lab")
        #expect(lab.tls.insecureSkipVerify)
        #expect(lab.credentials.basic?.username == "admin")
    }

    @Test func acceptsJSON() throws {
        let json = """
            {"apiVersion":"v1","kind":"Config","current-context":"c",
             "clusters":[{"name":"k","cluster":{"server":"http://127.0.0.1:8080"}}],
             "contexts":[{"name":"c","context":{"cluster":"k","user":"","namespace":"ns"}}],
             "users":[]}
            """
        let configuration = try KubeClient.Configuration(kubeConfig: try KubeConfig(text: json))
        #expect(configuration.server == "http://127.0.0.1:8080")
        #expect(configuration.namespace == "ns")
        #expect(configuration.credentials == .none)
    }

    @Test func mergesKUBECONFIGLikeKubectl() throws {
        let directory = try TemporaryDirectory()
        let first = try directory.write(
            "a",
            """
            current-context: from-a
            clusters:
            - name: shared
              cluster: {server: "https://a.example"}
            contexts:
            - name: from-a
              context: {cluster: shared, user: ""}
            """
        )
        let second = try directory.write(
            "b",
            """
            current-context: from-b
            clusters:
            - name: shared
              cluster: {server: "https://b.example"}
            - name: only-b
              cluster: {server: "https://only-b.example"}
            contexts:
            - name: from-b
              context: {cluster: only-b, user: ""}
            """
        )
        let environment = ["KUBECONFIG": "\(first)::\(directory.path)/missing:\(second)", "HOME": "/nonexistent"]
        let merged = try KubeConfig.load(environment: environment)
        #expect(merged.currentContext == "from-a")
        #expect(merged.clusters["shared"]?.server == "https://a.example")
        #expect(merged.clusters["only-b"]?.server == "https://only-b.example")
        #expect(try KubeClient.Configuration(kubeConfig: merged, context: "from-b").server == "https://only-b.example")
        #expect(merged.sources == [first, second])

        let home = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: home.path + "/.kube", withIntermediateDirectories: true)
        try home.write(".kube/config", try String(contentsOfFile: second, encoding: .utf8))
        #expect(try KubeConfig.load(environment: ["HOME": home.path]).currentContext == "from-b")
    }

    @Test func errorsNameTheProblemAndNeverTheSecret() throws {
        let directory = try TemporaryDirectory()
        let config = try KubeConfig.load(paths: [try self.write(directory)])
        func code(_ context: String?, _ config: KubeConfig) -> KubeError? {
            #expect(throws: KubeError.self) { _ = try KubeClient.Configuration(kubeConfig: config, context: context) }
        }
        #expect(code("nope", config)?.code == .contextNotFound)
        #expect(code("nope", config)?.message.contains("\"nope\"") == true)
        #expect(code("broken-cluster", config)?.code == .clusterNotFound)
        #expect(code("broken-user", config)?.code == .userNotFound)
        var noCurrent = config
        noCurrent.currentContext = nil
        #expect(code(nil, noCurrent)?.code == .noCurrentContext)

        var badData = config
        badData.users["kind-dev"]?.clientKeyData = "not base64!!"
        let base64Error = code("kind-dev", badData)
        #expect(base64Error?.code == .invalidBase64)
        #expect(base64Error?.message.contains("users[kind-dev].client-key-data") == true)
        #expect(!String(reflecting: base64Error as Any).contains("not base64!!"))

        var missingFile = config
        missingFile.clusters["prod"]?.certificateAuthority = "/nonexistent/ca.crt"
        let fileError = code("prod", missingFile)
        #expect(fileError?.code == .fileUnreadable)
        #expect(fileError?.message.contains("/nonexistent/ca.crt") == true)

        var provider = config
        provider.users["kind-dev"]?.authProvider = "gcp"
        #expect(code("kind-dev", provider)?.code == .unsupportedAuthentication)

        let unreadable = #expect(throws: KubeError.self) { _ = try KubeConfig.load(paths: ["/nonexistent/config"]) }
        #expect(unreadable?.code == .fileUnreadable)
        let invalid = #expect(throws: KubeError.self) { _ = try KubeConfig(text: "clusters:\n- name: a\n   bad: 1\n", path: "/x") }
        #expect(invalid?.code == .invalidConfiguration)
        #expect(invalid?.message.contains("/x line") == true)

        let lab = try KubeClient.Configuration(kubeConfig: config, context: "lab")
        #expect(!"\(lab.credentials)".contains("hunter2"))
        #expect(!String(reflecting: lab.credentials).contains("hunter2"))
        var dumped = ""
        dump(lab, to: &dumped)
        #expect(!dumped.contains("hunter2"))
        let error = KubeError(.unauthorized, "Unauthorized")
        #expect(!"\(error)".contains("Unauthorized\""))
    }

    @Test func inClusterConfiguration() throws {
        let directory = try TemporaryDirectory()
        try directory.write("token", "sa-token\n")
        try directory.write("ca.crt", "pem")
        try directory.write("namespace", "triton-system")
        let environment = ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"]
        let configuration = try KubeClient.Configuration.inCluster(environment: environment, serviceAccountDirectory: directory.path)
        #expect(configuration.server == "https://[fd00::1]:443")
        #expect(configuration.namespace == "triton-system")
        #expect(configuration.credentials.tokenFile == directory.path + "/token")
        #expect(configuration.tls.certificateAuthority == .file(directory.path + "/ca.crt"))

        let outside = #expect(throws: KubeError.self) {
            _ = try KubeClient.Configuration.inCluster(environment: [:], serviceAccountDirectory: directory.path)
        }
        #expect(outside?.code == .notInCluster)
        let noToken = #expect(throws: KubeError.self) {
            _ = try KubeClient.Configuration.inCluster(environment: environment, serviceAccountDirectory: "/nonexistent")
        }
        #expect(noToken?.code == .fileUnreadable)
    }
}

@Suite("Command-line configuration")
struct CommandLineConfigurationTests {
    @Test func serverFlagThenKubeconfigThenInCluster() throws {
        let fromServer = try KubeClient.Configuration.commandLine(server: "http://127.0.0.1:6443/", namespace: "demo")
        #expect(fromServer.server == "http://127.0.0.1:6443")
        #expect(fromServer.namespace == "demo")
        #expect(fromServer.credentials == .none)

        let directory = try TemporaryDirectory()
        let path = try directory.write(
            "config",
            """
            current-context: a
            clusters: [{name: c, cluster: {server: "https://a.example"}}, {name: d, cluster: {server: "https://b.example"}}]
            contexts: [{name: a, context: {cluster: c, user: ""}}, {name: b, context: {cluster: d, user: "", namespace: x}}]
            """
        )
        let fromFile = try KubeClient.Configuration.commandLine(kubeconfig: path, context: "b", environment: [:])
        #expect(fromFile.server == "https://b.example")
        #expect(fromFile.namespace == "x")
        let fromEnvironment = try KubeClient.Configuration.commandLine(environment: ["KUBECONFIG": path])
        #expect(fromEnvironment.server == "https://a.example")

        try directory.write("token", "t")
        try directory.write("ca.crt", "pem")
        let nothing = #expect(throws: KubeError.self) {
            _ = try KubeClient.Configuration.commandLine(environment: ["HOME": directory.path])
        }
        #expect(nothing?.code == .fileUnreadable)
    }
}
