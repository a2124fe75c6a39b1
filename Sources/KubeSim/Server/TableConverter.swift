import Foundation
import TritonJSON

/// Server-side printing: `meta.k8s.io/v1` Tables, as `kubectl get` asks for them, with the columns
/// the real server (and Kruise's CRD printer columns) show.
enum TableConverter {
    struct Column {
        var name: String
        var type: String
        var format: String = ""
        var priority = 0
        var description = ""
    }

    static func columns(_ type: ResourceType) -> [Column] {
        switch type {
        case .pods:
            return [
                Column(name: "Name", type: "string", format: "name", description: "Name must be unique within a namespace."),
                Column(name: "Ready", type: "string", description: "The aggregate readiness state of this pod for accepting traffic."),
                Column(name: "Status", type: "string", description: "The aggregate status of the containers in this pod."),
                Column(name: "Restarts", type: "string", description: "The number of times the containers in this pod have been restarted."),
                Column(name: "Age", type: "string", description: "CreationTimestamp"),
                Column(name: "IP", type: "string", priority: 1, description: "IP address allocated to the pod."),
                Column(name: "Node", type: "string", priority: 1, description: "Name of the node the pod is assigned to."),
                Column(name: "Nominated Node", type: "string", priority: 1, description: "Nominated node name."),
                Column(name: "Readiness Gates", type: "string", priority: 1, description: "Pod readiness gates."),
            ]
        case .cloneSets:
            return [
                Column(name: "Name", type: "string", format: "name", description: "Name must be unique within a namespace."),
                Column(name: "DESIRED", type: "integer", description: "The desired number of pods."),
                Column(name: "UPDATED", type: "integer", description: "The number of pods updated."),
                Column(name: "UPDATED_READY", type: "integer", description: "The number of pods updated and ready."),
                Column(name: "READY", type: "integer", description: "The number of pods ready."),
                Column(name: "TOTAL", type: "integer", description: "The number of currently all pods."),
                Column(name: "AGE", type: "date", description: "CreationTimestamp"),
                Column(name: "CONTAINERS", type: "string", priority: 1, description: "The containers of currently cloneset."),
                Column(name: "IMAGES", type: "string", priority: 1, description: "The images of currently cloneset."),
            ]
        case .events:
            return [
                Column(name: "Last Seen", type: "string", description: "Time when last event occurred"),
                Column(name: "Type", type: "string", description: "Type of this event"),
                Column(name: "Reason", type: "string", description: "Short, machine understandable string"),
                Column(name: "Object", type: "string", description: "Object this event is about"),
                Column(name: "Subobject", type: "string", priority: 1, description: "Subobject"),
                Column(name: "Source", type: "string", priority: 1, description: "Component reporting this event"),
                Column(name: "Message", type: "string", description: "A human-readable description"),
                Column(name: "First Seen", type: "string", priority: 1, description: "First seen"),
                Column(name: "Count", type: "string", priority: 1, description: "Times this event occurred"),
                Column(name: "Name", type: "string", format: "name", priority: 1, description: "Name"),
            ]
        case .services:
            return [
                Column(name: "Name", type: "string", format: "name"), Column(name: "Type", type: "string"),
                Column(name: "Cluster-IP", type: "string"), Column(name: "External-IP", type: "string"),
                Column(name: "Port(s)", type: "string"), Column(name: "Age", type: "string"),
                Column(name: "Selector", type: "string", priority: 1),
            ]
        case .endpoints:
            return [Column(name: "Name", type: "string", format: "name"), Column(name: "Endpoints", type: "string"), Column(name: "Age", type: "string")]
        case .namespaces:
            return [Column(name: "Name", type: "string", format: "name"), Column(name: "Status", type: "string"), Column(name: "Age", type: "string")]
        case .nodes:
            return [
                Column(name: "Name", type: "string", format: "name"), Column(name: "Status", type: "string"),
                Column(name: "Roles", type: "string"), Column(name: "Age", type: "string"), Column(name: "Version", type: "string"),
            ]
        case .leases:
            return [Column(name: "Name", type: "string", format: "name"), Column(name: "Holder", type: "string"), Column(name: "Age", type: "string")]
        default:
            return [Column(name: "Name", type: "string", format: "name"), Column(name: "Age", type: "string")]
        }
    }

