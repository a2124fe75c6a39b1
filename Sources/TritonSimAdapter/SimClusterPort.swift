import Foundation
import KubeSim
import TritonDomain
import TritonEngine
import TritonJSON
import TritonKubeMapping
import TritonJSON

/// The engine's ``ClusterPort`` on a ``SimulatedCluster``, in process, through its programmatic API
/// (the same validation, patch and resourceVersion rules as its HTTP API). The objects and patches are
/// ``CloneSetMapping``'s, as in `KubeClusterPort`; this port is only the transport.
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
        self.cluster.get(.cloneSets, namespace: instance.namespace, name: instance.name).map(CloneSetMapping.workload(from:))
    }

    public func pods(_ instance: InstanceRef) async throws -> [ClusterPod] {
        guard let cloneSet = self.cluster.get(.cloneSets, namespace: instance.namespace, name: instance.name) else { return [] }
        let selector = CloneSetMapping.podSelector(of: cloneSet)
        guard !selector.text.isEmpty else { return [] }
        return try self.cluster.list(.pods, namespace: instance.namespace, labelSelector: selector.text).map(CloneSetMapping.pod(from:))
    }

    // MARK: - Mutations

    public func createWorkload(_ instance: InstanceRef, appSpec: AppSpec) async throws -> String {
        if let existing = self.cluster.get(.cloneSets, namespace: instance.namespace, name: instance.name) {
            return existing.resourceVersion
        }
        let cloneSet = try CloneSetMapping.cloneSet(
            instance, appSpec, terminationGracePeriodSeconds: self.terminationGracePeriodSeconds)
        return try self.cluster.create(.cloneSets, cloneSet).resourceVersion
    }

    public func setTemplate(_ instance: InstanceRef, appSpec: AppSpec) async throws -> String {
        let template = try self.template(instance, appSpec)
        // Read-modify-write with the resourceVersion as precondition; retried when the controller wrote
        // the object in between.
        var attempt = 0
        while true {
            attempt += 1
            guard let cloneSet = self.cluster.get(.cloneSets, namespace: instance.namespace, name: instance.name) else {
                throw CloneSetMappingError(description: "CloneSet \(instance) does not exist")
            }
            do {
                return try self.cluster.update(.cloneSets, CloneSetMapping.settingTemplate(template, of: cloneSet)).resourceVersion
            } catch let error as KubeAPIError where error.reason == .conflict && attempt < 5 {
                continue
            }
        }
    }

    public func apply(_ intent: DeployFlow.WorkloadIntent, to instance: InstanceRef) async throws -> String {
        try self.cluster.patch(
            .cloneSets, namespace: instance.namespace, name: instance.name, type: .merge, CloneSetMapping.mergePatch(intent)
        ).resourceVersion
    }

    public func setGate(_ instance: InstanceRef, pod: String, to status: GateStatus) async throws -> String {
        try self.cluster.patch(
            .pods, namespace: instance.namespace, name: pod, subresource: "status", type: .strategic,
            CloneSetMapping.gatePatch(status)
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

    /// The pod template this port writes for `appSpec` (``CloneSetMapping/template(_:_:terminationGracePeriodSeconds:)``).
    public func template(_ instance: InstanceRef, _ appSpec: AppSpec) throws -> JSONValue {
        try CloneSetMapping.template(instance, appSpec, terminationGracePeriodSeconds: self.terminationGracePeriodSeconds)
    }
}
