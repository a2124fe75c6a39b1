import Foundation
import Logging
import TritonJSON

/// A Kubernetes API client over libcurl.
///
/// ```swift
/// let client = KubeClient(configuration: try .automatic(), logger: logger)
/// defer { client.shutdown() }
/// let pods = try await client.list(Pod.self, namespace: "prod", options: ListOptions(labelSelector: "app=demo"))
/// ```
///
/// All requests of one client share one libcurl multi handle on a dedicated thread, and with it one
/// connection cache. Each call passes the client-side rate limiter (``Configuration/qps`` /
/// ``Configuration/burst``), then is retried on transient failures as ``RetryPolicy`` describes; a `401`
/// with a refreshable credential (token file, exec plugin) refreshes it and tries once more.
public final class KubeClient: Sendable {
    /// The configuration this client was created with.
    public let configuration: Configuration
    let transport: CurlTransport
    let limiter: RateLimiter
    let authenticator: Authenticator
    let logger: Logger

    /// Creates a client. The transport thread starts with the first request.
    /// - Parameters:
    ///   - configuration: Server, TLS, credentials and limits.
    ///   - logger: Where request failures and retries are logged (at `debug`/`info`); defaults to a no-op.
    public init(
        configuration: Configuration,
        logger: Logger = Logger(label: "triton.kubeclient", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = configuration
        self.transport = CurlTransport()
        self.limiter = RateLimiter(qps: configuration.qps, burst: configuration.burst)
        self.authenticator = Authenticator(credentials: configuration.credentials, tls: configuration.tls)
        self.logger = logger
    }

    /// Aborts requests in flight and stops the transport thread. Later calls fail. Also happens when the client
    /// is released.
    public func shutdown() {
        self.transport.shutdown()
    }

    // MARK: - Requests

    struct Call: Sendable {
        var method: String
        var path: String
        var query: [(String, String)] = []
        var body: JSONValue?
        var contentType = "application/json"
        var timeout: Duration?
    }

    func url(_ path: String, query: [(String, String)]) -> String {
        query.isEmpty ? self.configuration.server + path : self.configuration.server + path + "?" + encodeQuery(query)
    }

    func makeRequest(_ call: Call, material: Authenticator.Material, timeout: Duration?) throws -> HTTPRequest {
        var headers: [(name: String, value: String)] = [
            ("Accept", "application/json"),
            ("User-Agent", self.configuration.userAgent),
        ]
        if let authorization = material.authorization { headers.append(("Authorization", authorization)) }
        var body: Data?
        if let value = call.body {
            body = value.jsonData()
            headers.append(("Content-Type", call.contentType))
        }
        return HTTPRequest(
            method: call.method,
            url: self.url(call.path, query: call.query),
            headers: headers,
            body: body,
            timeout: timeout,
            connectTimeout: self.configuration.connectTimeout,
            tls: material.tls,
            proxy: self.configuration.proxy
        )
    }

    /// Sends a call with rate limiting, authentication, retries and error mapping; returns the 2xx body.
    func send(_ call: Call) async throws -> Data {
        let policy = self.configuration.retry
        var attempt = 0
        var refreshedCredentials = false
        while true {
            try Task.checkCancellation()
            try await self.limiter.acquire()
            let material = try await self.authenticator.material()
            let request = try self.makeRequest(
                call,
                material: material,
                timeout: call.timeout ?? self.configuration.requestTimeout
            )
            let error: KubeError
            do {
                let response = try await self.transport.perform(request)
                if (200..<300).contains(response.status) { return response.body }
                error = KubeError.fromResponse(
                    httpStatus: response.status,
                    body: response.body,
                    retryAfterHeader: response.headers["retry-after"],
                    request: request.summary
                )
            } catch let transportError as KubeError {
                error = transportError
            }
            if error.code == .unauthorized, !refreshedCredentials, self.authenticator.canRefresh {
                refreshedCredentials = true
                self.authenticator.invalidate()
                self.logger.debug("refreshing credentials after 401", metadata: ["kube.request": "\(request.summary)"])
                continue
            }
            attempt += 1
            guard attempt <= policy.maxRetries, policy.isRetryable(error, method: call.method) else { throw error }
            let delay = policy.delay(attempt: attempt, retryAfter: error.retryAfter)
            self.logger.debug(
                "retrying Kubernetes request",
                metadata: [
                    "kube.request": "\(request.summary)",
                    "kube.error": "\(error.code)",
                    "kube.attempt": "\(attempt)",
                    "kube.delay": "\(delay)",
                ]
            )
            try await Task.sleep(for: delay)
        }
    }

    /// Sends a call and decodes the response as JSON.
    func sendJSON(_ call: Call) async throws -> JSONValue {
        let data = try await self.send(call)
        do {
            return try JSONValue(jsonData: data)
        } catch {
            throw KubeError(.decodingFailed, "the response to \(call.method) \(call.path) is not JSON")
        }
    }
}
