import Foundation
import Logging
import TritonJSON

/// One change seen by a watch.
public enum WatchEvent<Object: KubeObject>: Sendable {
    case added(Object)
    case modified(Object)
    case deleted(Object)
    /// The server confirmed everything up to `resourceVersion` was delivered; nothing changed.
    case bookmark(resourceVersion: String)
    /// The watch's resourceVersion had expired (`410 Gone`), so the client listed again: `list.items` is the
    /// complete current set (reconcile against it; deletions in between are not reported one by one), and the
    /// watch continues from `list.resourceVersion`.
    case relisted(KubeList<Object>)
}

/// A watch as an `AsyncSequence`: reads the server's chunked JSON lines as they arrive and keeps going.
///
/// - When the server ends the watch (its timeout) or the connection drops, it reconnects from the last
///   resourceVersion it saw, with jittered backoff after failures.
/// - When that resourceVersion has expired (`410 Gone`, as a status or an `ERROR` event), it lists again and
///   yields ``WatchEvent/relisted(_:)``.
/// - `BOOKMARK` events advance the resume point and are yielded as ``WatchEvent/bookmark(resourceVersion:)``.
/// - Cancelling the consuming task, or leaving the `for` loop, aborts the HTTP transfer; iteration then ends
///   with `nil`.
/// - It throws after ``RetryPolicy/maxRetries`` consecutive failed attempts, or on a non-retryable error
///   (e.g. `403`).
public struct KubeWatch<Object: KubeObject>: AsyncSequence, Sendable {
    /// Each element is one ``WatchEvent``.
    public typealias Element = WatchEvent<Object>

    let client: KubeClient
    let resource: KubeResource
    /// `nil` for all namespaces.
    let namespace: String?
    let options: WatchOptions

    /// Starts iterating; the first `next()` opens the watch.
    public func makeAsyncIterator() -> Iterator {
        Iterator(watch: self, resourceVersion: self.options.resourceVersion)
    }

    /// The watch's iterator; not shareable between tasks.
    public struct Iterator: AsyncIteratorProtocol {
        let watch: KubeWatch
        var resourceVersion: String?
        var connection: AsyncThrowingStream<TransferEvent, any Error>.AsyncIterator?
        var status = 200
        var buffer = Data()
        var failures = 0
        var refreshedCredentials = false
        var eventsOnConnection = 0

        init(watch: KubeWatch, resourceVersion: String?) {
            self.watch = watch
            self.resourceVersion = resourceVersion
        }

        /// The next event; `nil` once the consuming task is cancelled.
        public mutating func next() async throws -> WatchEvent<Object>? {
            do {
                return try await self.nextEvent()
            } catch is CancellationError {
                self.connection = nil
                return nil
            }
        }

        // MARK: - Private Methods -

        private mutating func nextEvent() async throws -> WatchEvent<Object>? {
            while true {
                if Task.isCancelled {
                    self.connection = nil
                    return nil
                }
                if self.status == 200, let line = self.popLine() {
                    if let event = try await self.handle(line) { return event }
                    continue
                }
                if self.connection == nil {
                    do {
                        try await self.connect()
                    } catch is CancellationError {
                        return nil
                    }
                }
                do {
                    guard let event = try await self.connection?.next() else {
                        if let relisted = try await self.connectionEnded() { return relisted }
                        continue
                    }
                    switch event {
                    case .head(let status, _):
                        self.status = status
                    case .body(let data):
                        self.buffer.append(data)
                    }
                } catch is CancellationError {
                    self.connection = nil
                    return nil
                } catch let error as KubeError {
                    self.connection = nil
                    self.buffer.removeAll()
                    if Task.isCancelled { return nil }
                    try await self.backOff(after: error)
                }
            }
        }

        private mutating func connect() async throws {
            let client = self.watch.client
            try await client.limiter.acquire()
            let material = try await client.authenticator.material()
            var query: [(String, String)] = [("watch", "true")]
            if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
            if self.watch.options.allowBookmarks { query.append(("allowWatchBookmarks", "true")) }
            let base = Swift.max(1, Int(client.configuration.watchTimeout.seconds))
            let serverTimeout = Int.random(in: base...(2 * base))
            query.append(("timeoutSeconds", String(serverTimeout)))
            if let selector = self.watch.options.labelSelector { query.append(("labelSelector", selector)) }
            if let selector = self.watch.options.fieldSelector { query.append(("fieldSelector", selector)) }
            let call = KubeClient.Call(
                method: "GET",
                path: self.watch.resource.path(namespace: self.watch.namespace),
                query: query
            )
            let request = try client.makeRequest(call, material: material, timeout: .seconds(serverTimeout + 30))
            self.status = 200
            self.buffer.removeAll()
            self.eventsOnConnection = 0
            self.connection = client.transport.stream(request).makeAsyncIterator()
        }

