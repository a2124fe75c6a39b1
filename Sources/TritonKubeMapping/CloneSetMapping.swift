import TritonDomain
import TritonEngine
import TritonJSON

/// The one mapping between the engine's view of an instance and the Kubernetes objects that carry it
/// (DESIGN §2): what the CloneSet Triton creates looks like, the pod template it rolls, the patches its
/// mutations send, and how a CloneSet and its pods read back as ``ClusterWorkload`` and ``ClusterPod``.
///
/// Both cluster ports use it — `KubeClusterPort` over a Kubernetes API server and `SimClusterPort` on the
/// in-process simulated cluster — so the two can only differ in transport.
public enum CloneSetMapping {
    public static let apiVersion = "apps.kruise.io/v1alpha1"
    public static let kind = "CloneSet"

    // MARK: - What Triton writes

    /// A new CloneSet for a `create` flow: replicas 0, Triton's labels and selector, the pod ``template(_:_:terminationGracePeriodSeconds:)``,
    /// `updateStrategy {ReCreate, maxUnavailable 0, maxSurge 60%, partition 0, paused false}`.
    public static func cloneSet(
        _ instance: InstanceRef, _ appSpec: AppSpec, terminationGracePeriodSeconds: Int
    ) throws(CloneSetMappingError) -> JSONValue {
        let labels = JSONValue(stringMap: TritonLabels.labels(instance, appSpec))
        return [
            "apiVersion": .string(Self.apiVersion), "kind": .string(Self.kind),
            "metadata": ["name": .string(instance.name), "namespace": .string(instance.namespace), "labels": labels],
            "spec": [
                "replicas": 0,
                "selector": ["matchLabels": labels],
                "template": try self.template(instance, appSpec, terminationGracePeriodSeconds: terminationGracePeriodSeconds),
                "updateStrategy": [
                    "type": "ReCreate", "maxUnavailable": 0, "maxSurge": "60%", "partition": 0, "paused": false,
                ],
            ],
        ]
    }

