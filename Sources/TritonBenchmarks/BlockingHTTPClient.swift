import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A minimal blocking HTTP/1.1 client over one keep-alive TCP connection, for the benchmark.
/// It runs on its own thread, never on the cooperative pool.
///
/// `@unchecked Sendable`: the read buffer is only touched by the one thread that issues requests
/// or reads a stream at a time (the benchmark hands a client from the thread that opens it to the
/// thread that reads it, never concurrently); ``shutdownConnection()`` is a single `shutdown(2)`
/// call on the descriptor, which is safe from any thread and is how a blocked reader is released.
final class BlockingHTTPClient: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let fd: Int32
    private var buffer: [UInt8] = []

    init(host: String, port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw Failure(description: "connect() failed")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        self.fd = fd
    }

    deinit { close(self.fd) }

    /// Sends a request and reads the whole response; returns status and body.
    func request(_ method: String, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json") throws -> (
        Int, [UInt8]
    ) {
        try self.send(method, path, body: body, contentType: contentType)
        let (status, headers) = try self.readHead()
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            var body: [UInt8] = []
            while let chunk = try self.readChunk() { body += chunk }
            return (status, body)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        return (status, try self.read(count: length))
    }

    /// Starts a streaming request (a watch); read it with ``readChunk()``.
    func startStream(_ path: String) throws -> Int {
        try self.send("GET", path, body: nil, contentType: "application/json")
        return try self.readHead().0
    }

    func send(_ method: String, _ path: String, body: [UInt8]?, contentType: String) throws {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
        if let body { head += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n" }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if let body { bytes += body }
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(self.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send() failed") }
            sent += n
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw Failure(description: "connection closed") }
        self.buffer += chunk[0..<n]
    }

    private func readLine() throws -> String {
        while true {
            if let i = self.buffer.firstIndex(of: 0x0A) {
                let line = self.buffer[0..<i]
                self.buffer.removeFirst(i + 1)
                return String(decoding: line.last == 0x0D ? line.dropLast() : line, as: UTF8.self)
            }
            try self.fill()
        }
    }

    private func read(count: Int) throws -> [UInt8] {
        while self.buffer.count < count { try self.fill() }
        let out = Array(self.buffer[0..<count])
        self.buffer.removeFirst(count)
        return out
    }

    private func readHead() throws -> (Int, [String: String]) {
        let statusLine = try self.readLine()
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw Failure(description: "bad status line \(statusLine)") }
        var headers: [String: String] = [:]
        while true {
            let line = try self.readLine()
            if line.isEmpty { break }
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            }
        }
        return (status, headers)
    }

    /// The next chunk of a chunked body, nil at its end.
    func readChunk() throws -> [UInt8]? {
        let sizeLine = try self.readLine()
        guard let size = Int(sizeLine.split(separator: ";").first ?? "", radix: 16) else {
            throw Failure(description: "bad chunk size \(sizeLine)")
        }
        if size == 0 {
            _ = try self.readLine()
            return nil
        }
        let data = try self.read(count: size)
        _ = try self.readLine()
        return data
    }

    /// Stops reading (shuts the socket down so a blocked reader returns).
    func shutdownConnection() { shutdown(self.fd, Int32(SHUT_RDWR)) }
}
