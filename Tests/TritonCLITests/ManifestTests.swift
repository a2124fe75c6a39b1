import Foundation
import Testing

/// `ops/kubernetes/`: the manifests that run Triton in a cluster, validated against the Kubernetes
/// schemas (kubernetes-validate from PyPI, strict) and kubectl, plus Triton's own checks (probes,
/// ports, RBAC without wildcards or secrets).
@Suite("Kubernetes manifests")
struct ManifestTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func validate() async throws {
        let result = try await CLITests.run(
            URL(fileURLWithPath: "/bin/bash"),
            [Self.root.appendingPathComponent("ops/validate-manifests.sh").path, Self.root.appendingPathComponent("ops/kubernetes").path]
        )
        let output = result.stdout + result.stderr
        #expect(result.status == 0, "\(output)")
        #expect(output.contains("RESULT: PASS"))
        // The server really has the flags the Deployment passes.
        let deployment = try String(contentsOf: Self.root.appendingPathComponent("ops/kubernetes/deployment.yaml"), encoding: .utf8)
        let help = try await CLITests.triton(["serve", "--help"])
        for flag in ["--in-cluster", "--http-host", "--http-port", "--grpc-port", "--tokens-file"] {
            #expect(deployment.contains(flag) && help.stdout.contains(flag), "\(flag)")
        }
    }
}
