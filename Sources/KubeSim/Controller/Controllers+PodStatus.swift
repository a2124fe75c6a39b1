import Foundation
import TritonJSON

/// The pod status the simulated kubelet reports: phase, container statuses, conditions and readiness.
extension Controllers {
    /// Writes the pod status the kubelet would report, keeping conditions others own (readiness gates).
    func writeStatus(_ record: PodRecord) {
        _ = try? self.store.update(.pods, namespace: record.key.namespace, name: record.key.name) { pod in
            guard pod.uid == record.uid else { return }
            pod["status"] = self.renderStatus(record, pod: pod)
        }
    }

    func renderStatus(_ record: PodRecord, pod: JSONValue) -> JSONValue {
        let old = pod["status"] ?? .emptyObject
        let oldConditions = old["conditions"]?.arrayValue ?? []
        var status = old
        let containers = pod[path: ["spec", "containers"]]?.arrayValue ?? []
        let started: Bool
        switch record.state {
        case .running: started = true
        default: started = false
        }
        if record.failed {
            status["phase"] = "Failed"
            status["reason"] = "NodeLost"
            status["message"] = .string("Node \(record.node ?? "") which was running pod \(record.key.name) is unresponsive")
        } else if started || record.restartCount > 0 {
            status["phase"] = "Running"
        } else {
            status["phase"] = "Pending"
        }
        if let node = record.node, let index = self.nodeNames.firstIndex(of: node) {
            status["hostIP"] = .string("192.168.0.\(11 + index)")
            status["hostIPs"] = [["ip": .string("192.168.0.\(11 + index)")]]
        }
        if let ip = record.podIP {
            status["podIP"] = .string(ip)
            status["podIPs"] = [["ip": .string(ip)]]
        }
        if let startTime = record.startTime {
            status["startTime"] = .string(Timestamp.format(self.store.clock.date(at: startTime)))
        }
        let containersReady = record.containersReady && !record.failed
        var statuses: [JSONValue] = []
        for container in containers {
            let name = container["name"]?.stringValue ?? ""
            let image = container["image"]?.stringValue ?? ""
            var cs: JSONValue = [
                "name": .string(name), "image": .string(image), "ready": .bool(containersReady),
                "restartCount": .int(record.restartCount), "started": .bool(started), "lastState": .emptyObject,
                "imageID": "",
            ]
            switch record.state {
            case .waiting(let reason, let message):
                var waiting: JSONValue = ["reason": .string(reason)]
                if let message { waiting["message"] = .string(message) }
                cs["state"] = ["waiting": waiting]
            case .running(let startedAt):
                cs["state"] = ["running": ["startedAt": .string(Timestamp.format(self.store.clock.date(at: startedAt)))]]
                cs["imageID"] = .string("\(image)@sha256:\(String(repeating: "0", count: 64))")
                cs["containerID"] = .string("containerd://\(record.uid.replacingOccurrences(of: "-", with: ""))\(name)")
            case .crashed, .terminated:
                let (reason, code): (String, Int)
                if case .terminated(let r, let c) = record.state { (reason, code) = (r, c) } else { (reason, code) = ("Error", 1) }
                cs["state"] = ["terminated": ["reason": .string(reason), "exitCode": .int(code), "finishedAt": self.nowStamp]]
            }
            if let last = record.lastTermination {
                cs["lastState"] = [
                    "terminated": [
                        "exitCode": 1, "reason": "Error",
                        "startedAt": .string(Timestamp.format(self.store.clock.date(at: last.startedAt))),
                        "finishedAt": .string(Timestamp.format(self.store.clock.date(at: last.finishedAt))),
                    ]
                ]
            }
            statuses.append(cs)
        }
        if !containers.isEmpty, record.node != nil { status["containerStatuses"] = .array(statuses) }
        // Conditions.
        var conditions: [JSONValue] = []
        let owned: Set<String> = ["PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready", "PodScheduled"]
        func set(_ type: String, _ value: Bool, reason: String? = nil, message: String? = nil) {
            var c: JSONValue = ["type": .string(type), "status": value ? "True" : "False", "lastProbeTime": .null]
            let previous = oldConditions.first { $0["type"]?.stringValue == type }
            if let previous, previous["status"]?.stringValue == (value ? "True" : "False") {
                c["lastTransitionTime"] = previous["lastTransitionTime"] ?? self.nowStamp
            } else {
                c["lastTransitionTime"] = self.nowStamp
            }
            if let reason { c["reason"] = .string(reason) }
            if let message { c["message"] = .string(message) }
            conditions.append(c)
        }
        if record.node != nil {
            set("PodReadyToStartContainers", !record.failed)
            set("Initialized", true)
            let unready = containers.compactMap { $0["name"]?.stringValue }.joined(separator: " ")
            if containersReady {
                set("ContainersReady", true)
            } else {
                set("ContainersReady", false, reason: "ContainersNotReady", message: "containers with unready status: [\(unready)]")
            }
            let ready = Self.readiness(pod: pod, containersReady: containersReady, unready: unready, conditions: oldConditions)
            if record.failed {
                set("Ready", false, reason: "PodFailed", message: nil)
            } else {
                set("Ready", ready.ready, reason: ready.reason, message: ready.message)
            }
            set("PodScheduled", true)
        }
        for c in oldConditions where !owned.contains(c["type"]?.stringValue ?? "") { conditions.append(c) }
        if record.node == nil {
            conditions = oldConditions
        }
        status["conditions"] = .array(conditions)
        return status
    }

    /// Pod readiness per the "pod ready++" rules: containers ready and every readiness gate True.
    static func readiness(
        pod: JSONValue, containersReady: Bool, unready: String, conditions: [JSONValue]
    ) -> (ready: Bool, reason: String?, message: String?) {
        if !containersReady {
            return (false, "ContainersNotReady", "containers with unready status: [\(unready)]")
        }
        for gate in pod[path: ["spec", "readinessGates"]]?.arrayValue ?? [] {
            let type = gate["conditionType"]?.stringValue ?? ""
            guard let condition = conditions.first(where: { $0["type"]?.stringValue == type }) else {
                return (false, "ReadinessGatesNotReady", "corresponding condition of pod readiness gate \"\(type)\" does not exist.")
            }
            let status = condition["status"]?.stringValue ?? "Unknown"
            if status != "True" {
                return (false, "ReadinessGatesNotReady", "the status of pod readiness gate \"\(type)\" is not \"True\", but \(status)")
            }
        }
        return (true, nil, nil)
    }
}
