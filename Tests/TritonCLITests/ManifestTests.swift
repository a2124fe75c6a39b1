import Foundation
import Testing

/// `ops/kubernetes/`: the manifests that run Triton in a cluster, validated against the Kubernetes
/// schemas (kubernetes-validate from PyPI, strict) and kubectl, plus Triton's own checks (probes,
/// ports, RBAC without wildcards or secrets).
@Suite("Kubernetes manifests")
struct ManifestTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func validate() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.root.appendingPathComponent("ops/validate-manifests.sh").path, Self.root.appendingPathComponent("ops/kubernetes").path]
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("manifests-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.contains("RESULT: PASS"))
        // The server really has the flags the Deployment passes.
        let deployment = try String(contentsOf: Self.root.appendingPathComponent("ops/kubernetes/deployment.yaml"), encoding: .utf8)
        let help = try CLITests.triton(["serve", "--help"])
        for flag in ["--in-cluster", "--http-host", "--http-port", "--tokens-file"] {
            #expect(deployment.contains(flag) && help.stdout.contains(flag), "\(flag)")
        }
    }
}