    /// The app's template (`AppSpec.template`, when given) with Triton's labels, the readiness gate, a
    /// preStop hook, a termination grace period (when the template has none), and the image on its first
    /// container.
    public static func template(
        _ instance: InstanceRef, _ appSpec: AppSpec, terminationGracePeriodSeconds: Int
    ) throws(CloneSetMappingError) -> JSONValue {
        var template: JSONValue = .emptyObject
        if let text = appSpec.template, !text.isEmpty {
            do {
                template = try JSONValue.parse(text)
            } catch {
                throw CloneSetMappingError(description: "the app's pod template is not valid JSON (\(error))")
            }
            guard template.objectValue != nil else {
                throw CloneSetMappingError(description: "the app's pod template is not a JSON object")
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
            template[path: ["spec", "terminationGracePeriodSeconds"]] = .int(terminationGracePeriodSeconds)
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

    /// `cloneSet` with its pod template replaced and `partition` = its current `spec.replicas`, so nothing
    /// rolls until the flow lowers the partition (update and rollback; sent as an update with the read
    /// resourceVersion as precondition).
    public static func settingTemplate(_ template: JSONValue, of cloneSet: JSONValue) -> JSONValue {
        var cloneSet = cloneSet
        let replicas = cloneSet[path: ["spec", "replicas"]]?.intValue ?? 1
        cloneSet[path: ["spec", "template"]] = template
        cloneSet[path: ["spec", "updateStrategy", "partition"]] = .int(replicas)
        return cloneSet
    }

    /// The JSON merge patch of a ``DeployFlow/WorkloadIntent``: `replicas`, `updateStrategy.partition`
    /// (when set), `updateStrategy.paused` and (when not empty) `scaleStrategy.podsToDelete`.
    public static func mergePatch(_ intent: DeployFlow.WorkloadIntent) -> JSONValue {
        var updateStrategy: JSONValue = ["paused": .bool(intent.paused)]
        if let partition = intent.partition { updateStrategy["partition"] = .int(partition) }
        var spec: JSONValue = ["replicas": .int(intent.replicas), "updateStrategy": updateStrategy]
        if !intent.podsToDelete.isEmpty {
            spec["scaleStrategy"] = ["podsToDelete": .array(intent.podsToDelete.map { .string($0) })]
        }
        return ["spec": spec]
    }

    /// The strategic-merge patch, for a pod's `status` subresource, that sets the readiness-gate
    /// condition to `True` (in traffic) or `False` (out); conditions merge by `type`.
    public static func gatePatch(_ status: GateStatus) -> JSONValue {
        let value = status == .true ? "True" : "False"
        return ["status": ["conditions": [["type": .string(TritonLabels.gateCondition), "status": .string(value)]]]]
    }

    // MARK: - What Triton reads

    /// The label selector of a CloneSet's pods: its `matchLabels`, as a map and as selector text
    /// (`a=b,c=d`, sorted; empty when there are none), and whether it also has `matchExpressions`.
    public static func podSelector(of cloneSet: JSONValue) -> (matchLabels: [String: String], text: String, hasExpressions: Bool) {
        let matchLabels = (cloneSet[path: ["spec", "selector", "matchLabels"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        let text = matchLabels.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ",")
        let expressions = cloneSet[path: ["spec", "selector", "matchExpressions"]]?.arrayValue ?? []
        return (matchLabels, text, !expressions.isEmpty)
    }

    public static func workload(from object: JSONValue) -> ClusterWorkload {
        let spec = object["spec"] ?? .emptyObject
        let status = object["status"] ?? .emptyObject
        return ClusterWorkload(
            uid: object[path: ["metadata", "uid"]]?.stringValue ?? "",
            resourceVersion: object[path: ["metadata", "resourceVersion"]]?.stringValue ?? "",
            generation: object[path: ["metadata", "generation"]]?.intValue ?? 0,
            replicas: spec["replicas"]?.intValue ?? 1,
            partition: spec[path: ["updateStrategy", "partition"]]?.intValue,
            paused: spec[path: ["updateStrategy", "paused"]]?.boolValue ?? false,
            podsToDelete: (spec[path: ["scaleStrategy", "podsToDelete"]]?.arrayValue ?? []).compactMap(\.stringValue),
            image: spec[path: ["template", "spec", "containers"]]?.arrayValue?.first?["image"]?.stringValue,
            status: WorkloadObservation(
                exists: true,
                replicas: status["replicas"]?.intValue ?? 0,
                readyReplicas: status["readyReplicas"]?.intValue ?? 0,
                updatedReplicas: status["updatedReplicas"]?.intValue ?? 0,
                updatedReadyReplicas: status["updatedReadyReplicas"]?.intValue ?? 0,
                updateRevision: status["updateRevision"]?.stringValue,
                currentRevision: status["currentRevision"]?.stringValue,
                observedGeneration: status["observedGeneration"]?.intValue ?? 0
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
        let deletionTimestamp = object[path: ["metadata", "deletionTimestamp"]]
        return ClusterPod(
            uid: object[path: ["metadata", "uid"]]?.stringValue ?? "",
            resourceVersion: object[path: ["metadata", "resourceVersion"]]?.stringValue ?? "",
            state: PodObservation(
                name: object[path: ["metadata", "name"]]?.stringValue ?? "",
                revision: object[path: ["metadata", "labels", "controller-revision-hash"]]?.stringValue,
                isUpdated: false,
                phase: PodPhase(rawValue: object[path: ["status", "phase"]]?.stringValue ?? "Pending") ?? .unknown,
                scheduled: condition("PodScheduled") == "True",
                containersReady: condition("ContainersReady") == "True",
                ready: condition("Ready") == "True",
                gate: gate,
                waitingReason: statuses.lazy.compactMap { $0[path: ["state", "waiting", "reason"]]?.stringValue }.first,
                restartCount: statuses.reduce(0) { $0 + ($1["restartCount"]?.intValue ?? 0) },
                terminating: deletionTimestamp.map { !$0.isNull } ?? false
            )
        )
    }
}

/// An app's pod template Triton cannot use, or a CloneSet it cannot write.
public struct CloneSetMappingError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}
