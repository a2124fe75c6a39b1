import Crypto
import Foundation

/// A seal: a signed checkpoint of the whole log, as Certificate Transparency's signed tree heads and
/// Sigstore's checkpoints are. It commits to the tree size (events sealed), the Merkle root over them,
/// when, and the previous seal (its hash), so the seals form a chain of their own; a seal an auditor
/// kept makes a cut or rewritten tail visible.
public struct Seal: Sendable, Hashable, Codable {
    /// 1-based number of the seal in the chain.
    public var sequence: UInt64
    /// Events covered: the first `treeSize` events of the log in global order.
    public var treeSize: UInt64
    /// MTH of their leaves, hex.
    public var root: String
    /// When it was made, in milliseconds since 1970 (what is signed).
    public var timeMillis: Int64
    /// Hex SHA-256 of the previous seal's signed text; empty for the first.
    public var previous: String
    /// The signing key (``SealKey/keyID``).
    public var keyID: String
    /// Ed25519 signature of ``signedText``, base64.
    public var signature: String

    public init(
        sequence: UInt64, treeSize: UInt64, root: String, timeMillis: Int64, previous: String, keyID: String, signature: String
    ) {
        self.sequence = sequence
        self.treeSize = treeSize
        self.root = root
        self.timeMillis = timeMillis
        self.previous = previous
        self.keyID = keyID
        self.signature = signature
    }

    /// What is signed: one line per field, in this order, so any verifier rebuilds it exactly.
    public var signedText: String {
        "triton-seal/v1\n\(self.sequence)\n\(self.treeSize)\n\(self.root)\n\(self.timeMillis)\n\(self.previous)\n\(self.keyID)\n"
    }

    /// Hex SHA-256 of the signed text and the signature: what the next seal's `previous` holds.
    public var hash: String {
        Hex.encode(Array(Crypto.SHA256.hash(data: Array((self.signedText + self.signature).utf8))))
    }

    /// Whether `key` signed this seal (and it names that key).
    public func isSigned(by key: Curve25519.Signing.PublicKey) -> Bool {
        guard self.keyID == SealKey.keyID(of: key), let signature = Data(base64Encoded: self.signature) else { return false }
        return key.isValidSignature(signature, for: Data(self.signedText.utf8))
    }
}

/// An Ed25519 signing key for seals. Its id is derived from the public key (hex of the first 16 bytes
/// of SHA-256 over the raw 32-byte key), so a verifier can tell which trusted key to check against.
public struct SealKey: Sendable {
    let privateKey: Curve25519.Signing.PrivateKey

    public var publicKey: Curve25519.Signing.PublicKey { self.privateKey.publicKey }
    public var keyID: String { Self.keyID(of: self.publicKey) }

    /// A new random key.
    public init() { self.privateKey = Curve25519.Signing.PrivateKey() }

    /// The key of a 32-byte seed, as hex or base64 text (a key file's content or an environment variable).
    /// The error never repeats the text.
    public init(seedText: String) throws {
        let text = seedText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let seed = Hex.decode(text) ?? Data(base64Encoded: text).map(Array.init), seed.count == 32 else {
            throw SealError("the seal key must be 32 bytes as 64 hex digits or base64")
        }
        self.privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    /// The raw public key, base64 (as the seal keys table and bundles keep it).
    public var publicKeyBase64: String { self.publicKey.rawRepresentation.base64EncodedString() }

    /// The seed as hex, for writing a new key file (never printed).
    public var seedHex: String { Hex.encode(Array(self.privateKey.rawRepresentation)) }

    public static func keyID(of key: Curve25519.Signing.PublicKey) -> String {
        Hex.encode(Array(Crypto.SHA256.hash(data: key.rawRepresentation).prefix(16)))
    }

    /// Seals the tree: the next seal after `previous` (nil for the first).
    public func seal(treeSize: UInt64, root: [UInt8], timeMillis: Int64, after previous: Seal?) throws -> Seal {
        var seal = Seal(
            sequence: (previous?.sequence ?? 0) + 1, treeSize: treeSize, root: Hex.encode(root), timeMillis: timeMillis,
            previous: previous?.hash ?? "", keyID: self.keyID, signature: ""
        )
        seal.signature = try self.privateKey.signature(for: Data(seal.signedText.utf8)).base64EncodedString()
        return seal
    }
}

public struct SealError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Lower-case hex.
public enum Hex {
    public static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            case 0x41...0x46: c - 0x41 + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = value(chars[index]), let low = value(chars[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}
