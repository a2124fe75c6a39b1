import Foundation
import Testing
import TritonJSON

@testable import KubeClient

@Suite("TLS and authentication against a local HTTPS server", .timeLimit(.minutes(1)))
struct TLSAndAuthTests {
    func whoami(_ pod: Pod) throws -> JSONValue {
        try JSONValue(jsonData: Data((pod.metadata.annotations["whoami"] ?? "{}").utf8))
    }

    func configuration(_ server: FakeAPIServer, tls: KubeClient.TLS, credentials: KubeClient.Credentials = .none)
        -> KubeClient.Configuration
    {
        var configuration = KubeClient.Configuration(server: server.url, tls: tls, credentials: credentials)
        configuration.retry = .none
        return configuration
    }

    @Test func verifiesTheServerWithTheRightCA() async throws {
        let certificates = try TestCertificates.get()
        let server = try await FakeAPIServer.start(certificates: certificates)
        defer { server.stop() }
        for ca in [KubeClient.PEMSource.file(certificates.file("ca.crt")), .data(try certificates.data("ca.crt"))] {
            let client = KubeClient(configuration: self.configuration(server, tls: .init(certificateAuthority: ca)))
            let pod = try await client.get(Pod.self, name: "hello", namespace: "default")
            #expect(pod.metadata.name == "hello")
            client.shutdown()
        }
    }

