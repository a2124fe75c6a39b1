import Foundation

/// What a running `triton serve` tells the CLI on this machine: where its event log and its cluster
/// are. Written at start to `.triton/serve.json` (in the working directory), removed at a graceful
/// stop; a file left by a killed server is ignored once its process is gone (or its pid belongs to
/// another process since: the start time recorded with it differs).
struct ServeState: Codable, Sendable {
    var pid: Int32
    /// When the process started (`/proc/<pid>/stat` field 22, clock ticks since boot), to tell it from a
    /// later process given the same pid.
    var processStart: UInt64?
    var databaseURL: String
    var schema: String
    /// The API server of the in-process simulated cluster, when serve runs one.
    var kubeServer: String?
    /// The kubeconfig serve was given, when it drives a real cluster.
    var kubeconfig: String?
    var context: String?

    static let defaultPath = ".triton/serve.json"

    static var path: String { ProcessInfo.processInfo.environment["TRITON_SERVE_STATE"] ?? Self.defaultPath }

    func write(to path: String = Self.path) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(self).write(to: url, options: .atomic)
    }

    /// The state of a live server, if there is one.
    static func current(at path: String = Self.path) -> ServeState? {
        guard let data = FileManager.default.contents(atPath: path),
            let state = try? JSONDecoder().decode(ServeState.self, from: data)
        else { return nil }
        guard kill(state.pid, 0) == 0 || errno == EPERM else { return nil }
        if let recorded = state.processStart, let now = Self.processStart(state.pid), now != recorded { return nil }
        return state
    }

    /// The start time of a process (`/proc/<pid>/stat` field 22), or `nil` when it cannot be read.
    static func processStart(_ pid: Int32) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)" come the fields from 3 (state) on; starttime is field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }

    static func remove(at path: String = Self.path, ifOwnedBy pid: Int32) {
        guard let data = FileManager.default.contents(atPath: path),
            let state = try? JSONDecoder().decode(ServeState.self, from: data), state.pid == pid
        else { return }
        try? FileManager.default.removeItem(atPath: path)
    }
}
