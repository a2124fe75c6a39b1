import Foundation
import TritonDomain

/// What the engine needs from Kubernetes, in engine terms: read the instance's CloneSet and pods, and
/// apply the few declarative mutations a flow makes. Every mutation returns the resourceVersion the API
/// server gave the object it changed.
///
/// Implementations: `SimClusterPort` (TritonSimAdapter) on the simulated cluster; a port over a real
/// API server client plugs in the same way.
public protocol ClusterPort: Sendable {
    /// The instance's CloneSet, or `nil` when it does not exist.
    func workload(_ instance: InstanceRef) async throws -> ClusterWorkload?

    /// The instance's pods (those the CloneSet's selector matches), terminating ones included; `[]` when
    /// the CloneSet does not exist.
    func pods(_ instance: InstanceRef) async throws -> [ClusterPod]

    /// Creates the CloneSet for a `create` flow (DESIGN §2): replicas 0, Triton labels and selector, the
    /// readiness gate, a preStop hook, `updateStrategy {ReCreate, maxUnavailable 0, maxSurge 60%,
    /// partition 0}`. When the CloneSet already exists (a create applied but not recorded) it is left as
    /// it is and its resourceVersion returned.
    func createWorkload(_ instance: InstanceRef, appSpec: AppSpec) async throws -> String

    /// Sets the pod template to `appSpec`'s (update / rollback) with `partition` = the current
    /// `spec.replicas`, so nothing rolls until the flow lowers it. Declarative: applying it twice is
    /// harmless.
    func setTemplate(_ instance: InstanceRef, appSpec: AppSpec) async throws -> String

    /// Sets `replicas`, `updateStrategy.partition` (when not `nil`), `updateStrategy.paused` and (when not
    /// empty) `scaleStrategy.podsToDelete` in one merge patch. Gates are not touched.
    func apply(_ intent: DeployFlow.WorkloadIntent, to instance: InstanceRef) async throws -> String

    /// Sets the `apps.triton.io/ready` condition of a pod (`.true` or `.false`) with a strategic-merge
    /// patch on its `status` subresource.
    func setGate(_ instance: InstanceRef, pod: String, to status: GateStatus) async throws -> String

    /// Deletes the instance's CloneSet if it is still the object with `uid` (a precondition), with
    /// background propagation: the garbage collector then deletes its pods. Returns `false` when there
    /// was nothing to delete (already gone, or a different CloneSet now has the name). Declarative:
    /// applying it twice is harmless.
    func deleteWorkload(_ instance: InstanceRef, uid: String) async throws -> Bool
}

/// The CloneSet as the engine sees it.
public struct ClusterWorkload: Sendable, Hashable {
    /// `metadata.uid`.
    public var uid: String
    public var resourceVersion: String
    public var generation: Int
    /// `spec.replicas`.
    public var replicas: Int
    /// `spec.updateStrategy.partition` when it is a number (`nil` when absent or a percent).
    public var partition: Int?
    /// `spec.updateStrategy.paused`.
    public var paused: Bool
    /// `spec.scaleStrategy.podsToDelete`.
    public var podsToDelete: [String]
    /// The image of the template's first container.
    public var image: String?
    /// `status` of the CloneSet, which is what the flow is told about the workload.
    public var status: WorkloadObservation

    public init(
        uid: String = "", resourceVersion: String, generation: Int, replicas: Int, partition: Int?, paused: Bool,
        podsToDelete: [String], image: String?, status: WorkloadObservation
    ) {
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.generation = generation
        self.replicas = replicas
        self.partition = partition
        self.paused = paused
        self.podsToDelete = podsToDelete
        self.image = image
        self.status = status
    }

    /// What the flow is told about the workload.
    public var observation: WorkloadObservation { self.status }
}

/// A pod of the instance as the engine sees it: its identity in the API server and its state, read
/// through (`pod.phase`, `pod.gate`, …). `state.isUpdated` is only meaningful after
/// ``observation(updateRevision:)``, which compares the pod's revision with the CloneSet's.
@dynamicMemberLookup
public struct ClusterPod: Sendable, Hashable {
    public var uid: String
    public var resourceVersion: String
    public var state: PodObservation

    public init(uid: String = "", resourceVersion: String = "", state: PodObservation) {
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.state = state
    }

    public subscript<Value>(dynamicMember keyPath: KeyPath<PodObservation, Value>) -> Value {
        self.state[keyPath: keyPath]
    }

    /// What the flow is told about the pod; `updateRevision` is the CloneSet's `status.updateRevision`.
    public func observation(updateRevision: String?) -> PodObservation {
        var observation = self.state
        observation.isUpdated = updateRevision != nil && self.state.revision == updateRevision
        return observation
    }
}

/// The labels Triton puts on an instance's CloneSet, its selector and its pods (DESIGN §2).
public enum TritonLabels {
    public static let gateCondition = "apps.triton.io/ready"
    public static let managedBy = "managed-by"
    public static let managedByValue = "triton-io"

    /// `app`, `group`, `app.kubernetes.io/name`, `app.kubernetes.io/instance`, `managed-by`.
    public static func labels(_ instance: InstanceRef, _ appSpec: AppSpec) -> [String: String] {
        [
            "app": String(appSpec.appID),
            "group": String(appSpec.groupID),
            "app.kubernetes.io/name": appSpec.appName,
            "app.kubernetes.io/instance": instance.name,
            Self.managedBy: Self.managedByValue,
        ]
    }
}
