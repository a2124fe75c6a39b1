import CCurl
import Foundation
import Synchronization

/// The body of the transport thread: adds submitted transfers to the multi handle, drives them with
/// `curl_multi_perform`, completes finished ones and sleeps in `curl_multi_poll` until there is work.
final class CurlLoop {
    private let shared: CurlTransport.Shared
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    init(shared: CurlTransport.Shared) {
        self.shared = shared
    }

    func run() {
        let multi = self.shared.multi.pointer
        while true {
            let (submitted, cancelled, shuttingDown) = self.shared.queue.withLock { queue in
                defer {
                    queue.submitted.removeAll()
                    queue.cancelled.removeAll()
                }
                return (queue.submitted, queue.cancelled, queue.shuttingDown)
            }
            if shuttingDown {
                for transfer in submitted {
                    transfer.complete(.failure(KubeError(.transport, "the client has been shut down")))
                }
                for (easy, transfer) in self.active {
                    self.remove(easy, transfer, result: .failure(CancellationError()))
                }
                self.shared.multi.cleanup()
                return
            }
            for transfer in submitted {
                do {
                    let easy = try transfer.makeHandle()
                    self.active[easy] = transfer
                    curl_multi_add_handle(multi, easy)
                } catch {
                    transfer.complete(.failure(error))
                    transfer.releaseHandle()
                }
            }
            for transfer in cancelled {
                if let easy = transfer.easy, self.active[easy] === transfer {
                    self.remove(easy, transfer, result: .failure(CancellationError()))
                }
            }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            self.collectFinished(multi)
            var events: Int32 = 0
            curl_multi_poll(multi, nil, 0, 1000, &events)
        }
    }

    private func collectFinished(_ multi: UnsafeMutableRawPointer) {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard ccurl_msg_is_done(message) != 0, let easy = message.pointee.easy_handle,
                let transfer = self.active[easy]
            else { continue }
            let code = ccurl_msg_result(message)
            if code == CURLE_OK {
                self.remove(easy, transfer, result: .success(()))
            } else {
                let error = KubeError(
                    Self.errorCode(code),
                    "\(transfer.errorMessage(code)) (curl error \(code.rawValue))",
                    request: transfer.request.summary
                )
                self.remove(easy, transfer, result: .failure(error))
            }
        }
    }

    private func remove(_ easy: UnsafeMutableRawPointer, _ transfer: CurlTransfer, result: Result<Void, any Error>) {
        curl_multi_remove_handle(self.shared.multi.pointer, easy)
        self.active[easy] = nil
        transfer.complete(result)
        transfer.releaseHandle()
    }

    static func errorCode(_ code: CURLcode) -> KubeError.Code {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_PROXY:
            return .connectionFailed
        case CURLE_OPERATION_TIMEDOUT:
            return .requestTimedOut
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_CRL_BADFILE, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_ENGINE_INITFAILED, CURLE_USE_SSL_FAILED:
            return .tlsFailure
        default:
            return .transport
        }
    }
}
