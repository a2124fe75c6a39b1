import Foundation

/// One HTTP request as the transport sends it.
struct HTTPRequest: Sendable {
    var method: String
    var url: String
    var headers: [(name: String, value: String)] = []
    var body: Data?
    /// The whole transfer's timeout; `nil` for none (watches).
    var timeout: Duration?
    var connectTimeout: Duration = .seconds(10)
    var tls = KubeClient.TLS()
    var proxy: String?

    /// `METHOD /path`, without the query string, for error messages and logs.
    var summary: String {
        let path = URLComponents(string: self.url)?.path ?? ""
        return "\(self.method) \(path)"
    }
}

/// A complete (buffered) HTTP response.
struct HTTPResponse: Sendable {
    var status: Int
    /// Header names lower-cased.
    var headers: [String: String]
    var body: Data
}

/// What a streaming transfer delivers: the response head once, then body chunks as they arrive.
public enum TransferEvent: Sendable {
    case head(status: Int, headers: [String: String])
    case body(Data)
}

extension Duration {
    var milliseconds: Int {
        let (seconds, attoseconds) = self.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
