import Foundation
import Logging

/// A private PostgreSQL server started from the installed server binaries in a local data folder:
/// Triton's default when no `--database-url` is given. Durable settings (fsync on). When Triton runs
/// as root, the server runs as the unprivileged `postgres` user, since PostgreSQL refuses root.
public struct EmbeddedPostgres: Sendable {
    public struct Configuration: Sendable {
        /// Where the cluster lives. Defaults to `.triton/postgres` in the working directory.
        public var dataDirectory: String
        /// Loopback port. Defaults to `54320`.
        public var port: Int
        /// The PostgreSQL server binaries. Defaults to the newest `/usr/lib/postgresql/*/bin`.
        public var binDirectory: String?

        public init(dataDirectory: String = ".triton/postgres", port: Int = 54320, binDirectory: String? = nil) {
            self.dataDirectory = dataDirectory
            self.port = port
            self.binDirectory = binDirectory
        }
    }

    public let configuration: Configuration
    let logger: Logger

    public init(configuration: Configuration = .init(), logger: Logger = Logger(label: "triton.embedded-postgres")) {
        self.configuration = configuration
        self.logger = logger
    }

    private var root: String { URL(fileURLWithPath: self.configuration.dataDirectory).standardizedFileURL.path }
    private var dataPath: String { self.root + "/data" }
    private var socketPath: String { self.root + "/sock" }
    private var runsAsRoot: Bool { getuid() == 0 }

    /// The libpq connection string of the embedded server.
    public var url: String { "host=\(self.socketPath) port=\(self.configuration.port) dbname=triton user=postgres" }

    /// Initialises the cluster if needed and starts it unless it is already running. Returns its URL.
    @discardableResult
    public func start() throws -> String {
        let bin = try self.binDirectory()
        let fileManager = FileManager.default
        try fileManager.createDirectory(atPath: self.socketPath, withIntermediateDirectories: true)
        if self.runsAsRoot {
            try self.run("/bin/chown", ["-R", "postgres:postgres", self.root])
            try self.run("/bin/chmod", ["755", self.root])
            guard (try? self.run("/usr/sbin/runuser", ["-u", "postgres", "--", "test", "-w", self.root])) != nil else {
                throw EmbeddedPostgresError(
                    "data directory: the postgres user cannot reach \(self.root); choose one under a world-readable parent (e.g. /var/tmp/triton)"
                )
            }
        }
        if !fileManager.fileExists(atPath: self.dataPath + "/PG_VERSION") {
            self.logger.info("initialising PostgreSQL", metadata: ["dir": "\(self.dataPath)"])
            try self.runAsServerUser(bin + "/initdb", ["-D", self.dataPath, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"])
        }
        if (try? self.runAsServerUser(bin + "/pg_ctl", ["-D", self.dataPath, "status"])) == nil {
            self.logger.info("starting PostgreSQL", metadata: ["port": "\(self.configuration.port)"])
            let options = "-p \(self.configuration.port) -k \(self.socketPath) -c listen_addresses=127.0.0.1 -c max_connections=200"
            // The server outlives pg_ctl and may inherit its output: never wait on a pipe for it.
            try self.runAsServerUser(
                bin + "/pg_ctl", ["-D", self.dataPath, "-l", self.root + "/server.log", "-w", "-t", "60", "-o", options, "start"],
                captureOutput: false
            )
        }
        let hasDatabase = try self.runAsServerUser(
            bin + "/psql", ["-h", self.socketPath, "-p", "\(self.configuration.port)", "-U", "postgres", "-At", "-c",
                            "SELECT 1 FROM pg_database WHERE datname = 'triton'", "postgres"]
        )
        if hasDatabase.trimmingCharacters(in: .whitespacesAndNewlines) != "1" {
            try self.runAsServerUser(bin + "/createdb", ["-h", self.socketPath, "-p", "\(self.configuration.port)", "-U", "postgres", "triton"])
        }
        return self.url
    }

    /// Stops the server (fast shutdown).
    public func stop() throws {
        try self.runAsServerUser(try self.binDirectory() + "/pg_ctl", ["-D", self.dataPath, "-m", "fast", "-w", "stop"])
    }

    // MARK: - Private Methods -

    private func binDirectory() throws -> String {
        if let bin = self.configuration.binDirectory { return bin }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let newest = versions.compactMap(Int.init).max() else {
            throw EmbeddedPostgresError("PostgreSQL server binaries not found in /usr/lib/postgresql: install postgresql (ops/deps.sh does)")
        }
        return "/usr/lib/postgresql/\(newest)/bin"
    }

    @discardableResult
    private func runAsServerUser(_ tool: String, _ arguments: [String], captureOutput: Bool = true) throws -> String {
        if self.runsAsRoot {
            return try self.run("/usr/sbin/runuser", ["-u", "postgres", "--", tool] + arguments, captureOutput: captureOutput)
        }
        return try self.run(tool, arguments, captureOutput: captureOutput)
    }

    /// Runs a tool to its end and returns its output. Spawned and reaped here (posix_spawn, waitpid)
    /// rather than through Foundation's `Process`, whose exit monitoring missed the end of `runuser …
    /// pg_ctl start` (the server it leaves behind is a grandchild) and waited forever. The output goes
    /// to a file, never a pipe: the server outlives pg_ctl and may inherit its descriptors.
    @discardableResult
    private func run(_ tool: String, _ arguments: [String], captureOutput: Bool = true) throws -> String {
        let name = URL(fileURLWithPath: tool).lastPathComponent
        let outputPath = captureOutput ? FileManager.default.temporaryDirectory.appendingPathComponent("triton-pg-\(UUID().uuidString).out").path : "/dev/null"
        defer { if captureOutput { try? FileManager.default.removeItem(atPath: outputPath) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([tool] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, tool, &actions, nil, argv, environ)
        guard spawned == 0 else { throw EmbeddedPostgresError("\(name): cannot start \(tool): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw EmbeddedPostgresError("\(name): waitpid failed: \(String(cString: strerror(errno)))") }
        }
        let text = captureOutput ? ((try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "") : ""
        // WIFEXITED / WEXITSTATUS, spelled out (the C macros are not imported).
        let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        guard exitCode == 0 else {
            let detail = captureOutput ? text.trimmingCharacters(in: .whitespacesAndNewlines) : "see \(self.root)/server.log"
            throw EmbeddedPostgresError("\(name) \(arguments.first ?? "") failed (exit \(exitCode)): \(detail)")
        }
        return text
    }
}

public struct EmbeddedPostgresError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