    static func cells(_ type: ResourceType, _ o: JSONValue, now: Date) -> [JSONValue] {
        let age = JSONValue.string(self.age(o["metadata"]?["creationTimestamp"], now: now))
        switch type {
        case .pods:
            let statuses = o[path: ["status", "containerStatuses"]]?.arrayValue ?? []
            let total = o[path: ["spec", "containers"]]?.arrayValue?.count ?? 0
            let ready = statuses.filter { $0["ready"]?.boolValue == true }.count
            let restarts = statuses.reduce(0) { $0 + ($1["restartCount"]?.intValue ?? 0) }
            let gates = o[path: ["spec", "readinessGates"]]?.arrayValue ?? []
            let conditions = o[path: ["status", "conditions"]]?.arrayValue ?? []
            let trueGates = gates.filter { g in
                conditions.contains { $0["type"] == g["conditionType"] && $0["status"]?.stringValue == "True" }
            }.count
            return [
                .string(o.name), .string("\(ready)/\(total)"), .string(self.podStatus(o)), .string(String(restarts)), age,
                o[path: ["status", "podIP"]] ?? "<none>", o[path: ["spec", "nodeName"]] ?? "<none>", "<none>",
                gates.isEmpty ? "<none>" : .string("\(trueGates)/\(gates.count)"),
            ]
        case .cloneSets:
            let containers = o[path: ["spec", "template", "spec", "containers"]]?.arrayValue ?? []
            return [
                .string(o.name), o[path: ["spec", "replicas"]] ?? 0, o[path: ["status", "updatedReplicas"]] ?? 0,
                o[path: ["status", "updatedReadyReplicas"]] ?? 0, o[path: ["status", "readyReplicas"]] ?? 0,
                o[path: ["status", "replicas"]] ?? 0, age,
                .string(containers.compactMap { $0["name"]?.stringValue }.joined(separator: ",")),
                .string(containers.compactMap { $0["image"]?.stringValue }.joined(separator: ",")),
            ]
        case .events:
            let involved = o["involvedObject"] ?? .emptyObject
            let object = "\((involved["kind"]?.stringValue ?? "").lowercased())/\(involved["name"]?.stringValue ?? "")"
            var source = o[path: ["source", "component"]]?.stringValue ?? ""
            if let host = o[path: ["source", "host"]]?.stringValue, !host.isEmpty { source += ", \(host)" }
            return [
                .string(self.age(o["lastTimestamp"], now: now)), o["type"] ?? "", o["reason"] ?? "", .string(object),
                involved["fieldPath"] ?? "", .string(source), o["message"] ?? "", .string(self.age(o["firstTimestamp"], now: now)),
                .string(String(o["count"]?.intValue ?? 1)), .string(o.name),
            ]
        case .services:
            let ports = (o[path: ["spec", "ports"]]?.arrayValue ?? []).map {
                "\($0["port"]?.intValue ?? 0)/\($0["protocol"]?.stringValue ?? "TCP")"
            }
            let selector = (o[path: ["spec", "selector"]]?.objectValue ?? [:]).sorted { $0.key < $1.key }.map {
                "\($0.key)=\($0.value.stringValue ?? "")"
            }
            return [
                .string(o.name), o[path: ["spec", "type"]] ?? "ClusterIP", o[path: ["spec", "clusterIP"]] ?? "None", "<none>",
                .string(ports.isEmpty ? "<none>" : ports.joined(separator: ",")), age,
                .string(selector.isEmpty ? "<none>" : selector.joined(separator: ",")),
            ]
        case .endpoints:
            var addresses: [String] = []
            for subset in o["subsets"]?.arrayValue ?? [] {
                let ports = (subset["ports"]?.arrayValue ?? []).compactMap { $0["port"]?.intValue }
                for address in subset["addresses"]?.arrayValue ?? [] {
                    let ip = address["ip"]?.stringValue ?? ""
                    addresses += ports.isEmpty ? [ip] : ports.map { "\(ip):\($0)" }
                }
            }
            var text = addresses.prefix(3).joined(separator: ",")
            if addresses.count > 3 { text += " + \(addresses.count - 3) more..." }
            return [.string(o.name), .string(addresses.isEmpty ? "<none>" : text), age]
        case .namespaces:
            return [.string(o.name), o[path: ["status", "phase"]] ?? "Active", age]
        case .nodes:
            let ready = (o[path: ["status", "conditions"]]?.arrayValue ?? []).first { $0["type"]?.stringValue == "Ready" }
            return [.string(o.name), ready?["status"]?.stringValue == "True" ? "Ready" : "NotReady", "<none>", age, o[path: ["status", "nodeInfo", "kubeletVersion"]] ?? ""]
        case .leases:
            return [.string(o.name), o[path: ["spec", "holderIdentity"]] ?? "", age]
        default:
            return [.string(o.name), age]
        }
    }

    /// The STATUS column of `kubectl get pods`.
    static func podStatus(_ pod: JSONValue) -> String {
        var reason = pod[path: ["status", "reason"]]?.stringValue ?? pod[path: ["status", "phase"]]?.stringValue ?? "Pending"
        for cs in pod[path: ["status", "containerStatuses"]]?.arrayValue ?? [] {
            if let waiting = cs[path: ["state", "waiting", "reason"]]?.stringValue, !waiting.isEmpty {
                reason = waiting
            } else if let terminated = cs[path: ["state", "terminated"]] {
                reason = terminated["reason"]?.stringValue ?? "ExitCode:\(terminated["exitCode"]?.intValue ?? 0)"
            }
        }
        if pod.isTerminating {
            reason = pod[path: ["status", "reason"]]?.stringValue == "NodeLost" ? "Unknown" : "Terminating"
        }
        return reason
    }

    static func age(_ stamp: JSONValue?, now: Date) -> String {
        guard let text = stamp?.stringValue, let date = Timestamp.parse(text) else { return "<unknown>" }
        return Timestamp.age(since: date, now: now)
    }

    /// A Table of `objects`; `includeObject` is `None`, `Object` or `Metadata` (default).
    static func table(_ type: ResourceType, _ objects: [JSONValue], includeObject: String?, listMeta: JSONValue, now: Date, withHeaders: Bool = true)
        -> JSONValue
    {
        var table: JSONValue = ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": listMeta]
        table["columnDefinitions"] = withHeaders
            ? .array(
                self.columns(type).map {
                    [
                        "name": .string($0.name), "type": .string($0.type), "format": .string($0.format),
                        "description": .string($0.description), "priority": .int($0.priority),
                    ]
                }) : .array([])
        table["rows"] = .array(
            objects.map { o in
                var row: JSONValue = ["cells": .array(self.cells(type, o, now: now))]
                switch includeObject {
                case "None": break
                case "Object": row["object"] = o
                default:
                    row["object"] = ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"] ?? .emptyObject]
                }
                return row
            })
        return table
    }
}
