import Foundation
import Synchronization

/// Runs an exec credential plugin on its own thread (never on the cooperative pool) and returns its output.
enum ExecPluginRunner {
    struct Output: Sendable {
        var status: Int32
        var stdout: Data
    }

    static func run(_ config: ExecConfig, timeout: Duration) async throws -> ExecCredential {
        let executable = try Self.resolveCommand(config)
        var environment = ProcessInfo.processInfo.environment
        for (name, value) in config.env { environment[name] = value }
        environment["KUBERNETES_EXEC_INFO"] = try Self.execInfo(config).jsonString
        if config.interactiveMode == .always {
            throw KubeError(
                .execPluginFailed,
                "exec plugin \(config.command) requires an interactive terminal (interactiveMode: Always)"
            )
        }
        let output = try await Self.launch(executable, arguments: config.args, environment: environment, timeout: timeout)
        guard output.status == 0 else {
            throw KubeError(.execPluginFailed, "exec plugin \(config.command) exited with status \(output.status)")
        }
        return try ExecCredential(
            output: output.stdout,
            expectedAPIVersion: config.apiVersion,
            command: config.command,
            now: Date()
        )
    }

    static func execInfo(_ config: ExecConfig) throws -> JSONValue {
        var spec: JSONValue = ["interactive": false]
        if config.provideClusterInfo, let cluster = config.clusterInfo {
            var info: JSONValue = ["server": .string(cluster.server)]
            if let data = cluster.certificateAuthorityData {
                info["certificate-authority-data"] = .string(data.base64EncodedString())
            }
            if cluster.insecureSkipTLSVerify { info["insecure-skip-tls-verify"] = true }
            if let name = cluster.tlsServerName { info["tls-server-name"] = .string(name) }
            spec["cluster"] = info
        }
        return ["apiVersion": .string(config.apiVersion), "kind": "ExecCredential", "spec": spec]
    }

    static func resolveCommand(_ config: ExecConfig) throws -> String {
        let command = config.command
        let hint = config.installHint.map { " \($0)" } ?? ""
        if command.contains("/") {
            let path = KubeConfig.absolutePath(command, relativeTo: config.baseDirectory)
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw KubeError(.execPluginFailed, "exec plugin \(path) is not an executable file.\(hint)")
            }
            return path
        }
        let searchPath = config.env["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in searchPath.split(separator: ":") {
            let candidate = "\(directory)/\(command)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw KubeError(.execPluginFailed, "exec plugin \(command) was not found in PATH.\(hint)")
    }

    private static func launch(
        _ executable: String,
        arguments: [String],
        environment: [String: String],
        timeout: Duration
    ) async throws -> Output {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Output, any Error>) in
            let thread = Thread {
                var process: Process
                var stdout: Pipe
                var attempt = 0
                while true {
                    process = Process()
                    process.executableURL = URL(fileURLWithPath: executable)
                    process.arguments = arguments
                    process.environment = environment
                    stdout = Pipe()
                    process.standardOutput = stdout
                    process.standardInput = FileHandle.nullDevice
                    // stderr goes to ours, as with kubectl, so the plugin's own messages reach the user.
                    do {
                        try process.run()
                        break
                    } catch let error as NSError
                        where error.domain == NSPOSIXErrorDomain && error.code == Int(ETXTBSY) && attempt < 20
                    {
                        // A plugin being (re)written while another thread forks fails with ETXTBSY for a moment.
                        attempt += 1
                        Thread.sleep(forTimeInterval: 0.02)
                    } catch {
                        continuation.resume(
                            throwing: KubeError(
                                .execPluginFailed,
                                "cannot start exec plugin \(executable)",
                                underlying: LaunchFailure(description: String(describing: error))
                            )
                        )
                        return
                    }
                }
                let deadline = DispatchTime.now() + .milliseconds(timeout.milliseconds)
                let box = ProcessBox(process: process)
                DispatchQueue.global().asyncAfter(deadline: deadline) {
                    if box.process.isRunning {
                        box.timedOut.withLock { $0 = true }
                        box.process.terminate()
                    }
                }
                let data = stdout.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                if box.timedOut.withLock({ $0 }) {
                    continuation.resume(
                        throwing: KubeError(.execPluginFailed, "exec plugin \(executable) timed out after \(timeout)")
                    )
                } else {
                    continuation.resume(returning: Output(status: process.terminationStatus, stdout: data))
                }
            }
            thread.name = "KubeClient.exec"
            thread.start()
        }
    }
}

private struct LaunchFailure: Error, CustomStringConvertible {
    var description: String
}

/// `Process` is not `Sendable`; the timeout handler only calls its thread-safe `isRunning` / `terminate()`.
private final class ProcessBox: @unchecked Sendable {
    let process: Process
    let timedOut = Mutex(false)
    init(process: Process) { self.process = process }
}
