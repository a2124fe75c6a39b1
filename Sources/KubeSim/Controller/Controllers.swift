import Foundation
import Logging
import TritonJSON

/// A namespace and name.
struct ObjectKey: Hashable, Sendable, Comparable {
    var namespace: String
    var name: String

    init(_ namespace: String, _ name: String) {
        self.namespace = namespace
        self.name = name
    }

    init(_ object: JSONValue) {
        self.namespace = object.namespace
        self.name = object.name
    }

    static func < (a: ObjectKey, b: ObjectKey) -> Bool { (a.namespace, a.name) < (b.namespace, b.name) }
}

/// The controllers' state and logic. Owned by ``SimEngine`` and only used under its lock.
final class Controllers {
    enum TimerAction {
        case pod(uid: String, generation: Int, PodStep)
        case resyncCloneSet(ObjectKey)
    }

    let store: ObjectStore
    let api: KubeAPI
    let configuration: SimConfiguration
    let logger: Logger
    var now: Double = 0
    var timers = TimerQueue<TimerAction>()
    var random: SeededRandom

    // Kubelet.
    var pods: [String: PodRecord] = [:]
    var nodeNames: [String] = []
    var podsPerNode: [String: Int] = [:]
    var nextPodIP = 0

    // Ownership index: owner uid → dependents (pods and controller revisions).
    var podsByOwner: [String: Set<ObjectKey>] = [:]

    // Work queues.
    var dirtyCloneSets: Set<ObjectKey> = []
    var dirtyEndpointNamespaces: Set<String> = []
    var terminatingNamespaces: Set<String> = []
    var pendingOwnerCleanups: [(namespace: String, uid: String, dependents: Set<ObjectKey>)] = []

    // Events: aggregation key → event name.
    var eventNames: [String: ObjectKey] = [:]

    var hasDirtyWork: Bool {
        !self.dirtyCloneSets.isEmpty || !self.dirtyEndpointNamespaces.isEmpty || !self.pendingOwnerCleanups.isEmpty
    }

    init(store: ObjectStore, api: KubeAPI, configuration: SimConfiguration, logger: Logger) {
        self.store = store
        self.api = api
        self.configuration = configuration
        self.logger = logger
        self.random = SeededRandom(seed: configuration.resolvedSeed)
    }

    var nowDate: Date { self.store.clock.date(at: self.now) }
    var nowStamp: JSONValue { .string(Timestamp.format(self.nowDate)) }

    // MARK: - Bootstrap

