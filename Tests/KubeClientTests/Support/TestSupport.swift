import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TritonJSON

@testable import KubeClient

/// A temporary directory removed when the value is released.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        let path = NSTemporaryDirectory() + "kubeclient-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        self.path = path
    }

    deinit { try? FileManager.default.removeItem(atPath: self.path) }

    @discardableResult
    func write(_ name: String, _ text: String, executable: Bool = false) throws -> String {
        let file = self.path + "/" + name
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file) }
        return file
    }

    func read(_ name: String) throws -> String { try String(contentsOfFile: self.path + "/" + name, encoding: .utf8) }
}

/// Runs a command to completion (test set-up only) and fails the test when it fails.
@discardableResult
func runCommand(_ executable: String, _ arguments: [String], in directory: String) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw TestFailure("\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
    }
    return process.terminationStatus
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The fake API server (Python), started per test and stopped by `stop()` (and by itself after its lifetime).
final class FakeAPIServer: Sendable {
    let process: ProcessHandle
    let port: Int
    let scheme: String
    let directory: TemporaryDirectory

    var url: String { "\(self.scheme)://127.0.0.1:\(self.port)" }

    struct ProcessHandle: @unchecked Sendable {
        let process: Process
    }

    static func start(
        certificates: TestCertificates? = nil,
        requireToken: String? = nil,
        lifetime: Int = 90
    ) async throws -> FakeAPIServer {
        let directory = try TemporaryDirectory()
        let script = try directory.write("server.py", FakeAPIServerScript.source)
        let portFile = directory.path + "/port"
        var arguments = [script, "--port-file", portFile, "--lifetime", String(lifetime)]
        if let certificates {
            arguments += ["--cert", certificates.file("server.crt"), "--key", certificates.file("server.key")]
            arguments += ["--client-ca", certificates.file("ca.crt")]
        }
        if let requireToken { arguments += ["--token", requireToken] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = arguments
        try process.run()
        for _ in 0..<100 {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) {
                return FakeAPIServer(
                    process: ProcessHandle(process: process),
                    port: port,
                    scheme: certificates == nil ? "http" : "https",
                    directory: directory
                )
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        throw TestFailure("the fake API server did not start")
    }

    private init(process: ProcessHandle, port: Int, scheme: String, directory: TemporaryDirectory) {
        self.process = process
        self.port = port
        self.scheme = scheme
        self.directory = directory
    }

    func stop() {
        if self.process.process.isRunning { self.process.process.terminate() }
    }

    deinit { self.stop() }

    /// How many requests `METHOD /path` the server has seen.
    func count(_ key: String, client: KubeClient) async throws -> Int {
        let data = try await client.send(KubeClient.Call(method: "GET", path: "/_count", query: [("key", key)]))
        return try JSONValue(jsonData: data)["count"]?.intValue ?? -1
    }
}

/// A CA, a server certificate for 127.0.0.1 / localhost / kube.test, a client certificate for `alice`, and an
/// unrelated CA — generated once per test run with the openssl CLI (EC keys: fast).
final class TestCertificates: Sendable {
    let directory: TemporaryDirectory

    static let shared: Result<TestCertificates, any Error> = Result { try TestCertificates() }

    static func get() throws -> TestCertificates { try self.shared.get() }

    private init() throws {
        self.directory = try TemporaryDirectory()
        let dir = self.directory.path
        let openssl = "/usr/bin/openssl"
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try self.directory.write("server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kube.test\n")
        try self.directory.write("client.ext", "extendedKeyUsage=clientAuth\n")
        for ca in ["ca", "wrong-ca"] {
            try runCommand(
                openssl,
                ["req", "-x509"] + ec + ["-keyout", "\(ca).key", "-out", "\(ca).crt", "-days", "2", "-subj", "/CN=\(ca)"],
                in: dir
            )
        }
        for (name, subject) in [("server", "/CN=kube-apiserver"), ("client", "/O=system:masters/CN=alice")] {
            try runCommand(openssl, ["req"] + ec + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject], in: dir)
            try runCommand(
                openssl,
                [
                    "x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                    "-out", "\(name).crt", "-days", "2", "-extfile", "\(name).ext",
                ],
                in: dir
            )
        }
    }

    func file(_ name: String) -> String { self.directory.path + "/" + name }

    func data(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: self.file(name))) }
}
