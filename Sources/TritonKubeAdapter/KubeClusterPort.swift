import Foundation
import KubeClient
import TritonDomain
import TritonEngine

/// The engine's ``ClusterPort`` over a Kubernetes API server, through ``KubeClient``.
///
/// Same objects, patches and mappings as `SimClusterPort` (TritonSimAdapter), which implements the port
/// on the simulated cluster's programmatic API: a CloneSet with Triton's labels, the readiness gate, a
/// preStop hook and `updateStrategy {ReCreate, maxUnavailable 0, maxSurge 60%, partition 0}`; the
/// template set by a conditional update with `partition` = `spec.replicas`; intents as one JSON merge
/// patch; gates as a strategic-merge patch on the pod's `status` subresource.
public struct KubeClusterPort: ClusterPort {
    public let client: KubeClient
    /// `terminationGracePeriodSeconds` of generated pod templates (when the app's template has none).
    /// Defaults to `30`.
    public var terminationGracePeriodSeconds: Int
    /// When set, reads come from watches (no request per observation); writes always go to the server.
    public let cache: KubeObjectCache?

    public init(client: KubeClient, terminationGracePeriodSeconds: Int = 30, cache: KubeObjectCache? = nil) {
        self.client = client
        self.terminationGracePeriodSeconds = terminationGracePeriodSeconds
        self.cache = cache
    }

    // MARK: - Reading

    public func workload(_ instance: InstanceRef) async throws -> ClusterWorkload? {
        try await self.cloneSet(instance).map(Self.workload(from:))
    }

    public func pods(_ instance: InstanceRef) async throws -> [ClusterPod] {
        guard let cloneSet = try await self.cloneSet(instance) else { return [] }
        let matchLabels = cloneSet.json[path: ["spec", "selector", "matchLabels"]]?.objectValue ?? [:]
        let selector = matchLabels.compactMap { key, value in value.stringValue.map { "\(key)=\($0)" } }.sorted()
            .joined(separator: ",")
        guard !selector.isEmpty else { return [] }
        let expressions = cloneSet.json[path: ["spec", "selector", "matchExpressions"]]?.arrayValue ?? []
        if expressions.isEmpty, let cached = self.cache?.pods(namespace: instance.namespace, matchLabels: matchLabels.compactMapValues(\.stringValue)) {
            return cached.map(Self.pod(from:))
        }
        return try await self.client.pods(namespace: instance.namespace, labelSelector: selector).map(Self.pod(from:))
    }

    /// The CloneSet, or `nil` when the API server answers `NotFound`; from the cache unless `live`
    /// (mutations need the current resourceVersion).
    private func cloneSet(_ instance: InstanceRef, live: Bool = false) async throws -> CloneSet? {
        if !live, let cached = self.cache?.cloneSet(namespace: instance.namespace, name: instance.name) { return cached }
        do {
            return try await self.client.cloneSet(instance.name, namespace: instance.namespace)
        } catch let error as KubeError where error.code == .notFound {
            return nil
        }
    }

    // MARK: - Mutations

    public func createWorkload(_ instance: InstanceRef, appSpec: AppSpec) async throws -> String {
        if let existing = try await self.cloneSet(instance, live: true) {
            return existing.metadata.resourceVersion ?? ""
        }
        let labels = JSONValue(stringMap: TritonLabels.labels(instance, appSpec))
        var cloneSet = CloneSet(name: instance.name, namespace: instance.namespace)
        cloneSet.metadata.json["labels"] = labels
        cloneSet.json["spec"] = [
            "replicas": 0,
            "selector": ["matchLabels": labels],
            "template": try self.template(instance, appSpec),
            "updateStrategy": [
                "type": "ReCreate", "maxUnavailable": 0, "maxSurge": "60%", "partition": 0, "paused": false,
            ],
        ]
        do {
            let written = try await self.client.create(cloneSet, namespace: instance.namespace)
            self.cache?.wrote(written)
            return written.metadata.resourceVersion ?? ""
        } catch let error as KubeError where error.code == .alreadyExists {
            // Created in between (another replica, or a retried request that had gone through): leave it.
            guard let existing = try await self.cloneSet(instance, live: true) else { throw error }
            return existing.metadata.resourceVersion ?? ""
        }
    }

    public func setTemplate(_ instance: InstanceRef, appSpec: AppSpec) async throws -> String {
        let template = try self.template(instance, appSpec)
        // Read-modify-write with the resourceVersion as precondition; retried when the controller wrote
        // the object in between.
        var attempt = 0
        while true {
            attempt += 1
            guard var cloneSet = try await self.cloneSet(instance, live: true) else {
                throw KubeClusterPortError(description: "CloneSet \(instance) does not exist")
            }
            let replicas = cloneSet.replicas ?? 1
            cloneSet.template = template
            cloneSet.json[path: ["spec", "updateStrategy", "partition"]] = .int(Int64(replicas))
            do {
                let written = try await self.client.update(cloneSet)
                self.cache?.wrote(written)
                return written.metadata.resourceVersion ?? ""
            } catch let error as KubeError where error.code == .conflict && attempt < 5 {
                continue
            }
        }
    }

