import Foundation
import KubeSim
import TritonDomain
import TritonEngine

/// The engine's ``ClusterPort`` on a ``SimulatedCluster``, in process, through its programmatic API
/// (the same validation, patch and resourceVersion rules as its HTTP API).
public struct SimClusterPort: ClusterPort {
    public let cluster: SimulatedCluster
    /// `terminationGracePeriodSeconds` of generated pod templates (when the app's template has none).
    /// Defaults to `30`.
    public var terminationGracePeriodSeconds: Int

    public init(cluster: SimulatedCluster, terminationGracePeriodSeconds: Int = 30) {
        self.cluster = cluster
        self.terminationGracePeriodSeconds = terminationGracePeriodSeconds
    }

    // MARK: - Reading

    public func workload(_ instance: InstanceRef) async throws -> ClusterWorkload? {
        self.cluster.get(.cloneSets, namespace: instance.namespace, name: instance.name).map(Self.workload(from:))
    }

    public func pods(_ instance: InstanceRef) async throws -> [ClusterPod] {
        guard let cloneSet = self.cluster.get(.cloneSets, namespace: instance.namespace, name: instance.name) else { return [] }
        let matchLabels = cloneSet[path: ["spec", "selector", "matchLabels"]]?.objectValue ?? [:]
        let selector = matchLabels.compactMap { key, value in value.stringValue.map { "\(key)=\($0)" } }.sorted()
            .joined(separator: ",")
        guard !selector.isEmpty else { return [] }
        return try self.cluster.list(.pods, namespace: instance.namespace, labelSelector: selector).map(Self.pod(from:))
    }

    // MARK: - Mutations

    public func createWorkload(_ instance: InstanceRef, appSpec: AppSpec) async throws -> String {
        if let existing = self.cluster.get(.cloneSets, namespace: instance.namespace, name: instance.name) {
            return existing.resourceVersion
        }
        let labels = TritonLabels.labels(instance, appSpec)
        let cloneSet: JSONValue = [
            "apiVersion": "apps.kruise.io/v1alpha1", "kind": "CloneSet",
            "metadata": [
                "name": .string(instance.name), "namespace": .string(instance.namespace), "labels": Self.object(labels),
            ],
            "spec": [
                "replicas": 0,
                "selector": ["matchLabels": Self.object(labels)],
                "template": try self.template(instance, appSpec),
                "updateStrategy": [
                    "type": "ReCreate", "maxUnavailable": 0, "maxSurge": "60%", "partition": 0, "paused": false,
                ],
            ],
        ]
        return try self.cluster.create(.cloneSets, cloneSet).resourceVersion
    }

    public func setTemplate(_ instance: InstanceRef, appSpec: AppSpec) async throws -> String {
        let template = try self.template(instance, appSpec)
        // Read-modify-write with the resourceVersion as precondition; retried when the controller wrote
        // the object in between.
        var attempt = 0
        while true {
            attempt += 1
            guard var cloneSet = self.cluster.get(.cloneSets, namespace: instance.namespace, name: instance.name) else {
                throw SimClusterPortError(description: "CloneSet \(instance) does not exist")
            }
            let replicas = cloneSet[path: ["spec", "replicas"]]?.intValue ?? 1
            cloneSet[path: ["spec", "template"]] = template
            cloneSet[path: ["spec", "updateStrategy", "partition"]] = .int(replicas)
            do {
                return try self.cluster.update(.cloneSets, cloneSet).resourceVersion
            } catch  where attempt < 5 {
                continue
            }
        }
    }

    public func apply(_ intent: DeployFlow.WorkloadIntent, to instance: InstanceRef) async throws -> String {
        var updateStrategy: JSONValue = ["paused": .bool(intent.paused)]
        if let partition = intent.partition { updateStrategy["partition"] = .int(partition) }
        var spec: JSONValue = ["replicas": .int(intent.replicas), "updateStrategy": updateStrategy]
        if !intent.podsToDelete.isEmpty {
            spec["scaleStrategy"] = ["podsToDelete": .array(intent.podsToDelete.map { .string($0) })]
        }
        return try self.cluster.patch(
            .cloneSets, namespace: instance.namespace, name: instance.name, type: .merge, ["spec": spec]
        ).resourceVersion
    }

    public func setGate(_ instance: InstanceRef, pod: String, to status: GateStatus) async throws -> String {
        let value = status == .true ? "True" : "False"
        let patch: JSONValue = [
            "status": ["conditions": [["type": .string(TritonLabels.gateCondition), "status": .string(value)]]]
        ]
        return try self.cluster.patch(
            .pods, namespace: instance.namespace, name: pod, subresource: "status", type: .strategic, patch
        ).resourceVersion
    }

    public func deleteWorkload(_ instance: InstanceRef, uid: String) async throws -> Bool {
        do {
            try self.cluster.delete(
                .cloneSets, namespace: instance.namespace, name: instance.name, uid: uid, propagationPolicy: "Background"
            )
            return true
        } catch let error as KubeAPIError where error.reason == .notFound || error.reason == .conflict {
            // Gone already, or the name now belongs to another CloneSet (the uid precondition failed).
            return false
        }
    }

