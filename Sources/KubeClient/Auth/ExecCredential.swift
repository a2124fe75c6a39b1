import Foundation
import TritonJSON

/// The credential an exec plugin printed (`ExecCredential.status`).
struct ExecCredential: Sendable, Hashable {
    var token: String?
    var clientCertificatePEM: Data?
    var clientKeyPEM: Data?
    var expiration: Date?

    func isValid(at now: Date) -> Bool {
        guard let expiration else { return true }
        return expiration > now
    }

    /// Parses the plugin's standard output.
    init(output: Data, expectedAPIVersion: String, command: String, now: Date) throws {
        func fail(_ message: String) -> KubeError {
            KubeError(.execPluginFailed, "exec plugin \(command): \(message)")
        }
        guard let tree = try? JSONValue(jsonData: output) else { throw fail("output is not JSON") }
        guard tree["kind"]?.stringValue == "ExecCredential" else { throw fail("output is not an ExecCredential") }
        if let version = tree["apiVersion"]?.stringValue, version != expectedAPIVersion {
            throw fail("returned apiVersion \(version), expected \(expectedAPIVersion)")
        }
        guard let status = tree["status"], case .object = status else { throw fail("output has no status") }
        self.token = status["token"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        self.clientCertificatePEM = status["clientCertificateData"]?.stringValue.map { Data($0.utf8) }
        self.clientKeyPEM = status["clientKeyData"]?.stringValue.map { Data($0.utf8) }
        if (self.clientCertificatePEM == nil) != (self.clientKeyPEM == nil) {
            throw fail("status has a client certificate without a key or a key without a certificate")
        }
        if self.token == nil && self.clientCertificatePEM == nil {
            throw fail("status has neither a token nor a client certificate")
        }
        if let text = status["expirationTimestamp"]?.stringValue {
            guard let date = Self.parseTimestamp(text) else {
                throw fail("expirationTimestamp \(text) is not an RFC 3339 time")
            }
            guard date > now else {
                throw KubeError(.credentialExpired, "exec plugin \(command) returned a credential that expired at \(text)")
            }
            self.expiration = date
        }
    }

    static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