    public func apply(_ intent: DeployFlow.WorkloadIntent, to instance: InstanceRef) async throws -> String {
        var updateStrategy: JSONValue = ["paused": .bool(intent.paused)]
        if let partition = intent.partition { updateStrategy["partition"] = .int(Int64(partition)) }
        var spec: JSONValue = ["replicas": .int(Int64(intent.replicas)), "updateStrategy": updateStrategy]
        if !intent.podsToDelete.isEmpty {
            spec["scaleStrategy"] = ["podsToDelete": .array(intent.podsToDelete.map { .string($0) })]
        }
        let written = try await self.client.patchCloneSet(instance.name, namespace: instance.namespace, merge: ["spec": spec])
        // The next observation must see this write, not a watch that trails it (or the executor would
        // find the CloneSet drifted and apply it again).
        self.cache?.wrote(written)
        return written.metadata.resourceVersion ?? ""
    }

    public func setGate(_ instance: InstanceRef, pod: String, to status: GateStatus) async throws -> String {
        let value = status == .true ? "True" : "False"
        let written = try await self.client.setPodCondition(
            PodCondition(type: TritonLabels.gateCondition, status: value), pod: pod, namespace: instance.namespace
        )
        self.cache?.wrote(written)
        return written.metadata.resourceVersion ?? ""
    }

    public func deleteWorkload(_ instance: InstanceRef, uid: String) async throws -> Bool {
        do {
            try await self.client.delete(
                CloneSet.self, name: instance.name, namespace: instance.namespace,
                options: DeleteOptions(preconditionUID: uid, propagationPolicy: "Background")
            )
            return true
        } catch let error as KubeError where error.code == .notFound || error.code == .conflict {
            // Gone already, or the name now belongs to another CloneSet (the uid precondition failed).
            return false
        }
    }

    // MARK: - The pod template

    /// The app's template (`AppSpec.template`, when given) with Triton's labels, the readiness gate, a
    /// preStop hook, a termination grace period, and the image on its first container.
    public func template(_ instance: InstanceRef, _ appSpec: AppSpec) throws -> JSONValue {
        var template: JSONValue = .object([:])
        if let text = appSpec.template, !text.isEmpty {
            do {
                template = try JSONValue(jsonData: Data(text.utf8))
            } catch {
                throw KubeClusterPortError(description: "the app's pod template is not valid JSON")
            }
            guard template.objectValue != nil else {
                throw KubeClusterPortError(description: "the app's pod template is not a JSON object")
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
            template[path: ["spec", "terminationGracePeriodSeconds"]] = .int(Int64(self.terminationGracePeriodSeconds))
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

    public static func workload(from cloneSet: CloneSet) -> ClusterWorkload {
        let spec = cloneSet.json["spec"] ?? .object([:])
        let status = cloneSet.json["status"] ?? .object([:])
        return ClusterWorkload(
            uid: cloneSet.metadata.uid ?? "",
            resourceVersion: cloneSet.metadata.resourceVersion ?? "",
            generation: cloneSet.metadata.generation ?? 0,
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

    public static func pod(from pod: Pod) -> ClusterPod {
        let conditions = pod.json[path: ["status", "conditions"]]?.arrayValue ?? []
        func condition(_ type: String) -> String? {
            conditions.first { $0["type"]?.stringValue == type }?["status"]?.stringValue
        }
        let gate: GateStatus =
            switch condition(TritonLabels.gateCondition) {
            case "True"?: .true
            case nil: .absent
            default: .false
            }
        let statuses = pod.json[path: ["status", "containerStatuses"]]?.arrayValue ?? []
        let deletionTimestamp = pod.json[path: ["metadata", "deletionTimestamp"]]
        return ClusterPod(
            name: pod.metadata.name ?? "", uid: pod.metadata.uid ?? "",
            resourceVersion: pod.metadata.resourceVersion ?? "",
            revision: pod.json[path: ["metadata", "labels", "controller-revision-hash"]]?.stringValue,
            phase: PodPhase(rawValue: pod.phase ?? "Pending") ?? .unknown,
            scheduled: condition("PodScheduled") == "True",
            containersReady: condition("ContainersReady") == "True",
            ready: condition("Ready") == "True",
            gate: gate,
            waitingReason: statuses.lazy.compactMap { $0[path: ["state", "waiting", "reason"]]?.stringValue }.first,
            restartCount: statuses.reduce(0) { $0 + ($1["restartCount"]?.intValue ?? 0) },
            terminating: deletionTimestamp.map { $0 != .null } ?? false
        )
    }
}

public struct KubeClusterPortError: Error, CustomStringConvertible {
    public var description: String
}