    @Test func rejectsTheServerWithAWrongCA() async throws {
        let certificates = try TestCertificates.get()
        let server = try await FakeAPIServer.start(certificates: certificates)
        defer { server.stop() }
        let client = KubeClient(
            configuration: self.configuration(server, tls: .init(certificateAuthority: .file(certificates.file("wrong-ca.crt"))))
        )
        defer { client.shutdown() }
        let error = await #expect(throws: KubeError.self) {
            _ = try await client.get(Pod.self, name: "hello", namespace: "default")
        }
        #expect(error?.code == .tlsFailure)
    }

    @Test func insecureSkipVerifyAcceptsAnyServer() async throws {
        let certificates = try TestCertificates.get()
        let server = try await FakeAPIServer.start(certificates: certificates)
        defer { server.stop() }
        let client = KubeClient(configuration: self.configuration(server, tls: .init(insecureSkipVerify: true)))
        defer { client.shutdown() }
        #expect(try await client.get(Pod.self, name: "x", namespace: "default").metadata.name == "x")
    }

    @Test func tlsServerNameVerifiesAgainstAnotherName() async throws {
        let certificates = try TestCertificates.get()
        let server = try await FakeAPIServer.start(certificates: certificates)
        defer { server.stop() }
        let ca = KubeClient.PEMSource.file(certificates.file("ca.crt"))
        let good = KubeClient(configuration: self.configuration(server, tls: .init(certificateAuthority: ca, serverName: "kube.test")))
        #expect(try await good.get(Pod.self, name: "x", namespace: "default").metadata.name == "x")
        good.shutdown()
        let bad = KubeClient(configuration: self.configuration(server, tls: .init(certificateAuthority: ca, serverName: "other.test")))
        defer { bad.shutdown() }
        let error = await #expect(throws: KubeError.self) {
            _ = try await bad.get(Pod.self, name: "x", namespace: "default")
        }
        #expect(error?.code == .tlsFailure)
    }

    @Test func clientCertificateAuthenticates() async throws {
        let certificates = try TestCertificates.get()
        let server = try await FakeAPIServer.start(certificates: certificates, requireToken: "unused-token")
        defer { server.stop() }
        let ca = KubeClient.PEMSource.file(certificates.file("ca.crt"))
        let sources: [(KubeClient.PEMSource, KubeClient.PEMSource)] = [
            (.file(certificates.file("client.crt")), .file(certificates.file("client.key"))),
            (.data(try certificates.data("client.crt")), .data(try certificates.data("client.key"))),
        ]
        for (certificate, key) in sources {
            let tls = KubeClient.TLS(certificateAuthority: ca, clientCertificate: certificate, clientKey: key)
            let client = KubeClient(configuration: self.configuration(server, tls: tls))
            let pod = try await client.get(Pod.self, name: "me", namespace: "default")
            #expect(try self.whoami(pod)["cn"] == "alice")
            client.shutdown()
        }
        let anonymous = KubeClient(configuration: self.configuration(server, tls: .init(certificateAuthority: ca)))
        defer { anonymous.shutdown() }
        let error = await #expect(throws: KubeError.self) {
            _ = try await anonymous.get(Pod.self, name: "me", namespace: "default")
        }
        #expect(error?.code == .unauthorized)
    }

    @Test func bearerTokenAuthenticates() async throws {
        let certificates = try TestCertificates.get()
        let server = try await FakeAPIServer.start(certificates: certificates, requireToken: "s3cret-token")
        defer { server.stop() }
        let tls = KubeClient.TLS(certificateAuthority: .file(certificates.file("ca.crt")))
        let client = KubeClient(configuration: self.configuration(server, tls: tls, credentials: .bearerToken("s3cret-token")))
        defer { client.shutdown() }
        let pod = try await client.get(Pod.self, name: "me", namespace: "default")
        #expect(try self.whoami(pod)["token"] == "s3cret-token")

        let wrong = KubeClient(configuration: self.configuration(server, tls: tls, credentials: .bearerToken("nope")))
        defer { wrong.shutdown() }
        let error = await #expect(throws: KubeError.self) {
            _ = try await wrong.get(Pod.self, name: "me", namespace: "default")
        }
        #expect(error?.code == .unauthorized)
        #expect(!String(reflecting: error as Any).contains("nope"))
    }

    @Test func tokenFileIsReReadWhenItRotates() async throws {
        let server = try await FakeAPIServer.start(requireToken: "second")
        defer { server.stop() }
        let directory = try TemporaryDirectory()
        let tokenPath = try directory.write("token", "first\n")
        let client = KubeClient(configuration: self.configuration(server, tls: .init(), credentials: .tokenFile(tokenPath)))
        defer { client.shutdown() }
        await #expect(throws: KubeError.self) { _ = try await client.get(Pod.self, name: "me", namespace: "default") }
        try directory.write("token", "second\n")
        let pod = try await client.get(Pod.self, name: "me", namespace: "default")
        #expect(try self.whoami(pod)["token"] == "second")
    }

    @Test func execPluginTokenIsUsedAndCachedUntilExpiry() async throws {
        let certificates = try TestCertificates.get()
        let server = try await FakeAPIServer.start(certificates: certificates, requireToken: "exec-token")
        defer { server.stop() }
        let directory = try TemporaryDirectory()
        let counter = directory.path + "/runs"
        let plugin = try directory.write(
            "plugin.sh",
            """
            #!/bin/sh
            echo run >> "\(counter)"
            test "$1" = "--flag" || exit 3
            test -n "$KUBERNETES_EXEC_INFO" || exit 4
            echo "$KUBERNETES_EXEC_INFO" > "\(directory.path)/info.json"
            cat <<EOF
            {"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
             "status":{"token":"$PLUGIN_TOKEN","expirationTimestamp":"2999-01-01T00:00:00Z"}}
            EOF
            """,
            executable: true
        )
        var exec = ExecConfig(command: plugin, args: ["--flag"], env: ["PLUGIN_TOKEN": "exec-token"])
        exec.provideClusterInfo = true
        exec.clusterInfo = .init(server: server.url, certificateAuthorityData: nil, insecureSkipTLSVerify: false)
        let tls = KubeClient.TLS(certificateAuthority: .file(certificates.file("ca.crt")))
        let client = KubeClient(configuration: self.configuration(server, tls: tls, credentials: .init(exec: exec)))
        defer { client.shutdown() }
        async let first = client.get(Pod.self, name: "a", namespace: "default")
        async let second = client.get(Pod.self, name: "b", namespace: "default")
        let pods = try await [first, second]
        #expect(try pods.map { try self.whoami($0)["token"] } == ["exec-token", "exec-token"])
        _ = try await client.get(Pod.self, name: "c", namespace: "default")
        #expect(try directory.read("runs").split(separator: "\n").count == 1)
        let info = try JSONValue(jsonData: Data(try directory.read("info.json").utf8))
        #expect(info["kind"] == "ExecCredential")
        #expect(info[path: ["spec", "cluster", "server"]] == .string(server.url))
    }

    @Test func execPluginFailuresAreNamed() async throws {
        let directory = try TemporaryDirectory()
        let expired = try directory.write(
            "expired.sh",
            """
            #!/bin/sh
            echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"2001-01-01T00:00:00Z"}}'
            """,
            executable: true
        )
        let failing = try directory.write("failing.sh", "#!/bin/sh\necho secret-output\nexit 7\n", executable: true)
        let cases: [(ExecConfig, KubeError.Code)] = [
            (ExecConfig(command: expired), .credentialExpired),
            (ExecConfig(command: failing), .execPluginFailed),
            (ExecConfig(command: "no-such-plugin-xyz", installHint: "Install it from example.com"), .execPluginFailed),
            (ExecConfig(command: expired, interactiveMode: .always), .execPluginFailed),
        ]
        for (exec, code) in cases {
            let client = KubeClient(configuration: .init(server: "http://127.0.0.1:1", credentials: .init(exec: exec)))
            let error = await #expect(throws: KubeError.self) { _ = try await client.pod("x") }
            #expect(error?.code == code, "\(String(reflecting: error as Any))")
            #expect(!String(reflecting: error as Any).contains("secret-output"))
            client.shutdown()
        }
    }

    @Test func execPluginThatHangsIsKilledAtTheDeadline() async throws {
        let directory = try TemporaryDirectory()
        let hanging = try directory.write("hanging.sh", "#!/bin/sh\nexec sleep 300\n", executable: true)
        let error = await #expect(throws: KubeError.self) {
            _ = try await ExecPluginRunner.run(ExecConfig(command: hanging), timeout: .milliseconds(300))
        }
        #expect(error?.code == .execPluginFailed)
        #expect(error?.message.contains("timed out") == true, "\(String(reflecting: error as Any))")
    }
}
