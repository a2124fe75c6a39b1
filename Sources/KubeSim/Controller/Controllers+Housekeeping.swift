import TritonJSON

/// The endpoints controller, the garbage collector (owner references) and the namespace controller.
extension Controllers {
    // MARK: - Endpoints

    /// Endpoints list only Ready, non-terminating pods as `addresses`; others are `notReadyAddresses`.
    func reconcileEndpoints(namespace: String) {
        let services = self.store.all(.services, namespace: namespace)
        guard !services.isEmpty else { return }
        let pods = self.store.all(.pods, namespace: namespace)
        for service in services {
            guard let selectorObject = service[path: ["spec", "selector"]]?.objectValue, !selectorObject.isEmpty else { continue }
            let selector = LabelSelector(requirements: selectorObject.keys.sorted().map { .equals($0, selectorObject[$0]?.stringValue ?? "") })
            var ready: [JSONValue] = []
            var notReady: [JSONValue] = []
            for pod in pods.sorted(by: { $0.name < $1.name }) where selector.matches(pod.labels) {
                guard let ip = pod[path: ["status", "podIP"]]?.stringValue else { continue }
                let phase = pod[path: ["status", "phase"]]?.stringValue
                if phase == "Failed" || phase == "Succeeded" { continue }
                var address: JSONValue = [
                    "ip": .string(ip),
                    "targetRef": [
                        "kind": "Pod", "namespace": .string(namespace), "name": .string(pod.name), "uid": .string(pod.uid),
                    ],
                ]
                if let node = pod[path: ["spec", "nodeName"]]?.stringValue { address["nodeName"] = .string(node) }
                if self.isPodReady(pod), !pod.isTerminating { ready.append(address) } else { notReady.append(address) }
            }
            let ports: [JSONValue] = (service[path: ["spec", "ports"]]?.arrayValue ?? []).map { port in
                var p: JSONValue = [
                    "port": port["targetPort"]?.intValue.map { .int($0) } ?? port["port"] ?? 0,
                    "protocol": port["protocol"] ?? "TCP",
                ]
                if let name = port["name"] { p["name"] = name }
                return p
            }
            var subset: JSONValue = ["ports": .array(ports)]
            if !ready.isEmpty { subset["addresses"] = .array(ready) }
            if !notReady.isEmpty { subset["notReadyAddresses"] = .array(notReady) }
            let subsets: JSONValue = ready.isEmpty && notReady.isEmpty ? .array([]) : [subset]
            var labels = service[path: ["metadata", "labels"]] ?? .emptyObject
            labels["endpoints.kubernetes.io/managed-by"] = "endpoint-controller"
            if self.store.get(.endpoints, namespace: namespace, name: service.name) == nil {
                let endpoints: JSONValue = [
                    "metadata": ["name": .string(service.name), "namespace": .string(namespace), "labels": labels],
                    "subsets": subsets,
                ]
                _ = try? self.store.create(.endpoints, endpoints)
            } else {
                _ = try? self.store.update(.endpoints, namespace: namespace, name: service.name) { e in
                    e["subsets"] = subsets
                    e[path: ["metadata", "labels"]] = labels
                }
            }
        }
    }

    // MARK: - Garbage collection

    /// Deletes (in the background) the dependents of an owner that is gone.
    func collectGarbage(_ namespace: String, ownerUID: String, dependents known: Set<ObjectKey>) {
        var dependents: [(ResourceType, JSONValue)] = known.compactMap { key in
            self.store.get(.pods, namespace: key.namespace, name: key.name).map { (ResourceType.pods, $0) }
        }
        for revision in self.store.all(.controllerRevisions, namespace: namespace) where revision.ownerUIDs.contains(ownerUID) {
            dependents.append((.controllerRevisions, revision))
        }
        for (type, object) in dependents where object.ownerUIDs.contains(ownerUID) && !object.isTerminating {
            _ = try? self.api.delete(type, namespace: object.namespace, name: object.name, options: .init(uid: object.uid))
        }
    }

    /// Foreground and orphan deletion of an owner that carries those finalizers.
    func handleOwnerFinalizers(_ type: ResourceType, _ owner: JSONValue) {
        let finalizers = owner.finalizers
        let dependents = (self.podsByOwner[owner.uid] ?? []).compactMap {
            self.store.get(.pods, namespace: $0.namespace, name: $0.name)
        }.filter { $0.ownerUIDs.contains(owner.uid) }
        if finalizers.contains("orphan") {
            for pod in dependents {
                _ = try? self.store.update(.pods, namespace: pod.namespace, name: pod.name) { p in
                    let refs = (p[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).filter { $0["uid"]?.stringValue != owner.uid }
                    p[path: ["metadata", "ownerReferences"]] = refs.isEmpty ? nil : .array(refs)
                }
            }
            self.podsByOwner[owner.uid] = nil
            self.removeFinalizer("orphan", type, owner)
        } else if finalizers.contains("foregroundDeletion") {
            if dependents.isEmpty {
                self.removeFinalizer("foregroundDeletion", type, owner)
            } else {
                for pod in dependents where !pod.isTerminating {
                    _ = try? self.api.delete(.pods, namespace: pod.namespace, name: pod.name, options: .init(uid: pod.uid))
                }
            }
        }
    }

    private func removeFinalizer(_ finalizer: String, _ type: ResourceType, _ owner: JSONValue) {
        _ = try? self.store.update(type, namespace: owner.namespace, name: owner.name) { o in
            let remaining = o.finalizers.filter { $0 != finalizer }
            o[path: ["metadata", "finalizers"]] = remaining.isEmpty ? nil : .array(remaining.map { .string($0) })
        }
    }

    // MARK: - Namespaces

    /// Deletes everything in a terminating namespace, then the namespace.
    func reconcileTerminatingNamespace(_ name: String) {
        var remaining = 0
        for type in ResourceType.all where type.namespaced {
            for object in self.store.all(type, namespace: name) {
                remaining += 1
                if !object.isTerminating {
                    _ = try? self.api.delete(type, namespace: name, name: object.name, options: .init())
                }
            }
        }
        if remaining == 0 {
            _ = try? self.store.remove(.namespaces, namespace: "", name: name)
            self.terminatingNamespaces.remove(name)
        }
    }
}