    func bootstrap() {
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            _ = try? self.api.create(.namespaces, namespace: nil, ["metadata": ["name": .string(ns)]])
        }
        for i in 1...max(1, self.configuration.nodeCount) {
            let name = "sim-node-\(i)"
            self.nodeNames.append(name)
            let node: JSONValue = [
                "metadata": [
                    "name": .string(name),
                    "labels": [
                        "kubernetes.io/hostname": .string(name), "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                        "node.kubernetes.io/instance-type": "sim",
                    ],
                ],
                "spec": ["podCIDR": .string("10.244.\(i).0/24")],
                "status": [
                    "capacity": ["cpu": "64", "memory": "256Gi", "pods": "5000"],
                    "allocatable": ["cpu": "64", "memory": "256Gi", "pods": "5000"],
                    "addresses": [
                        ["type": "InternalIP", "address": .string("192.168.0.\(10 + i)")],
                        ["type": "Hostname", "address": .string(name)],
                    ],
                    "conditions": [
                        [
                            "type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status", "lastHeartbeatTime": self.nowStamp,
                            "lastTransitionTime": self.nowStamp,
                        ]
                    ],
                    "nodeInfo": [
                        "kubeletVersion": "v1.32.0-triton-sim", "containerRuntimeVersion": "containerd://1.7.0",
                        "operatingSystem": "linux", "architecture": "amd64", "osImage": "Triton simulated node",
                        "kernelVersion": "6.1.0",
                    ],
                ],
            ]
            _ = try? self.store.create(.nodes, node)
        }
    }

    // MARK: - Observing changes

    func observe(_ changes: [StoreChange]) {
        for change in changes {
            switch change.resource {
            case .pods:
                self.observePod(change)
            case .cloneSets:
                let key = ObjectKey(change.object)
                self.dirtyCloneSets.insert(key)
                if change.type == .deleted {
                    self.enqueueOwnerCleanup(change.object)
                } else if change.object.isTerminating {
                    self.handleOwnerFinalizers(.cloneSets, change.object)
                }
            case .services:
                self.dirtyEndpointNamespaces.insert(change.object.namespace)
                if change.type == .deleted {
                    _ = try? self.store.remove(.endpoints, namespace: change.object.namespace, name: change.object.name)
                }
            case .namespaces:
                if change.object.isTerminating, change.type != .deleted {
                    self.terminatingNamespaces.insert(change.object.name)
                }
            case .events, .endpoints, .nodes, .leases, .configMaps:
                break
            default:
                if change.type == .deleted { self.enqueueOwnerCleanup(change.object) }
            }
        }
    }

    func enqueueOwnerCleanup(_ owner: JSONValue) {
        let uid = owner.uid
        let dependents = self.podsByOwner.removeValue(forKey: uid) ?? []
        self.pendingOwnerCleanups.append((owner.namespace, uid, dependents))
    }

    // MARK: - Timers

    func fireDueTimers() {
        while let (due, action) = self.timers.popDue(self.now) {
            switch action {
            case .pod(let uid, let generation, let step):
                guard var record = self.pods[uid], record.generation == generation else { continue }
                self.runPodStep(step, &record, at: due)
                if self.pods[uid] != nil { self.pods[uid] = record }
            case .resyncCloneSet(let key):
                self.dirtyCloneSets.insert(key)
            }
        }
    }

    // MARK: - Reconciling

    func reconcileDirty() {
        if !self.pendingOwnerCleanups.isEmpty {
            let cleanups = self.pendingOwnerCleanups
            self.pendingOwnerCleanups = []
            for cleanup in cleanups { self.collectGarbage(cleanup.namespace, ownerUID: cleanup.uid, dependents: cleanup.dependents) }
        }
        if !self.dirtyCloneSets.isEmpty {
            let keys = self.dirtyCloneSets.sorted()
            self.dirtyCloneSets = []
            for key in keys { self.reconcileCloneSet(key) }
        }
        if !self.dirtyEndpointNamespaces.isEmpty {
            let namespaces = self.dirtyEndpointNamespaces
            self.dirtyEndpointNamespaces = []
            for ns in namespaces.sorted() { self.reconcileEndpoints(namespace: ns) }
        }
        if !self.terminatingNamespaces.isEmpty {
            for ns in self.terminatingNamespaces.sorted() { self.reconcileTerminatingNamespace(ns) }
        }
    }

    // MARK: - Events

    /// Records a core/v1 Event, aggregating repeats of the same reason and message into `count`.
    func recordEvent(
        _ involved: JSONValue, type: String = "Normal", reason: String, message: String, component: String,
        host: String? = nil, fieldPath: String? = nil
    ) {
        let resource = ResourceType.all.first { $0.kind == involved["kind"]?.stringValue } ?? .pods
        let namespace = resource.namespaced ? involved.namespace : "default"
        let aggregate = "\(involved.uid)|\(reason)|\(message)|\(component)"
        if let key = self.eventNames[aggregate],
            (try? self.store.update(.events, namespace: key.namespace, name: key.name, mutate: { event in
                event["count"] = .int((event["count"]?.intValue ?? 1) + 1)
                event["lastTimestamp"] = self.nowStamp
            })) != nil
        {
            return
        }
        let suffix = String(format: "%016llx", self.random.next())
        var involvedRef: JSONValue = [
            "kind": involved["kind"] ?? .null, "name": .string(involved.name), "uid": .string(involved.uid),
            "apiVersion": involved["apiVersion"] ?? .null, "resourceVersion": .string(involved.resourceVersion),
        ]
        if resource.namespaced { involvedRef["namespace"] = .string(involved.namespace) }
        if let fieldPath { involvedRef["fieldPath"] = .string(fieldPath) }
        var source: JSONValue = ["component": .string(component)]
        if let host { source["host"] = .string(host) }
        let event: JSONValue = [
            "metadata": ["name": .string("\(involved.name).\(suffix)"), "namespace": .string(namespace)],
            "involvedObject": involvedRef,
            "reason": .string(reason),
            "message": .string(message),
            "source": source,
            "firstTimestamp": self.nowStamp,
            "lastTimestamp": self.nowStamp,
            "count": 1,
            "type": .string(type),
            "eventTime": .null,
            "reportingComponent": .string(component),
            "reportingInstance": .string(host ?? ""),
        ]
        if let created = try? self.store.create(.events, event) {
            self.eventNames[aggregate] = ObjectKey(created)
        }
    }
}
