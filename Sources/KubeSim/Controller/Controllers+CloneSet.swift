import Foundation
import TritonJSON

/// The OpenKruise CloneSet controller (v1alpha1 semantics): scale, podsToDelete, partition,
/// maxSurge / maxUnavailable, paused, ReCreate updates, revisions and status.
extension Controllers {
    static let revisionLabel = "controller-revision-hash"
    static let templateHashLabel = "pod-template-hash"
    static let instanceIDLabel = "apps.kruise.io/cloneset-instance-id"
    static let lifecycleStateLabel = "lifecycle.apps.kruise.io/state"
    static let specifiedDeleteLabel = "apps.kruise.io/specified-delete"
    static let inPlaceUpdateReady = "InPlaceUpdateReady"

    func reconcileCloneSet(_ key: ObjectKey) {
        guard var cs = self.store.get(.cloneSets, namespace: key.namespace, name: key.name) else { return }
        if cs.isTerminating {
            self.handleOwnerFinalizers(.cloneSets, cs)
            return
        }
        let spec = cs["spec"] ?? .emptyObject
        guard let template = spec["template"], let selectorObject = spec["selector"],
            let selector = try? LabelSelector(object: selectorObject)
        else { return }
        let hash = CloneSetMath.revisionHash(template)
        let updateRevision = "\(cs.name)-\(hash)"
        self.ensureRevision(cs, name: updateRevision, hash: hash, template: template, selector: selectorObject)
        let replicas = spec["replicas"]?.intValue ?? 1
        let strategy = spec["updateStrategy"] ?? .emptyObject
        let paused = strategy["paused"]?.boolValue ?? false
        let minReadySeconds = Double(spec["minReadySeconds"]?.intValue ?? 0)
        var currentRevision = cs[path: ["status", "currentRevision"]]?.stringValue ?? ""
        if currentRevision.isEmpty { currentRevision = updateRevision }

        let owned = (self.podsByOwner[cs.uid] ?? []).sorted().compactMap { k -> JSONValue? in
            guard let pod = self.store.get(.pods, namespace: k.namespace, name: k.name), pod.controllerUID == cs.uid else {
                return nil
            }
            return pod
        }
        let active = owned.filter { pod in
            let phase = pod[path: ["status", "phase"]]?.stringValue
            return !pod.isTerminating && phase != "Failed" && phase != "Succeeded"
        }

        // podsToDelete: names are dropped once those pods no longer exist.
        var podsToDelete = (spec[path: ["scaleStrategy", "podsToDelete"]]?.arrayValue ?? []).compactMap(\.stringValue)
        let gone = podsToDelete.filter { self.store.get(.pods, namespace: cs.namespace, name: $0) == nil }
        if !gone.isEmpty {
            podsToDelete.removeAll { gone.contains($0) }
            let remaining = podsToDelete
            if case .updated(let updated)? = try? self.store.update(.cloneSets, namespace: cs.namespace, name: cs.name, mutate: { o in
                o[path: ["spec", "scaleStrategy", "podsToDelete"]] = remaining.isEmpty ? nil : .array(remaining.map { .string($0) })
            }) {
                cs = updated
            }
        }
        let specified = Set(podsToDelete)
        func isSpecifiedDelete(_ pod: JSONValue) -> Bool {
            specified.contains(pod.name) || pod.label(Self.specifiedDeleteLabel) == "true"
        }
        func isUpdated(_ pod: JSONValue) -> Bool { pod.label(Self.revisionLabel) == updateRevision }
        func isAvailable(_ pod: JSONValue) -> Bool { self.isPodAvailable(pod, minReadySeconds: minReadySeconds) }

        var inputs = CloneSetMath.Inputs(
            replicas: replicas, partition: strategy["partition"], maxSurge: strategy["maxSurge"],
            maxUnavailable: strategy["maxUnavailable"], scaleMaxUnavailable: spec[path: ["scaleStrategy", "maxUnavailable"]],
            paused: paused, sameRevision: currentRevision == updateRevision, newActive: 0, oldActive: 0, unavailableNew: 0,
            unavailableOld: 0, toDeleteNew: 0, toDeleteOld: 0)
        for pod in active {
            let updated = isUpdated(pod)
            if updated { inputs.newActive += 1 } else { inputs.oldActive += 1 }
            if isSpecifiedDelete(pod) {
                if updated { inputs.toDeleteNew += 1 } else { inputs.toDeleteOld += 1 }
            } else if !isAvailable(pod) {
                if updated { inputs.unavailableNew += 1 } else { inputs.unavailableOld += 1 }
            }
        }
        let d = CloneSetMath.diffs(inputs)
        let specifiedPods = active.filter(isSpecifiedDelete)

        var acted = false
        if d.scaleUpNum > 0 {
            let count = min(d.scaleUpNum, d.scaleUpLimit)
            let oldTemplate = currentRevision == updateRevision ? nil : self.revisionTemplate(cs.namespace, currentRevision)
            let oldCount = oldTemplate == nil ? 0 : min(d.scaleUpNumOldRevision, count)
            for i in 0..<count {
                if i < oldCount, let oldTemplate {
                    let oldHash = String(currentRevision.dropFirst(cs.name.count + 1))
                    self.createPod(cs, template: oldTemplate, revision: currentRevision, hash: oldHash)
                } else {
                    self.createPod(cs, template: template, revision: updateRevision, hash: hash)
                }
            }
            acted = count > 0
        } else if !specifiedPods.isEmpty {
            var readyBudget = d.deleteReadyLimit
            for pod in specifiedPods.sorted(by: self.deletionOrder) {
                if self.isPodReady(pod) {
                    guard readyBudget > 0 else { continue }
                    readyBudget -= 1
                }
                self.deletePod(cs, pod)
            }
            acted = true
        } else if d.scaleDownNum > 0 {
            let old = active.filter { !isUpdated($0) }.sorted(by: self.deletionOrder)
            let new = active.filter(isUpdated).sorted(by: self.deletionOrder)
            let fromOld = min(d.scaleDownNumOldRevision, d.scaleDownNum, old.count)
            var chosen = Array(old.prefix(fromOld))
            chosen += Array(new.prefix(d.scaleDownNum - fromOld))
            if chosen.count < d.scaleDownNum {
                chosen += Array(old.dropFirst(fromOld).prefix(d.scaleDownNum - chosen.count))
            }
            var readyBudget = d.deleteReadyLimit
            for pod in chosen {
                if self.isPodReady(pod) {
                    guard readyBudget > 0 else { continue }
                    readyBudget -= 1
                }
                self.deletePod(cs, pod)
            }
            acted = true
        }

        // ReCreate update: delete old-revision pods beyond the partition, within maxUnavailable.
        if !acted, !paused, d.updateNum > 0 {
            var unavailable = active.filter { !isSpecifiedDelete($0) && !isAvailable($0) }.count
            var updatedCount = 0
            for pod in active.filter({ !isUpdated($0) && !isSpecifiedDelete($0) }).sorted(by: self.deletionOrder) {
                if isAvailable(pod) {
                    if unavailable >= d.updateMaxUnavailable { break }
                    unavailable += 1
                }
                self.deletePod(cs, pod, reason: "update")
                updatedCount += 1
                if updatedCount >= d.updateNum { break }
            }
        }

        // Status.
        let updatedPods = active.filter(isUpdated)
        let readyCount = active.filter(self.isPodReady).count
        let availableCount = active.filter(isAvailable).count
        var status = cs["status"] ?? .emptyObject
        status["observedGeneration"] = cs[path: ["metadata", "generation"]] ?? 1
        status["replicas"] = .int(active.count)
        status["readyReplicas"] = .int(readyCount)
        status["availableReplicas"] = .int(availableCount)
        status["updatedReplicas"] = .int(updatedPods.count)
        status["updatedReadyReplicas"] = .int(updatedPods.filter(self.isPodReady).count)
        status["updatedAvailableReplicas"] = .int(updatedPods.filter(isAvailable).count)
        status["expectedUpdatedReplicas"] = .int(replicas - d.partition)
        status["updateRevision"] = .string(updateRevision)
        if updatedPods.count == active.count, active.count == replicas, !acted {
            currentRevision = updateRevision
        }
        status["currentRevision"] = .string(currentRevision)
        status["labelSelector"] = .string(selector.description)
        if status["collisionCount"] == nil { status["collisionCount"] = 0 }
        let newStatus = status
        _ = try? self.store.update(.cloneSets, namespace: cs.namespace, name: cs.name) { o in o["status"] = newStatus }

        // Pods that are Ready but not yet available for minReadySeconds need a later look.
        if minReadySeconds > 0 {
            for pod in active where self.isPodReady(pod) && !isAvailable(pod) {
                if let since = self.readySince(pod) {
                    self.timers.schedule(at: since + minReadySeconds + 0.001, .resyncCloneSet(key))
                }
            }
        }
    }

