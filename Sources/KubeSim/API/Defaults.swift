import TritonJSON

/// Defaulting of incoming objects, as the real API server (and Kruise's webhook) does.
enum Defaults {
    static func podSpec(_ spec: inout JSONValue) {
        if spec["restartPolicy"] == nil { spec["restartPolicy"] = "Always" }
        if spec["terminationGracePeriodSeconds"] == nil { spec["terminationGracePeriodSeconds"] = 30 }
        if spec["dnsPolicy"] == nil { spec["dnsPolicy"] = "ClusterFirst" }
        if spec["schedulerName"] == nil { spec["schedulerName"] = "default-scheduler" }
        if spec["securityContext"] == nil { spec["securityContext"] = .emptyObject }
        for list in ["containers", "initContainers"] {
            guard var containers = spec[list]?.arrayValue else { continue }
            for i in containers.indices {
                var c = containers[i]
                if c["imagePullPolicy"] == nil {
                    let image = c["image"]?.stringValue ?? ""
                    let tag = self.imageTag(image)
                    c["imagePullPolicy"] = (tag == nil || tag == "latest") ? "Always" : "IfNotPresent"
                }
                if c["terminationMessagePath"] == nil { c["terminationMessagePath"] = "/dev/termination-log" }
                if c["terminationMessagePolicy"] == nil { c["terminationMessagePolicy"] = "File" }
                if c["resources"] == nil { c["resources"] = .emptyObject }
                if var ports = c["ports"]?.arrayValue {
                    for p in ports.indices where ports[p]["protocol"] == nil { ports[p]["protocol"] = "TCP" }
                    c["ports"] = .array(ports)
                }
                containers[i] = c
            }
            spec[list] = .array(containers)
        }
    }

    /// The tag of an image reference (`reg/app:v2` → `v2`), nil when it has none.
    static func imageTag(_ image: String) -> String? {
        let withoutDigest = image.split(separator: "@").first.map(String.init) ?? image
        let lastComponent = withoutDigest.split(separator: "/").last.map(String.init) ?? withoutDigest
        guard let colon = lastComponent.lastIndex(of: ":") else { return nil }
        return String(lastComponent[lastComponent.index(after: colon)...])
    }

    static func pod(_ pod: inout JSONValue) {
        var spec = pod["spec"] ?? .emptyObject
        self.podSpec(&spec)
        if spec["serviceAccountName"] == nil { spec["serviceAccountName"] = "default" }
        if spec["serviceAccount"] == nil { spec["serviceAccount"] = spec["serviceAccountName"] }
        if spec["enableServiceLinks"] == nil { spec["enableServiceLinks"] = true }
        if spec["priority"] == nil { spec["priority"] = 0 }
        if spec["preemptionPolicy"] == nil { spec["preemptionPolicy"] = "PreemptLowerPriority" }
        if spec["tolerations"] == nil {
            spec["tolerations"] = [
                [
                    "key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                    "tolerationSeconds": 300,
                ],
                [
                    "key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                    "tolerationSeconds": 300,
                ],
            ]
        }
        pod["spec"] = spec
        pod["status"] = ["phase": "Pending", "qosClass": "BestEffort"]
    }

    static func cloneSet(_ cs: inout JSONValue) {
        var spec = cs["spec"] ?? .emptyObject
        if spec["replicas"] == nil { spec["replicas"] = 1 }
        if spec["revisionHistoryLimit"] == nil { spec["revisionHistoryLimit"] = 10 }
        var strategy = spec["updateStrategy"] ?? .emptyObject
        if strategy["type"] == nil { strategy["type"] = "ReCreate" }
        if strategy["partition"] == nil { strategy["partition"] = 0 }
        if strategy["maxUnavailable"] == nil { strategy["maxUnavailable"] = "20%" }
        if strategy["maxSurge"] == nil { strategy["maxSurge"] = 0 }
        spec["updateStrategy"] = strategy
        if spec["scaleStrategy"] == nil { spec["scaleStrategy"] = .emptyObject }
        if var template = spec["template"] {
            var podSpec = template["spec"] ?? .emptyObject
            self.podSpec(&podSpec)
            template["spec"] = podSpec
            spec["template"] = template
        }
        cs["spec"] = spec
    }

    static func namespace(_ ns: inout JSONValue) {
        ns["spec"] = ["finalizers": ["kubernetes"]]
        ns["status"] = ["phase": "Active"]
        ns[path: ["metadata", "labels", "kubernetes.io/metadata.name"]] = .string(ns.name)
    }

    static func service(_ svc: inout JSONValue, clusterIP: String) {
        var spec = svc["spec"] ?? .emptyObject
        if spec["type"] == nil { spec["type"] = "ClusterIP" }
        if spec["sessionAffinity"] == nil { spec["sessionAffinity"] = "None" }
        if spec["clusterIP"] == nil || spec["clusterIP"]?.stringValue == "" {
            spec["clusterIP"] = .string(clusterIP)
            spec["clusterIPs"] = [.string(clusterIP)]
        }
        if spec["ipFamilies"] == nil { spec["ipFamilies"] = ["IPv4"] }
        if spec["ipFamilyPolicy"] == nil { spec["ipFamilyPolicy"] = "SingleStack" }
        if spec["internalTrafficPolicy"] == nil { spec["internalTrafficPolicy"] = "Cluster" }
        if var ports = spec["ports"]?.arrayValue {
            for i in ports.indices {
                if ports[i]["protocol"] == nil { ports[i]["protocol"] = "TCP" }
                if ports[i]["targetPort"] == nil { ports[i]["targetPort"] = ports[i]["port"] }
            }
            spec["ports"] = .array(ports)
        }
        svc["spec"] = spec
        svc["status"] = ["loadBalancer": .emptyObject]
    }
}
