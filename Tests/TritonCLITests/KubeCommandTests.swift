import Foundation
import KubeSim
import Testing
import TritonJSON

/// `triton kube get pods` against the simulated cluster's HTTP API, as the issue asks.
@Suite("triton kube")
struct KubeCommandTests {
    @Test func getPodsAgainstTheSimulatedCluster() async throws {
        var configuration = SimConfiguration(seed: 3)
        configuration.clock = .manual(ManualClock())
        let cluster = SimulatedCluster(configuration: configuration)
        let server = Task { try await cluster.run() }
        defer { server.cancel() }
        let port = try await cluster.waitUntilListening()
        _ = try cluster.create(
            .cloneSets,
            [
                "apiVersion": "apps.kruise.io/v1alpha1", "kind": "CloneSet",
                "metadata": ["name": "web", "namespace": "default"],
                "spec": [
                    "replicas": 2, "selector": ["matchLabels": ["app": "web"]],
                    "template": [
                        "metadata": ["labels": ["app": "web"]],
                        "spec": ["containers": [["name": "app", "image": "reg/web:v1"]]],
                    ],
                ],
            ]
        )
        cluster.advance(by: 120)

        let listed = try await CLITests.triton(["kube", "get", "pods", "-n", "default", "--server", "http://127.0.0.1:\(port)"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let lines = listed.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("NAME") == true)
        #expect(lines.dropFirst().filter { $0.hasPrefix("web-") && $0.contains("Running") }.count == 2, "\(listed.stdout)")

        let empty = try await CLITests.triton(["kube", "get", "pods", "-n", "kube-public", "--server", "http://127.0.0.1:\(port)"])
        #expect(empty.status == 0)
        #expect(empty.stdout.contains("No resources found in kube-public namespace."))

        let wrong = try await CLITests.triton(["kube", "get", "deployments", "--server", "http://127.0.0.1:\(port)"])
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("resource: 'deployments' is not supported"))
    }
}
