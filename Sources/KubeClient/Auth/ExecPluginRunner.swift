import Foundation
import TritonJSON

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

    /// Starts the plugin with `posix_spawn` and reads its standard output until end of file or the deadline.
    ///
    /// Foundation's `Process` + `Pipe` is not used: its timeout could only signal the plugin while the read
    /// of its output kept waiting for end of file (a plugin sleeping 30 s held a 300 ms timeout for 30 s;
    /// in CI this became a 60-second test hang). Here the read itself has the deadline, a plugin that
    /// outlives it is killed, both pipe ends are close-on-exec (no other child can keep the pipe open),
    /// and the plugin gets only stdin (/dev/null), stdout (the pipe) and stderr (ours, as with kubectl).
    private static func launch(
        _ executable: String,
        arguments: [String],
        environment: [String: String],
        timeout: Duration
    ) async throws -> Output {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Output, any Error>) in
            let thread = Thread {
                continuation.resume(
                    with: Result {
                        try Self.spawnAndCollect(
                            executable,
                            arguments: arguments,
                            environment: environment,
                            timeout: timeout
                        )
                    }
                )
            }
            thread.name = "KubeClient.exec"
            thread.start()
        }
    }

    private static func spawnAndCollect(
        _ executable: String,
        arguments: [String],
        environment: [String: String],
        timeout: Duration
    ) throws -> Output {
        func failure(_ what: String, _ code: Int32) -> KubeError {
            KubeError(
                .execPluginFailed,
                "cannot start exec plugin \(executable)",
                underlying: LaunchFailure(description: "\(what): \(String(cString: strerror(code)))")
            )
        }
        var fds: [Int32] = [-1, -1]
        guard makePipe(&fds, O_CLOEXEC) == 0 else { throw failure("pipe", errno) }
        let readEnd = fds[0]
        var writeEnd = fds[1]
        defer {
            close(readEnd)
            if writeEnd >= 0 { close(writeEnd) }
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        _ = spawnCloseFrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        var result: Int32 = 0
        for _ in 0..<20 {
            result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            // A plugin being (re)written while another thread forks fails with ETXTBSY for a moment.
            guard result == ETXTBSY else { break }
            usleep(20_000)
        }
        guard result == 0 else { throw failure("posix_spawn", result) }
        close(writeEnd)
        writeEnd = -1

        let deadline = ContinuousClock.now + timeout
        var collected = Data()
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 16_384)
        reading: while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            if remaining <= .zero {
                timedOut = true
                break
            }
            var descriptor = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(clamping: max(1, remaining.milliseconds)))
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            if ready == 0 { continue }
            let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            switch count {
            case 0: break reading
            case ..<0 where errno == EINTR: continue
            case ..<0: break reading
            default: collected.append(contentsOf: buffer[0..<count])
            }
        }
        if timedOut { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if timedOut {
            throw KubeError(.execPluginFailed, "exec plugin \(executable) timed out after \(timeout)")
        }
        // WIFEXITED / WEXITSTATUS, which Swift does not import as macros.
        let exited = status & 0x7f == 0
        return Output(status: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), stdout: collected)
    }
}

/// glibc's `pipe2`, which its header only declares under `_GNU_SOURCE`: both ends are close-on-exec
/// from the start, so no child forked meanwhile can inherit them.
@_silgen_name("pipe2")
private func makePipe(_ fds: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32

/// glibc 2.34+ `posix_spawn_file_actions_addclosefrom_np`; its header only declares it under `_GNU_SOURCE`.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func spawnCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ lowest: Int32) -> Int32

private struct LaunchFailure: Error, CustomStringConvertible {
    var description: String
}
