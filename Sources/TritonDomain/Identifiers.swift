import Foundation

/// Identifies an application instance (one CloneSet): `namespace/name`.
public struct InstanceRef: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The Kubernetes namespace.
    public var namespace: String
    /// The CloneSet's name.
    public var name: String

    /// Creates a reference without validating it; see `validationProblems`.
    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// `namespace/name`.
    public var description: String { "\(self.namespace)/\(self.name)" }

    /// Problems with the names as `(field, reason)` pairs; empty when both are valid DNS-1123 labels.
    ///
    /// Both must be DNS-1123 labels (not the longer subdomain form) because the instance name is also
    /// used as the value of the `app.kubernetes.io/instance` label, which is limited to 63 characters.
    public var validationProblems: [(field: String, reason: String)] {
        var problems: [(field: String, reason: String)] = []
        if let reason = Self.dns1123LabelProblem(self.namespace) {
            problems.append((field: "instance.namespace", reason: reason))
        }
        if let reason = Self.dns1123LabelProblem(self.name) {
            problems.append((field: "instance.name", reason: reason))
        }
        return problems
    }

    /// Why `value` is not a DNS-1123 label (1–63 characters of `a-z`, `0-9`, `-`, starting and ending
    /// with a letter or digit), or `nil` when it is one.
    public static func dns1123LabelProblem(_ value: String) -> String? {
        let scalars = Array(value.unicodeScalars)
        if scalars.isEmpty { return "must not be empty" }
        if scalars.count > 63 { return "\"\(value)\" is longer than 63 characters" }
        func isAlnum(_ s: Unicode.Scalar) -> Bool { ("a"..."z").contains(s) || ("0"..."9").contains(s) }
        for scalar in scalars where !(isAlnum(scalar) || scalar == "-") {
            return "\"\(value)\" may contain only lower-case letters, digits and '-' (DNS-1123 label)"
        }
        if let first = scalars.first, let last = scalars.last, !isAlnum(first) || !isAlnum(last) {
            return "\"\(value)\" must start and end with a lower-case letter or digit (DNS-1123 label)"
        }
        return nil
    }
}

/// The id of a DeployFlow, e.g. `12122-sample-10010-dzkc4`.
public struct FlowID: RawRepresentable, Sendable, Hashable, Codable, Comparable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    /// The id text.
    public var rawValue: String

    /// Wraps an id.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Wraps an id.
    public init(_ rawValue: String) { self.rawValue = rawValue }
    /// Wraps an id literal.
    public init(stringLiteral value: String) { self.rawValue = value }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.rawValue)
    }

    public var description: String { self.rawValue }
    public static func < (lhs: FlowID, rhs: FlowID) -> Bool { lhs.rawValue < rhs.rawValue }
}
