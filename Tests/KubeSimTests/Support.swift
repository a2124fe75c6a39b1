import Foundation
import KubeSim
import TritonJSON

/// Builds clusters and objects for the tests.
enum Fixtures {
    /// A cluster on a manual clock with exact timings (no jitter), fixed seed.
    static func manualCluster(nodeCount: Int = 3) -> SimulatedCluster {
        var configuration = SimConfiguration(seed: 7)
        configuration.clock = .manual(ManualClock())
        configuration.timingJitter = 0
        configuration.nodeCount = nodeCount
        return SimulatedCluster(configuration: configuration)
    }

    static let gate = "apps.triton.io/ready"

    /// A CloneSet in Triton's style (ReCreate, maxUnavailable 0, maxSurge 60%, readiness gate, preStop).
    static func cloneSet(
        _ name: String = "demo", namespace: String = "default", replicas: Int, image: String = "reg/demo:v1",
        partition: JSONValue? = nil, maxSurge: JSONValue = "60%", maxUnavailable: JSONValue = 0, gate: Bool = true,
        annotations: [String: String] = [:]
    ) -> JSONValue {
        var strategy: JSONValue = ["type": "ReCreate", "maxUnavailable": maxUnavailable, "maxSurge": maxSurge]
        if let partition { strategy["partition"] = partition }
        var podSpec: JSONValue = [
            "terminationGracePeriodSeconds": 30,
            "containers": [
                [
                    "name": "app", "image": .string(image),
                    "lifecycle": ["preStop": ["exec": ["command": ["/bin/sh", "-c", "/gracefully_shutdown"]]]],
                ]
            ],
        ]
        if gate { podSpec["readinessGates"] = [["conditionType": .string(Self.gate)]] }
        return [
            "apiVersion": "apps.kruise.io/v1alpha1", "kind": "CloneSet",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "spec": [
                "replicas": .int(replicas),
                "selector": ["matchLabels": ["app": .string(name)]],
                "template": [
                    "metadata": [
                        "labels": ["app": .string(name)],
                        "annotations": .object(annotations.mapValues { .string($0) }),
                    ],
                    "spec": podSpec,
                ],
                "updateStrategy": strategy,
            ],
        ]
    }
}

extension SimulatedCluster {
    /// Pods of a CloneSet (by its selector label), including terminating ones.
    func pods(of cloneSet: String, namespace: String = "default") throws -> [JSONValue] {
        try self.list(.pods, namespace: namespace, labelSelector: "app=\(cloneSet)")
    }

    func activePods(of cloneSet: String, namespace: String = "default") throws -> [JSONValue] {
        try self.pods(of: cloneSet, namespace: namespace).filter { $0[path: ["metadata", "deletionTimestamp"]] == nil }
    }

    /// Sets the Triton readiness gate on a pod, as the executor does.
    func pullIn(_ pod: JSONValue, _ value: Bool = true) throws {
        try self.patch(
            .pods, namespace: pod[path: ["metadata", "namespace"]]?.stringValue ?? "default",
            name: pod[path: ["metadata", "name"]]!.stringValue!, subresource: "status", type: .strategic,
            ["status": ["conditions": [["type": .string(Fixtures.gate), "status": value ? "True" : "False"]]]])
    }

    func cloneSetStatus(_ name: String = "demo", namespace: String = "default") -> JSONValue {
        self.get(.cloneSets, namespace: namespace, name: name)?["status"] ?? .null
    }
}

extension JSONValue {
    var podName: String { self[path: ["metadata", "name"]]?.stringValue ?? "" }
    var revision: String { self[path: ["metadata", "labels", "controller-revision-hash"]]?.stringValue ?? "" }

    func condition(_ type: String) -> JSONValue? {
        self[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }

    var isReady: Bool { self.condition("Ready")?["status"]?.stringValue == "True" }
    var isContainersReady: Bool { self.condition("ContainersReady")?["status"]?.stringValue == "True" }
    var waitingReason: String? {
        self[path: ["status", "containerStatuses"]]?.arrayValue?.first?[path: ["state", "waiting", "reason"]]?.stringValue
    }
}
