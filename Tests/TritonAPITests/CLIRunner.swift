import Foundation

/// The `triton` CLI against a test API, as a user runs it: `--api-server` and a token file per user.
struct CLIRunner {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String

        /// Standard output as a JSON object (`--output json`).
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(self.stdout.utf8))) as? [String: Any] ?? [:] }
    }

    /// The test runner sits next to the executable in .build/<configuration>/.
    static let binary: URL = {
        if let path = ProcessInfo.processInfo.environment["TRITON_BINARY"] { return URL(fileURLWithPath: path) }
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        return runner.deletingLastPathComponent().appendingPathComponent("triton")
    }()

    let server: String
    let directory: URL

    init(port: Int) throws {
        self.server = "http://127.0.0.1:\(port)"
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("triton-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
    }

    /// Runs `triton arguments…` as the holder of `token`.
    func run(_ arguments: [String], token: String) async throws -> Result {
        let tokenFile = self.directory.appendingPathComponent("token-\(token)")
        try Data(token.utf8).write(to: tokenFile)
        let id = UUID().uuidString
        let outPath = self.directory.appendingPathComponent("\(id).out").path
        let errPath = self.directory.appendingPathComponent("\(id).err").path
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments + ["--api-server", self.server, "--token-file", tokenFile.path]
        var environment = ProcessInfo.processInfo.environment
        environment["TRITON_CONFIG"] = self.directory.appendingPathComponent("config.json").path
        process.environment = environment
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { process in continuation.resume(returning: process.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        try out.close()
        try err.close()
        return Result(
            status: status, stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        )
    }
}
