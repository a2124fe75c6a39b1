import Foundation

/// Prints an HTML page to PDF with headless Chromium (Debian's `chromium`), as a browser prints it: no
/// PDF is written by hand here.
public enum ReportPDF {
    public struct Unavailable: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// `$TRITON_CHROMIUM`, else the first of Debian's and other common names found.
    public static func browser() -> String? {
        if let given = ProcessInfo.processInfo.environment["TRITON_CHROMIUM"], !given.isEmpty { return given }
        return ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public static func render(html: String, timeout: Duration = .seconds(60)) async throws -> Data {
        guard let browser = Self.browser() else {
            throw Unavailable(description: "PDF needs Chromium (apt-get install chromium, or set TRITON_CHROMIUM): use html and print it instead")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("triton-pdf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("page.html")
        let output = directory.appendingPathComponent("page.pdf")
        try Data(html.utf8).write(to: input)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-pdf-header-footer",
            "--user-data-dir=\(directory.appendingPathComponent("profile").path)", "--print-to-pdf=\(output.path)", input.absoluteString,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let finished = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in finished.continuation.finish() }
        try process.run()
        let pid = process.processIdentifier
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            kill(pid, SIGKILL)
        }
        for await _ in finished.stream {}
        watchdog.cancel()
        guard process.terminationStatus == 0, let data = FileManager.default.contents(atPath: output.path), data.starts(with: Array("%PDF".utf8)) else {
            throw Unavailable(description: "Chromium did not print the PDF (exit \(process.terminationStatus))")
        }
        return data
    }
}