    // MARK: - The pod template

    /// The app's template (`AppSpec.template`, when given) with Triton's labels, the readiness gate, a
    /// preStop hook, a termination grace period, and the image on its first container.
    public func template(_ instance: InstanceRef, _ appSpec: AppSpec) throws -> JSONValue {
        var template: JSONValue = .emptyObject
        if let text = appSpec.template, !text.isEmpty {
            template = try JSONValue.parse(text)
            guard template.objectValue != nil else {
                throw SimClusterPortError(description: "the app's pod template is not a JSON object")
            }
        }
        for (key, value) in TritonLabels.labels(instance, appSpec) {
            template[path: ["metadata", "labels", key]] = .string(value)
        }
        var gates = template[path: ["spec", "readinessGates"]]?.arrayValue ?? []
        if !gates.contains(where: { $0["conditionType"]?.stringValue == TritonLabels.gateCondition }) {
            gates.append(["conditionType": .string(TritonLabels.gateCondition)])
        }
        template[path: ["spec", "readinessGates"]] = .array(gates)
        if template[path: ["spec", "terminationGracePeriodSeconds"]] == nil {
            template[path: ["spec", "terminationGracePeriodSeconds"]] = .int(self.terminationGracePeriodSeconds)
        }
        var containers = template[path: ["spec", "containers"]]?.arrayValue ?? []
        if containers.isEmpty { containers = [["name": .string(appSpec.appName)]] }
        containers[0]["image"] = .string(appSpec.image)
        if containers[0][path: ["lifecycle", "preStop"]] == nil {
            containers[0][path: ["lifecycle", "preStop"]] = ["exec": ["command": ["/bin/sh", "-c", "/gracefully_shutdown"]]]
        }
        template[path: ["spec", "containers"]] = .array(containers)
        return template
    }

    // MARK: - Reading objects (public for tests and tools)

    public static func workload(from object: JSONValue) -> ClusterWorkload {
        let spec = object["spec"] ?? .emptyObject
        let status = object["status"] ?? .emptyObject
        return ClusterWorkload(
            uid: object.uid,
            resourceVersion: object.resourceVersion,
            generation: object[path: ["metadata", "generation"]]?.intValue ?? 0,
            replicas: spec["replicas"]?.intValue ?? 1,
            partition: spec[path: ["updateStrategy", "partition"]]?.intValue,
            paused: spec[path: ["updateStrategy", "paused"]]?.boolValue ?? false,
            podsToDelete: (spec[path: ["scaleStrategy", "podsToDelete"]]?.arrayValue ?? []).compactMap(\.stringValue),
            image: spec[path: ["template", "spec", "containers"]]?.arrayValue?.first?["image"]?.stringValue,
            status: ClusterWorkload.Status(
                observedGeneration: status["observedGeneration"]?.intValue ?? 0,
                replicas: status["replicas"]?.intValue ?? 0,
                readyReplicas: status["readyReplicas"]?.intValue ?? 0,
                updatedReplicas: status["updatedReplicas"]?.intValue ?? 0,
                updatedReadyReplicas: status["updatedReadyReplicas"]?.intValue ?? 0,
                updateRevision: status["updateRevision"]?.stringValue,
                currentRevision: status["currentRevision"]?.stringValue
            )
        )
    }

    public static func pod(from object: JSONValue) -> ClusterPod {
        let conditions = object[path: ["status", "conditions"]]?.arrayValue ?? []
        func condition(_ type: String) -> String? {
            conditions.first { $0["type"]?.stringValue == type }?["status"]?.stringValue
        }
        let gate: GateStatus =
            switch condition(TritonLabels.gateCondition) {
            case "True"?: .true
            case nil: .absent
            default: .false
            }
        let statuses = object[path: ["status", "containerStatuses"]]?.arrayValue ?? []
        return ClusterPod(
            name: object.name, uid: object.uid, resourceVersion: object.resourceVersion,
            revision: object.label("controller-revision-hash"),
            phase: PodPhase(rawValue: object[path: ["status", "phase"]]?.stringValue ?? "Pending") ?? .unknown,
            scheduled: condition("PodScheduled") == "True",
            containersReady: condition("ContainersReady") == "True",
            ready: condition("Ready") == "True",
            gate: gate,
            waitingReason: statuses.lazy.compactMap { $0[path: ["state", "waiting", "reason"]]?.stringValue }.first,
            restartCount: statuses.reduce(0) { $0 + ($1["restartCount"]?.intValue ?? 0) },
            terminating: object.isTerminating
        )
    }

    private static func object(_ labels: [String: String]) -> JSONValue {
        .object(labels.mapValues { .string($0) })
    }
}

public struct SimClusterPortError: Error, CustomStringConvertible {
    public var description: String
}