        /// The transfer finished: a normal end of the watch, or an error response whose body is now complete.
        private mutating func connectionEnded() async throws -> WatchEvent<Object>? {
            self.connection = nil
            if Task.isCancelled { return nil }
            guard self.status != 200 else {
                self.buffer.removeAll()
                if self.eventsOnConnection == 0 {
                    // A server (or proxy) that ends watches at once must not make us spin: wait a little.
                    let delay = self.watch.client.configuration.retry.delay(attempt: 1)
                    try await Task.sleep(for: delay)
                }
                return nil
            }
            let error = KubeError.fromResponse(
                httpStatus: self.status,
                body: self.buffer,
                retryAfterHeader: nil,
                request: "GET \(self.watch.resource.path(namespace: self.watch.namespace))"
            )
            self.buffer.removeAll()
            self.status = 200
            if error.code == .gone { return try await self.relist() }
            try await self.backOff(after: error)
            return nil
        }

        private mutating func backOff(after error: KubeError) async throws {
            let client = self.watch.client
            if error.code == .unauthorized, !self.refreshedCredentials, client.authenticator.canRefresh {
                self.refreshedCredentials = true
                client.authenticator.invalidate()
                return
            }
            let policy = client.configuration.retry
            self.failures += 1
            let retryable = policy.isRetryable(error, method: "GET") || error.code == .transport
            guard retryable, self.failures <= policy.maxRetries else { throw error }
            let delay = policy.delay(attempt: self.failures, retryAfter: error.retryAfter)
            client.logger.debug(
                "watch reconnecting",
                metadata: ["kube.resource": "\(self.watch.resource.plural)", "kube.error": "\(error.code)"]
            )
            try await Task.sleep(for: delay)
        }

        private mutating func popLine() -> Data? {
            guard let newline = self.buffer.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            let line = self.buffer[self.buffer.startIndex..<newline]
            self.buffer = Data(self.buffer[self.buffer.index(after: newline)...])
            return line.isEmpty ? self.popLine() : Data(line)
        }

        private mutating func handle(_ line: Data) async throws -> WatchEvent<Object>? {
            self.eventsOnConnection += 1
            guard let event = try? JSONValue(jsonData: line), let type = event["type"]?.stringValue else {
                throw KubeError(.decodingFailed, "a watch event of \(self.watch.resource.plural) is not JSON")
            }
            let object = event["object"] ?? .object([:])
            let version = object.string(at: ["metadata", "resourceVersion"])
            switch type {
            case "ADDED", "MODIFIED", "DELETED":
                self.failures = 0
                self.refreshedCredentials = false
                if let version { self.resourceVersion = version }
                let typed = Object(json: object)
                return type == "ADDED" ? .added(typed) : (type == "MODIFIED" ? .modified(typed) : .deleted(typed))
            case "BOOKMARK":
                guard let version else { return nil }
                self.resourceVersion = version
                return .bookmark(resourceVersion: version)
            case "ERROR":
                let status = try? object.decode(KubeStatus.self)
                let code = status?.code ?? 500
                if code == 410 || status?.reason == "Expired" || status?.reason == "Gone" {
                    self.connection = nil
                    return try await self.relist()
                }
                throw KubeError(
                    KubeError.code(httpStatus: code, reason: status?.reason),
                    status?.message ?? "the watch failed",
                    httpStatus: code,
                    status: status
                )
            default:
                return nil
            }
        }

        private mutating func relist() async throws -> WatchEvent<Object> {
            let client = self.watch.client
            let options = ListOptions(
                labelSelector: self.watch.options.labelSelector,
                fieldSelector: self.watch.options.fieldSelector
            )
            let list = try await client.listPages(
                Object.self,
                resource: self.watch.resource,
                namespacePath: self.watch.namespace,
                options: options
            )
            self.resourceVersion = list.resourceVersion
            self.buffer.removeAll()
            client.logger.info(
                "watch relisted after 410 Gone",
                metadata: ["kube.resource": "\(self.watch.resource.plural)", "kube.items": "\(list.items.count)"]
            )
            return .relisted(list)
        }
    }
}
