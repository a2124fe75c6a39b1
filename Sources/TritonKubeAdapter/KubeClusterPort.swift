import Foundation
import KubeClient
import TritonDomain
import TritonEngine
import TritonJSON
import TritonKubeMapping
import TritonJSON

/// The engine's ``ClusterPort`` over a Kubernetes API server, through ``KubeClient``.
///
/// The objects and patches are ``CloneSetMapping``'s, as in `SimClusterPort` (TritonSimAdapter): this
/// port adds only the transport — the template set by a conditional update (retried on a conflict),
/// intents as one JSON merge patch, gates as a strategic-merge patch on the pod's `status` subresource,
/// and reads from watches when a ``KubeObjectCache`` is given.
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
        try await self.cloneSet(instance).map { CloneSetMapping.workload(from: $0.json) }
    }

    public func pods(_ instance: InstanceRef) async throws -> [ClusterPod] {
        guard let cloneSet = try await self.cloneSet(instance) else { return [] }
        let selector = CloneSetMapping.podSelector(of: cloneSet.json)
        guard !selector.text.isEmpty else { return [] }
        if !selector.hasExpressions, let cached = self.cache?.pods(namespace: instance.namespace, matchLabels: selector.matchLabels) {
            return cached.map { CloneSetMapping.pod(from: $0.json) }
        }
        return try await self.client.pods(namespace: instance.namespace, labelSelector: selector.text)
            .map { CloneSetMapping.pod(from: $0.json) }
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
        let cloneSet = CloneSet(
            json: try CloneSetMapping.cloneSet(
                instance, appSpec, terminationGracePeriodSeconds: self.terminationGracePeriodSeconds))
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
            guard let cloneSet = try await self.cloneSet(instance, live: true) else {
                throw CloneSetMappingError(description: "CloneSet \(instance) does not exist")
            }
            do {
                let written = try await self.client.update(CloneSet(json: CloneSetMapping.settingTemplate(template, of: cloneSet.json)))
                self.cache?.wrote(written)
                return written.metadata.resourceVersion ?? ""
            } catch let error as KubeError where error.code == .conflict && attempt < 5 {
                continue
            }
        }
    }

    public func apply(_ intent: DeployFlow.WorkloadIntent, to instance: InstanceRef) async throws -> String {
        let written = try await self.client.patchCloneSet(
            instance.name, namespace: instance.namespace, merge: CloneSetMapping.mergePatch(intent))
        // The next observation must see this write, not a watch that trails it (or the executor would
        // find the CloneSet drifted and apply it again).
        self.cache?.wrote(written)
        return written.metadata.resourceVersion ?? ""
    }

    public func setGate(_ instance: InstanceRef, pod: String, to status: GateStatus) async throws -> String {
        let written = try await self.client.patch(
            Pod.self, name: pod, namespace: instance.namespace, patch: .strategicMerge(CloneSetMapping.gatePatch(status)),
            subresource: "status")
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

    /// The pod template this port writes for `appSpec` (``CloneSetMapping/template(_:_:terminationGracePeriodSeconds:)``).
    public func template(_ instance: InstanceRef, _ appSpec: AppSpec) throws -> JSONValue {
        try CloneSetMapping.template(instance, appSpec, terminationGracePeriodSeconds: self.terminationGracePeriodSeconds)
    }
}