    // MARK: - Pods

    func isPodReady(_ pod: JSONValue) -> Bool {
        (pod[path: ["status", "conditions"]]?.arrayValue ?? []).contains {
            $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
        }
    }

    /// Simulated time at which the pod became Ready.
    func readySince(_ pod: JSONValue) -> Double? {
        guard
            let condition = (pod[path: ["status", "conditions"]]?.arrayValue ?? []).first(where: {
                $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
            }), let stamp = condition["lastTransitionTime"]?.stringValue, let date = Timestamp.parse(stamp)
        else { return nil }
        return self.store.clock.simTime(of: date)
    }

    func isPodAvailable(_ pod: JSONValue, minReadySeconds: Double) -> Bool {
        guard self.isPodReady(pod) else { return false }
        if minReadySeconds <= 0 { return true }
        guard let since = self.readySince(pod) else { return false }
        return since + minReadySeconds <= self.now + 0.0005
    }

    /// Kruise's scale-in ranking: unscheduled, Pending before Running, not ready before ready,
    /// lower deletion cost, ready for less time, more restarts, newer pods first.
    func deletionOrder(_ a: JSONValue, _ b: JSONValue) -> Bool {
        func key(_ p: JSONValue) -> [Double] {
            let scheduled = (p[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty ? 0.0 : 1.0
            let phase: Double
            switch p[path: ["status", "phase"]]?.stringValue {
            case "Pending": phase = 0
            case "Unknown": phase = 1
            default: phase = 2
            }
            let ready = self.isPodReady(p) ? 1.0 : 0.0
            let cost = Double(p.annotation("controller.kubernetes.io/pod-deletion-cost") ?? "0") ?? 0
            let readyFor = ready == 1 ? -(self.readySince(p) ?? 0) : 0
            let restarts = -Double(
                (p[path: ["status", "containerStatuses"]]?.arrayValue ?? []).reduce(0) { $0 + ($1["restartCount"]?.intValue ?? 0) })
            let created = -(Timestamp.parse(p[path: ["metadata", "creationTimestamp"]]?.stringValue ?? "")?.timeIntervalSince1970 ?? 0)
            return [scheduled, phase, ready, cost, readyFor, restarts, created]
        }
        let ka = key(a)
        let kb = key(b)
        if ka != kb { return ka.lexicographicallyPrecedes(kb) }
        return a.name > b.name
    }

    private func createPod(_ cs: JSONValue, template: JSONValue, revision: String, hash: String) {
        var name = ""
        var id = ""
        repeat {
            id = self.random.nameSuffix()
            name = "\(cs.name)-\(id)"
        } while self.store.get(.pods, namespace: cs.namespace, name: name) != nil
        var pod: JSONValue = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": template["metadata"] ?? .emptyObject,
            "spec": template["spec"] ?? .emptyObject,
        ]
        pod[path: ["metadata", "creationTimestamp"]] = nil
        pod[path: ["metadata", "name"]] = .string(name)
        pod[path: ["metadata", "namespace"]] = .string(cs.namespace)
        pod[path: ["metadata", "labels", Self.revisionLabel]] = .string(revision)
        pod[path: ["metadata", "labels", Self.templateHashLabel]] = .string(hash)
        pod[path: ["metadata", "labels", Self.instanceIDLabel]] = .string(id)
        pod[path: ["metadata", "labels", Self.lifecycleStateLabel]] = "Normal"
        pod[path: ["metadata", "ownerReferences"]] = [
            [
                "apiVersion": .string(ResourceType.cloneSets.apiVersion), "kind": "CloneSet", "name": .string(cs.name),
                "uid": .string(cs.uid), "controller": true, "blockOwnerDeletion": true,
            ]
        ]
        var gates = pod[path: ["spec", "readinessGates"]]?.arrayValue ?? []
        if !gates.contains(where: { $0["conditionType"]?.stringValue == Self.inPlaceUpdateReady }) {
            gates.append(["conditionType": .string(Self.inPlaceUpdateReady)])
        }
        pod[path: ["spec", "readinessGates"]] = .array(gates)
        Defaults.pod(&pod)
        pod[path: ["status", "conditions"]] = [
            ["type": .string(Self.inPlaceUpdateReady), "status": "True", "lastProbeTime": .null, "lastTransitionTime": self.nowStamp]
        ]
        do {
            let created = try self.store.create(.pods, pod)
            self.podsByOwner[cs.uid, default: []].insert(ObjectKey(created))
            self.recordEvent(cs, reason: "SuccessfulCreate", message: "succeed to create pod \(name)", component: "cloneset-controller")
        } catch {
            self.recordEvent(
                cs, type: "Warning", reason: "FailedCreate", message: "failed to create pod: \(error.kubeMessage)",
                component: "cloneset-controller")
        }
    }

    private func deletePod(_ cs: JSONValue, _ pod: JSONValue, reason: String = "scale") {
        do {
            _ = try self.api.delete(.pods, namespace: pod.namespace, name: pod.name, options: .init(uid: pod.uid))
            if reason == "update" {
                self.recordEvent(
                    cs, reason: "SuccessfulUpdatePodReCreate", message: "successfully update pod \(pod.name) recreate",
                    component: "cloneset-controller")
            } else {
                self.recordEvent(cs, reason: "SuccessfulDelete", message: "succeed to delete pod \(pod.name)", component: "cloneset-controller")
            }
        } catch {
            self.recordEvent(
                cs, type: "Warning", reason: "FailedDelete", message: "failed to delete pod \(pod.name): \(error.kubeMessage)",
                component: "cloneset-controller")
        }
    }

    // MARK: - Revisions

    private func ensureRevision(_ cs: JSONValue, name: String, hash: String, template: JSONValue, selector: JSONValue) {
        guard self.store.get(.controllerRevisions, namespace: cs.namespace, name: name) == nil else { return }
        let existing = self.store.all(.controllerRevisions, namespace: cs.namespace).filter { $0.controllerUID == cs.uid }
        let revisionNumber = (existing.compactMap { $0["revision"]?.intValue }.max() ?? 0) + 1
        var labels = selector["matchLabels"] ?? .emptyObject
        labels["controller.kubernetes.io/hash"] = .string(hash)
        var data = template
        data["$patch"] = "replace"
        let revision: JSONValue = [
            "metadata": [
                "name": .string(name), "namespace": .string(cs.namespace), "labels": labels,
                "ownerReferences": [
                    [
                        "apiVersion": .string(ResourceType.cloneSets.apiVersion), "kind": "CloneSet", "name": .string(cs.name),
                        "uid": .string(cs.uid), "controller": true, "blockOwnerDeletion": true,
                    ]
                ],
            ],
            "data": ["spec": ["template": data]],
            "revision": .int(revisionNumber),
        ]
        _ = try? self.store.create(.controllerRevisions, revision)
        // Keep revisionHistoryLimit old revisions (plus the ones pods still use).
        let limit = cs[path: ["spec", "revisionHistoryLimit"]]?.intValue ?? 10
        let inUse = Set(
            (self.podsByOwner[cs.uid] ?? []).compactMap {
                self.store.get(.pods, namespace: $0.namespace, name: $0.name)?.label(Self.revisionLabel)
            } + [cs[path: ["status", "currentRevision"]]?.stringValue ?? ""])
        let removable = existing.filter { !inUse.contains($0.name) }.sorted {
            ($0["revision"]?.intValue ?? 0) < ($1["revision"]?.intValue ?? 0)
        }
        if removable.count > limit {
            for old in removable.prefix(removable.count - limit) {
                _ = try? self.store.remove(.controllerRevisions, namespace: old.namespace, name: old.name)
            }
        }
    }

    func revisionTemplate(_ namespace: String, _ revision: String) -> JSONValue? {
        guard var template = self.store.get(.controllerRevisions, namespace: namespace, name: revision)?[path: ["data", "spec", "template"]]
        else { return nil }
        template["$patch"] = nil
        return template
    }
}

extension Error {
    /// The message of a ``KubeAPIError``, or a description of any other error.
    var kubeMessage: String {
        if let e = self as? KubeAPIError { return e.message }
        return "\(self)"
    }
}
