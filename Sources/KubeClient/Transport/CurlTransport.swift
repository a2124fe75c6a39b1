import CCurl
import Foundation
import Synchronization

private let curlGlobalInit: CURLcode = ccurl_global_init_all()

/// HTTP over one libcurl multi handle driven by a dedicated thread.
///
/// libcurl easy and multi handles are not thread-safe, so every handle is created, driven and freed on the
/// transport's own thread; callers submit work through a `Mutex`-protected queue and wake the thread with
/// `curl_multi_wakeup` (the one multi call libcurl allows from any thread). Results come back through
/// continuations, so no request ever blocks Swift's cooperative pool. Because all transfers share one multi
/// handle, they share its connection cache: connections (and HTTP/2 sessions) are reused.
///
/// The thread starts with the first request and ends on ``shutdown()`` or when the transport is released.
final class CurlTransport: Sendable {
    private let shared: Shared

    init() {
        _ = curlGlobalInit
        self.shared = Shared()
    }

    deinit {
        self.shared.shutdown()
    }

    /// Sends a request and buffers the whole response. Cancelling the task aborts the transfer.
    func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
        let transfer = CurlTransfer(request: request)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.sink = .buffered(continuation)
                self.shared.submit(transfer)
            }
        } onCancel: {
            self.shared.cancel(transfer)
        }
    }

    /// Sends a request and streams the response: `.head` once, then body chunks as libcurl receives them.
    /// Ending iteration (or cancelling the consuming task) aborts the transfer.
    func stream(_ request: HTTPRequest) -> AsyncThrowingStream<TransferEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: TransferEvent.self)
        let transfer = CurlTransfer(request: request)
        transfer.sink = .streaming(continuation)
        let shared = self.shared
        continuation.onTermination = { _ in shared.cancel(transfer) }
        shared.submit(transfer)
        return stream
    }

    /// Aborts all transfers and stops the thread.
    func shutdown() {
        self.shared.shutdown()
    }
}

extension CurlTransport {
    /// The state shared between callers and the loop thread. The thread holds this, not the transport, so
    /// releasing the transport shuts the thread down.
    final class Shared: Sendable {
        struct Queue {
            var submitted: [CurlTransfer] = []
            var cancelled: [CurlTransfer] = []
            var threadStarted = false
            var shuttingDown = false
        }

        let queue = Mutex(Queue())
        let multi: MultiHandle

        init() {
            self.multi = MultiHandle()
        }

        func submit(_ transfer: CurlTransfer) {
            let accepted = transfer.phase.withLock { phase -> Bool in
                guard phase == .created else { return false }
                phase = .submitted
                return true
            }
            guard accepted else {
                transfer.complete(.failure(CancellationError()))
                return
            }
            let startThread = self.queue.withLock { queue -> Bool? in
                if queue.shuttingDown { return nil }
                queue.submitted.append(transfer)
                defer { queue.threadStarted = true }
                return !queue.threadStarted
            }
            switch startThread {
            case nil:
                transfer.complete(.failure(KubeError(.transport, "the client has been shut down")))
            case true?:
                let thread = Thread { [self] in CurlLoop(shared: self).run() }
                thread.name = "KubeClient.curl"
                thread.start()
            case false?:
                self.multi.wakeup()
            }
        }

        func cancel(_ transfer: CurlTransfer) {
            let action = transfer.phase.withLock { phase -> Phase in
                switch phase {
                case .created:
                    phase = .cancelled
                    return .none
                case .submitted:
                    return .enqueue
                case .cancelled, .finished:
                    return .none
                }
            }
            if action == .enqueue {
                self.queue.withLock { $0.cancelled.append(transfer) }
                self.multi.wakeup()
            }
        }

        private enum Phase { case none, enqueue }

        func shutdown() {
            let (wasShuttingDown, wasRunning) = self.queue.withLock { queue -> (Bool, Bool) in
                defer { queue.shuttingDown = true }
                return (queue.shuttingDown, queue.threadStarted)
            }
            if wasShuttingDown { return }
            if wasRunning {
                self.multi.wakeup()
            } else {
                self.multi.cleanup()
            }
        }
    }

    /// The multi handle. `@unchecked Sendable`: only `wakeup()` is called from other threads, which libcurl
    /// documents as thread-safe (guarded here against a concurrent `cleanup()`); everything else happens on
    /// the loop thread.
    final class MultiHandle: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer
        private let alive = Mutex(true)

        init() {
            self.pointer = curl_multi_init()
        }

        func wakeup() {
            self.alive.withLock { alive in
                if alive { _ = curl_multi_wakeup(self.pointer) }
            }
        }

        func cleanup() {
            self.alive.withLock { alive in
                if alive { _ = curl_multi_cleanup(self.pointer) }
                alive = false
            }
        }
    }
}
