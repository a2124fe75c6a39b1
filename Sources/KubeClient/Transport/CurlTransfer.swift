import CCurl
import Foundation
import Synchronization

/// One request in flight: its easy handle, what has been received, and where the result goes.
///
/// `@unchecked Sendable` because ownership moves: the submitting task creates it and fills in `sink`, then
/// hands it to the transport's loop thread, which alone touches the easy handle, the buffers and the
/// continuation from then on. The only state shared between threads is `phase`, guarded by a `Mutex`.
final class CurlTransfer: @unchecked Sendable {
    enum Sink {
        case buffered(CheckedContinuation<HTTPResponse, any Error>)
        case streaming(AsyncThrowingStream<TransferEvent, any Error>.Continuation)
    }

    enum Phase {
        case created, submitted, cancelled, finished
    }

    let request: HTTPRequest
    let phase = Mutex(Phase.created)
    var sink: Sink?

    // Owned by the loop thread once submitted.
    var easy: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    var connectTo: UnsafeMutablePointer<curl_slist>?
    let errorBuffer: UnsafeMutablePointer<CChar>
    var responseHeaders: [String: String] = [:]
    var body = Data()
    var headDelivered = false

    init(request: HTTPRequest) {
        self.request = request
        let size = Int(ccurl_error_size())
        self.errorBuffer = .allocate(capacity: size)
        self.errorBuffer.initialize(repeating: 0, count: size)
    }

    deinit {
        self.releaseHandle()
        self.errorBuffer.deallocate()
    }

    // MARK: - Delivery (loop thread)

    func status() -> Int {
        var code = 0
        if let easy = self.easy { _ = ccurl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code) }
        return code
    }

    func receiveHeaderLine(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("HTTP/") {
            self.responseHeaders = [:]
        } else if let colon = trimmed.firstIndex(of: ":") {
            let name = trimmed[..<colon].lowercased()
            let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            self.responseHeaders[name] = value
        }
    }

    func receiveBody(_ chunk: Data) {
        switch self.sink {
        case .streaming(let continuation):
            self.deliverHeadIfNeeded(continuation)
            continuation.yield(.body(chunk))
        case .buffered, nil:
            self.body.append(chunk)
        }
    }

    private func deliverHeadIfNeeded(_ continuation: AsyncThrowingStream<TransferEvent, any Error>.Continuation) {
        guard !self.headDelivered else { return }
        self.headDelivered = true
        continuation.yield(.head(status: self.status(), headers: self.responseHeaders))
    }

    /// Completes the transfer exactly once with the curl result.
    func complete(_ result: Result<Void, any Error>) {
        let alreadyFinished = self.phase.withLock { phase -> Bool in
            defer { phase = .finished }
            return phase == .finished
        }
        guard !alreadyFinished, let sink = self.sink else { return }
        self.sink = nil
        switch (sink, result) {
        case (.buffered(let continuation), .success):
            continuation.resume(
                returning: HTTPResponse(status: self.status(), headers: self.responseHeaders, body: self.body)
            )
        case (.buffered(let continuation), .failure(let error)):
            continuation.resume(throwing: error)
        case (.streaming(let continuation), .success):
            self.deliverHeadIfNeeded(continuation)
            continuation.finish()
        case (.streaming(let continuation), .failure(let error)):
            continuation.finish(throwing: error)
        }
    }

    /// Frees the easy handle and header lists (loop thread).
    func releaseHandle() {
        if let easy = self.easy { curl_easy_cleanup(easy) }
        if let list = self.headerList { curl_slist_free_all(list) }
        if let list = self.connectTo { curl_slist_free_all(list) }
        self.easy = nil
        self.headerList = nil
        self.connectTo = nil
    }

    /// The curl error buffer's text, or libcurl's generic message for `code`.
    func errorMessage(_ code: CURLcode) -> String {
        let buffered = String(cString: self.errorBuffer)
        if !buffered.isEmpty { return buffered }
        return String(cString: curl_easy_strerror(code))
    }
}
