import Foundation
import Testing

/// A `triton` process running in the background (serve, sim), its output going to a file so that no
/// pipe can hold anything up; stopped by its pid.
final class BackgroundProcess: @unchecked Sendable {
    let process = Process()
    let logPath: String

    init(_ arguments: [String], environment: [String: String] = [:], log: String) throws {
        self.logPath = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        self.process.executableURL = CLITests.binary
        self.process.arguments = arguments
        self.process.environment = CLITests.environment(environment)
        self.process.standardOutput = handle
        self.process.standardError = handle
        self.process.standardInput = FileHandle.nullDevice
        try self.process.run()
        try handle.close()
    }

    deinit {
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
    }

    var output: String { (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? "" }
    var isRunning: Bool { self.process.isRunning }

    /// Waits until the output contains `text`, or fails after `timeout`.
    func waitFor(_ text: String, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !self.output.contains(text) {
            guard ContinuousClock.now < deadline, self.process.isRunning else {
                Issue.record("'\(text)' did not appear; output:\n\(self.output)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Sends `signal` and waits for the process to end; returns its exit status.
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM, timeout: Duration = .seconds(30)) async throws -> Int32 {
        if self.process.isRunning { kill(self.process.processIdentifier, signal) }
        let deadline = ContinuousClock.now + timeout
        while self.process.isRunning {
            guard ContinuousClock.now < deadline else {
                kill(self.process.processIdentifier, SIGKILL)
                Issue.record("the process did not stop within \(timeout) of signal \(signal)")
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        self.process.waitUntilExit()
        return self.process.terminationStatus
    }
}

extension CLITests {
    /// Runs `triton` with extra environment variables. Waits without blocking a thread of the
    /// cooperative pool (other suites' tests run meanwhile), with output going to files so that no
    /// pipe can fill up or be held open by another child.
    /// The test process's environment with `environment` over it. A `serve` records the CLI context in
    /// `TRITON_CONFIG`: tests that do not name one get a file of this test run, never the user's.
    static func environment(_ environment: [String: String]) -> [String: String] {
        var merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if environment["TRITON_CONFIG"] == nil {
            merged["TRITON_CONFIG"] = FileManager.default.temporaryDirectory.appendingPathComponent("triton-tests-\(getpid())-config.json").path
        }
        return merged
    }

    static func triton(_ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
        try await Self.run(Self.binary, arguments, environment: environment)
    }

    static func run(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("triton-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outPath = directory.appendingPathComponent("out").path
        let errPath = directory.appendingPathComponent("err").path
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = CLITests.environment(environment)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { process in continuation.resume(returning: process.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        try out.close()
        try err.close()
        return Result(
            status: status,
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        )
    }
}
