import CCurl
import Foundation

private let writeCallback: ccurl_data_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    transfer.receiveBody(Data(bytes: buffer, count: length))
    return length
}

private let headerCallback: ccurl_data_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: buffer, count: length), as: UTF8.self)
    transfer.receiveHeaderLine(line)
    return length
}

extension CurlTransfer {
    /// Creates and configures the easy handle (loop thread). Returns an error when an option is refused.
    func makeHandle() throws -> UnsafeMutableRawPointer {
        guard let easy = curl_easy_init() else {
            throw KubeError(.transport, "curl_easy_init failed", request: self.request.summary)
        }
        self.easy = easy
        let request = self.request
        var failures: [String] = []
        func check(_ code: CURLcode, _ what: String) {
            if code != CURLE_OK { failures.append("\(what): \(String(cString: curl_easy_strerror(code)))") }
        }

        var url = request.url
        if let serverName = request.tls.serverName, var components = URLComponents(string: request.url),
            let host = components.host
        {
            // Verify against (and send SNI for) `serverName` while connecting to the real host.
            let port = components.port ?? (components.scheme == "http" ? 80 : 443)
            components.host = serverName
            url = components.string ?? request.url
            let realHost = host.contains(":") ? "[\(host)]" : host
            self.connectTo = curl_slist_append(nil, "\(serverName):\(port):\(realHost):\(port)")
            check(ccurl_easy_setopt_slist(easy, CURLOPT_CONNECT_TO, self.connectTo), "connect-to")
        }
        check(ccurl_easy_setopt_string(easy, CURLOPT_URL, url), "url")
        check(ccurl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1), "nosignal")
        check(ccurl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1), "keepalive")
        check(ccurl_easy_setopt_string(easy, CURLOPT_ACCEPT_ENCODING, ""), "accept-encoding")
        check(ccurl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout.milliseconds), "connect")
        if let timeout = request.timeout {
            check(ccurl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, max(1, timeout.milliseconds)), "timeout")
        }
        if let proxy = request.proxy { check(ccurl_easy_setopt_string(easy, CURLOPT_PROXY, proxy), "proxy") }
        check(ccurl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, self.errorBuffer), "errorbuffer")

        switch request.method {
        case "GET":
            check(ccurl_easy_setopt_long(easy, CURLOPT_HTTPGET, 1), "get")
        case "POST":
            check(ccurl_easy_setopt_long(easy, CURLOPT_POST, 1), "post")
        default:
            check(ccurl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method), "method")
        }
        if let body = request.body {
            check(ccurl_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "body size")
            if body.isEmpty {
                check(ccurl_easy_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, ""), "body")
            } else {
                body.withUnsafeBytes { bytes in
                    // COPYPOSTFIELDS copies the bytes now, so the buffer need not outlive this call.
                    let pointer = bytes.baseAddress!.assumingMemoryBound(to: CChar.self)
                    check(ccurl_easy_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, pointer), "body")
                }
            }
        }

        var list: UnsafeMutablePointer<curl_slist>?
        for header in request.headers {
            list = curl_slist_append(list, "\(header.name): \(header.value)")
        }
        list = curl_slist_append(list, "Expect:")
        self.headerList = list
        check(ccurl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list), "headers")

        self.configureTLS(easy, check: check)

        let userdata = Unmanaged.passUnretained(self).toOpaque()
        check(ccurl_easy_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION, writeCallback), "write function")
        check(ccurl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, userdata), "write data")
        check(ccurl_easy_setopt_data_callback(easy, CURLOPT_HEADERFUNCTION, headerCallback), "header function")
        check(ccurl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, userdata), "header data")

        if !failures.isEmpty {
            throw KubeError(
                .transport,
                "libcurl refused options: \(failures.joined(separator: "; "))",
                request: request.summary
            )
        }
        return easy
    }

    private func configureTLS(_ easy: UnsafeMutableRawPointer, check: (CURLcode, String) -> Void) {
        let tls = self.request.tls
        if tls.insecureSkipVerify {
            check(ccurl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 0), "verify peer")
            check(ccurl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 0), "verify host")
        }
        switch tls.certificateAuthority {
        case .file(let path): check(ccurl_easy_setopt_string(easy, CURLOPT_CAINFO, path), "CA file")
        case .data(let data): check(Self.setBlob(easy, CURLOPT_CAINFO_BLOB, data), "CA data")
        case nil: break
        }
        switch tls.clientCertificate {
        case .file(let path): check(ccurl_easy_setopt_string(easy, CURLOPT_SSLCERT, path), "client certificate")
        case .data(let data): check(Self.setBlob(easy, CURLOPT_SSLCERT_BLOB, data), "client certificate")
        case nil: break
        }
        switch tls.clientKey {
        case .file(let path): check(ccurl_easy_setopt_string(easy, CURLOPT_SSLKEY, path), "client key")
        case .data(let data): check(Self.setBlob(easy, CURLOPT_SSLKEY_BLOB, data), "client key")
        case nil: break
        }
        if tls.clientCertificate != nil {
            check(ccurl_easy_setopt_string(easy, CURLOPT_SSLCERTTYPE, "PEM"), "certificate type")
            check(ccurl_easy_setopt_string(easy, CURLOPT_SSLKEYTYPE, "PEM"), "key type")
        }
    }

    private static func setBlob(_ easy: UnsafeMutableRawPointer, _ option: CURLoption, _ data: Data) -> CURLcode {
        data.withUnsafeBytes { bytes in
            ccurl_easy_setopt_blob(easy, option, bytes.baseAddress, bytes.count)
        }
    }
}
