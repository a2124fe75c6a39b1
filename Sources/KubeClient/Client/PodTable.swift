import Foundation
import TritonJSON

/// Renders pods the way `kubectl get pods` does, for the `triton kube get pods` diagnostic command.
public enum PodTable {
    /// `NAME  READY  STATUS  RESTARTS  AGE` rows, columns padded to fit.
    /// - Parameter now: The time ages are measured from.
    public static func render(_ pods: [Pod], now: Date = Date()) -> String {
        var rows = [["NAME", "READY", "STATUS", "RESTARTS", "AGE"]]
        for pod in pods.sorted(by: { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }) {
            let statuses = pod.json[path: ["status", "containerStatuses"]]?.arrayValue ?? []
            let containers = pod.json[path: ["spec", "containers"]]?.arrayValue?.count ?? statuses.count
            let ready = statuses.filter { $0["ready"]?.boolValue == true }.count
            var status = pod.phase ?? "Unknown"
            if pod.metadata.deletionTimestamp != nil { status = "Terminating" }
            let created = pod.metadata.creationTimestamp.flatMap(ExecCredential.parseTimestamp)
            rows.append([
                pod.metadata.name ?? "",
                "\(ready)/\(containers)",
                status,
                String(pod.restartCount),
                created.map { Self.age(now.timeIntervalSince($0)) } ?? "<unknown>",
            ])
        }
        var widths = [Int](repeating: 0, count: 5)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index] + 3, withPad: " ", startingAt: 0)
            }.joined()
        }.joined(separator: "\n")
    }

    /// kubectl-style short ages: `45s`, `3m`, `5h`, `2d`.
    public static func age(_ seconds: TimeInterval) -> String {
        let value = max(0, Int(seconds))
        if value < 120 { return "\(value)s" }
        if value < 7200 { return "\(value / 60)m" }
        if value < 172_800 { return "\(value / 3600)h" }
        return "\(value / 86400)d"
    }
}
