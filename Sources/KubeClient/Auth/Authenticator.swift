import Foundation
import Synchronization

/// Turns ``KubeClient/Credentials`` into what each request carries: an `Authorization` header and, for exec
/// plugins that return one, a client certificate. Caches exec credentials until they expire and re-reads
/// token files when they change.
final class Authenticator: Sendable {
    struct Material: Sendable {
        var authorization: String?
        var tls: KubeClient.TLS
    }

    private struct TokenFileCache {
        var token: String
        var modified: Date?
    }

    private enum ExecState {
        case empty
        case running([CheckedContinuation<ExecCredential?, any Error>])
        case cached(ExecCredential)
    }

    private let credentials: KubeClient.Credentials
    private let tls: KubeClient.TLS
    private let execTimeout: Duration
    private let tokenFile = Mutex<TokenFileCache?>(nil)
    private let exec = Mutex(ExecState.empty)

    init(credentials: KubeClient.Credentials, tls: KubeClient.TLS, execTimeout: Duration = .seconds(60)) {
        self.credentials = credentials
        self.tls = tls
        self.execTimeout = execTimeout
    }

    /// Whether a `401` might be cured by fetching the credential again.
    var canRefresh: Bool { self.credentials.exec != nil || self.credentials.tokenFile != nil }

    /// Forgets cached credentials (after a `401`).
    func invalidate() {
        self.tokenFile.withLock { $0 = nil }
        self.exec.withLock { state in
            if case .cached = state { state = .empty }
        }
    }

    func material() async throws -> Material {
        var material = Material(authorization: nil, tls: self.tls)
        if let (username, password) = self.credentials.basic {
            material.authorization = "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
        }
        if let token = self.credentials.bearerToken { material.authorization = "Bearer \(token)" }
        if let path = self.credentials.tokenFile { material.authorization = "Bearer \(try self.readTokenFile(path))" }
        if let config = self.credentials.exec {
            let credential = try await self.execCredential(config)
            if let token = credential.token { material.authorization = "Bearer \(token)" }
            if let certificate = credential.clientCertificatePEM, let key = credential.clientKeyPEM {
                material.tls.clientCertificate = .data(certificate)
                material.tls.clientKey = .data(key)
            }
        }
        return material
    }

    // MARK: - Private Methods -

    private func readTokenFile(_ path: String) throws -> String {
        let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        if let cached = self.tokenFile.withLock({ $0 }), cached.modified == modified, modified != nil {
            return cached.token
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw KubeError(.fileUnreadable, "cannot read token file \(path)", underlying: error)
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw KubeError(.invalidConfiguration, "token file \(path) is empty") }
        self.tokenFile.withLock { $0 = TokenFileCache(token: token, modified: modified) }
        return token
    }

    private func execCredential(_ config: ExecConfig) async throws -> ExecCredential {
        enum Step { case use(ExecCredential), run, wait }
        while true {
            let now = Date()
            let step = self.exec.withLock { state -> Step in
                switch state {
                case .cached(let credential) where credential.isValid(at: now.addingTimeInterval(10)):
                    return .use(credential)
                case .running:
                    return .wait
                case .cached, .empty:
                    state = .running([])
                    return .run
                }
            }
            switch step {
            case .use(let credential):
                return credential
            case .run:
                // One plugin run serves every caller that arrives while it is running.
                let result = await Result { try await ExecPluginRunner.run(config, timeout: self.execTimeout) }
                self.finishExec(result)
                return try result.get()
            case .wait:
                let outcome = try await withCheckedThrowingContinuation { continuation in
                    let registered = self.exec.withLock { state -> Bool in
                        guard case .running(var waiters) = state else { return false }
                        waiters.append(continuation)
                        state = .running(waiters)
                        return true
                    }
                    if !registered { continuation.resume(returning: nil) }
                }
                if let outcome { return outcome }
            }
        }
    }

    private func finishExec(_ result: Result<ExecCredential, any Error>) {
        let waiters = self.exec.withLock { state -> [CheckedContinuation<ExecCredential?, any Error>] in
            guard case .running(let waiters) = state else { return [] }
            if case .success(let credential) = result { state = .cached(credential) } else { state = .empty }
            return waiters
        }
        for waiter in waiters { waiter.resume(with: result.map(Optional.some)) }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
