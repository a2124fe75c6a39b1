import Foundation
import TritonJSON

/// A step in a pod's simulated life.
enum PodStep: Sendable {
    case schedule, pulled, imagePullBackOff, retryPull, containersReady, crash, restart, nodeLost, terminated
}

/// What the simulated kubelet knows about a pod.
struct PodRecord {
    enum ContainerState {
        case waiting(reason: String, message: String?)
        case running(startedAt: Double)
        case crashed(startedAt: Double, finishedAt: Double)
        case terminated(reason: String, exitCode: Int)
    }

    var key: ObjectKey
    var uid: String
    var profile: PodProfile
    /// Bumped to invalidate pending timers.
    var generation = 0
    var node: String?
    var podIP: String?
    var startTime: Double?
    var state: ContainerState = .waiting(reason: "ContainerCreating", message: nil)
    var lastTermination: (startedAt: Double, finishedAt: Double)?
    var containersReady = false
    var restartCount = 0
    var pullFailures = 0
    var failed = false
    var terminating = false
    var terminated = false
}

/// The simulated scheduler and kubelet: Pending → ContainerCreating → Running → ContainersReady
/// → Ready (when every readiness gate is True), graceful termination, and injected faults.
extension Controllers {
    func observePod(_ change: StoreChange) {
        let pod = change.object
        let key = ObjectKey(pod)
        if let owner = pod.controllerUID {
            if change.type == .deleted {
                self.podsByOwner[owner]?.remove(key)
            } else {
                self.podsByOwner[owner, default: []].insert(key)
            }
            if let ownerName = (pod[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).first(where: {
                $0["controller"]?.boolValue == true && $0["kind"]?.stringValue == "CloneSet"
            })?["name"]?.stringValue {
                self.dirtyCloneSets.insert(ObjectKey(pod.namespace, ownerName))
            }
        }
        if let previousOwner = change.previous?.controllerUID, previousOwner != pod.controllerUID {
            self.podsByOwner[previousOwner]?.remove(key)
        }
        self.dirtyEndpointNamespaces.insert(pod.namespace)
        let uid = pod.uid
        switch change.type {
        case .added:
            guard self.pods[uid] == nil else { return }
            var record = PodRecord(key: key, uid: uid, profile: PodProfile(pod: pod, defaults: self.configuration.timings))
            if pod[path: ["spec", "nodeName"]]?.stringValue?.isEmpty == false {
                // Bound at creation: the kubelet starts it at once.
                record.node = pod[path: ["spec", "nodeName"]]?.stringValue
                self.schedulePodStep(.schedule, &record, after: 0)
            } else {
                self.schedulePodStep(.schedule, &record, after: record.profile.timings.scheduleSeconds)
            }
            self.pods[uid] = record
        case .deleted:
            if let record = self.pods.removeValue(forKey: uid), let node = record.node {
                self.podsPerNode[node, default: 1] -= 1
            }
        case .modified:
            guard var record = self.pods[uid] else { return }
            if pod.isTerminating {
                if !record.terminating {
                    self.beginTermination(pod, &record)
                } else if record.terminated {
                    self.finishTermination(&record)
                }
                if self.pods[uid] != nil { self.pods[uid] = record }
                return
            }
            // Someone else changed the pod (e.g. a readiness gate): bring Ready up to date.
            self.writeStatus(record)
        case .bookmark, .error:
            break
        }
    }

    func schedulePodStep(_ step: PodStep, _ record: inout PodRecord, after seconds: Double, jitter: Bool = true) {
        let factor = jitter ? self.random.jitter(self.configuration.timingJitter) : 1
        self.timers.schedule(at: self.now + seconds * factor, .pod(uid: record.uid, generation: record.generation, step))
    }

    func currentPod(_ record: PodRecord) -> JSONValue? {
        guard let pod = self.store.get(.pods, namespace: record.key.namespace, name: record.key.name), pod.uid == record.uid
        else { return nil }
        return pod
    }

    func runPodStep(_ step: PodStep, _ record: inout PodRecord, at due: Double) {
        guard let pod = self.currentPod(record) else {
            self.pods[record.uid] = nil
            return
        }
        if record.terminating, step != .terminated { return }
        let containers = pod[path: ["spec", "containers"]]?.arrayValue ?? []
        let images = containers.compactMap { $0["image"]?.stringValue }
        let node = record.node ?? ""
        switch step {
        case .schedule:
            if record.node == nil {
                let chosen = self.nodeNames.min { (self.podsPerNode[$0] ?? 0, $0) < (self.podsPerNode[$1] ?? 0, $1) } ?? "sim-node-1"
                record.node = chosen
                _ = try? self.store.update(.pods, namespace: record.key.namespace, name: record.key.name) { p in
                    p[path: ["spec", "nodeName"]] = .string(chosen)
                }
                self.recordEvent(
                    pod, reason: "Scheduled",
                    message: "Successfully assigned \(record.key.namespace)/\(record.key.name) to \(chosen)",
                    component: "default-scheduler")
            }
            self.podsPerNode[record.node!, default: 0] += 1
            record.startTime = self.now
            record.state = .waiting(reason: "ContainerCreating", message: nil)
            self.writeStatus(record)
            for image in images {
                self.recordEvent(
                    pod, reason: "Pulling", message: "Pulling image \"\(image)\"", component: "kubelet", host: record.node,
                    fieldPath: "spec.containers{\(self.containerName(containers, image))}")
            }
            self.schedulePodStep(.pulled, &record, after: record.profile.timings.imagePullSeconds)
        case .retryPull:
            for image in images {
                self.recordEvent(
                    pod, reason: "Pulling", message: "Pulling image \"\(image)\"", component: "kubelet", host: node,
                    fieldPath: "spec.containers{\(self.containerName(containers, image))}")
            }
            self.schedulePodStep(.pulled, &record, after: record.profile.timings.imagePullSeconds)
        case .pulled:
            if record.profile.faults.contains(.imagePullFailure) {
                record.pullFailures += 1
                let image = images.first ?? ""
                let detail =
                    "failed to pull and unpack image \"\(image)\": failed to resolve reference \"\(image)\": \(image): not found"
                record.state = .waiting(reason: "ErrImagePull", message: detail)
                self.writeStatus(record)
                let fieldPath = "spec.containers{\(self.containerName(containers, image))}"
                self.recordEvent(
                    pod, type: "Warning", reason: "Failed", message: "Failed to pull image \"\(image)\": \(detail)",
                    component: "kubelet", host: node, fieldPath: fieldPath)
                self.recordEvent(
                    pod, type: "Warning", reason: "Failed", message: "Error: ErrImagePull", component: "kubelet", host: node,
                    fieldPath: fieldPath)
                self.schedulePodStep(.imagePullBackOff, &record, after: 1, jitter: false)
                return
            }
            let pullTime = String(format: "%.3fs", record.profile.timings.imagePullSeconds)
            for container in containers {
                let name = container["name"]?.stringValue ?? ""
                let image = container["image"]?.stringValue ?? ""
                let fieldPath = "spec.containers{\(name)}"
                self.recordEvent(
                    pod, reason: "Pulled",
                    message: "Successfully pulled image \"\(image)\" in \(pullTime) (\(pullTime) including waiting). Image size: 52428800 bytes.",
                    component: "kubelet", host: node, fieldPath: fieldPath)
            }
            self.startContainers(pod, &record)
        case .imagePullBackOff:
            let image = images.first ?? ""
            record.state = .waiting(reason: "ImagePullBackOff", message: "Back-off pulling image \"\(image)\"")
            self.writeStatus(record)
            self.recordEvent(
                pod, reason: "BackOff", message: "Back-off pulling image \"\(image)\"", component: "kubelet", host: node,
                fieldPath: "spec.containers{\(self.containerName(containers, image))}")
            let backOff = min(300, 10 * Double(1 << min(record.pullFailures - 1, 5)))
            self.schedulePodStep(.retryPull, &record, after: backOff, jitter: false)
        case .containersReady:
            record.containersReady = true
            self.writeStatus(record)
        case .crash:
            guard case .running(let startedAt) = record.state else { return }
            record.generation += 1  // cancels a pending containersReady
            record.lastTermination = (startedAt, self.now)
            record.restartCount += 1
            record.containersReady = false
            let backOff = min(300, 10 * Double(1 << min(record.restartCount - 1, 5)))
            let name = containers.first?["name"]?.stringValue ?? ""
            record.state = .waiting(
                reason: "CrashLoopBackOff",
                message: "back-off \(Int(backOff))s restarting failed container=\(name) pod=\(record.key.name)_\(record.key.namespace)(\(record.uid))")
            self.writeStatus(record)
            self.recordEvent(
                pod, type: "Warning", reason: "BackOff",
                message: "Back-off restarting failed container \(name) in pod \(record.key.name)_\(record.key.namespace)(\(record.uid))",
                component: "kubelet", host: node, fieldPath: "spec.containers{\(name)}")
            self.schedulePodStep(.restart, &record, after: backOff, jitter: false)
        case .restart:
            for container in containers {
                let name = container["name"]?.stringValue ?? ""
                self.recordEvent(
                    pod, reason: "Pulled",
                    message: "Container image \"\(container["image"]?.stringValue ?? "")\" already present on machine",
                    component: "kubelet", host: node, fieldPath: "spec.containers{\(name)}")
            }
            self.startContainers(pod, &record)
        case .nodeLost:
            record.generation += 1
            record.failed = true
            record.containersReady = false
            record.state = .terminated(reason: "NodeLost", exitCode: 137)
            self.writeStatus(record)
            self.recordEvent(
                pod, type: "Warning", reason: "NodeNotReady", message: "Node is not ready", component: "node-controller")
        case .terminated:
            record.terminated = true
            record.containersReady = false
            record.state = .terminated(reason: "Completed", exitCode: 0)
            self.finishTermination(&record)
        }
    }

    private func containerName(_ containers: [JSONValue], _ image: String) -> String {
        containers.first { $0["image"]?.stringValue == image }?["name"]?.stringValue ?? ""
    }

    private func startContainers(_ pod: JSONValue, _ record: inout PodRecord) {
        let node = record.node ?? ""
        if record.podIP == nil {
            self.nextPodIP += 1
            let nodeIndex = (self.nodeNames.firstIndex(of: node) ?? 0) + 1
            record.podIP = "10.244.\(nodeIndex).\(self.nextPodIP % 250 + 2)"
            if self.nextPodIP >= 250 {
                record.podIP = "10.\(100 + self.nextPodIP / 62500 % 100).\(self.nextPodIP / 250 % 250).\(self.nextPodIP % 250 + 2)"
            }
        }
        record.state = .running(startedAt: self.now)
        record.containersReady = false
        self.writeStatus(record)
        for container in pod[path: ["spec", "containers"]]?.arrayValue ?? [] {
            let name = container["name"]?.stringValue ?? ""
            let fieldPath = "spec.containers{\(name)}"
            self.recordEvent(pod, reason: "Created", message: "Created container: \(name)", component: "kubelet", host: node, fieldPath: fieldPath)
            self.recordEvent(pod, reason: "Started", message: "Started container \(name)", component: "kubelet", host: node, fieldPath: fieldPath)
        }
        let faults = record.profile.faults
        let timings = record.profile.timings
        if !faults.contains(.neverReady), !faults.contains(.crashLoop) || timings.startupSeconds < timings.crashAfterSeconds {
            self.schedulePodStep(.containersReady, &record, after: timings.startupSeconds)
        }
        if faults.contains(.crashLoop) {
            self.schedulePodStep(.crash, &record, after: timings.crashAfterSeconds)
        }
        if faults.contains(.nodeLost), record.restartCount == 0 {
            self.schedulePodStep(.nodeLost, &record, after: timings.failAfterSeconds)
        }
    }

    private func beginTermination(_ pod: JSONValue, _ record: inout PodRecord) {
        record.terminating = true
        record.generation += 1
        let grace = Double(pod[path: ["metadata", "deletionGracePeriodSeconds"]]?.intValue ?? 30)
        let node = record.node ?? ""
        if case .running = record.state {
            for container in pod[path: ["spec", "containers"]]?.arrayValue ?? [] {
                let name = container["name"]?.stringValue ?? ""
                self.recordEvent(
                    pod, reason: "Killing", message: "Stopping container \(name)", component: "kubelet", host: node,
                    fieldPath: "spec.containers{\(name)}")
            }
        }
        let seconds: Double
        switch record.state {
        case .running: seconds = record.profile.terminationSeconds(grace: grace)
        default: seconds = min(grace, 0.5)
        }
        self.schedulePodStep(.terminated, &record, after: seconds, jitter: false)
    }

    /// The containers have stopped: remove the pod, unless finalizers hold it.
    func finishTermination(_ record: inout PodRecord) {
        guard let pod = self.currentPod(record) else {
            self.pods[record.uid] = nil
            return
        }
        if !pod.finalizers.isEmpty {
            self.writeStatus(record)
            return
        }
        _ = try? self.store.remove(.pods, namespace: record.key.namespace, name: record.key.name, uid: record.uid)
    }
}
