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

/// The release action a DeployFlow performs.
public enum Action: String, Sendable, Hashable, Codable, CaseIterable {
    case create, update, rollback, scaleOut, scaleIn, restart

    /// Whether the action rolls a new pod template (create, update, rollback).
    public var changesRevision: Bool {
        switch self {
        case .create, .update, .rollback: true
        case .scaleOut, .scaleIn, .restart: false
        }
    }

    /// Whether a canary batch is allowed (the update-type actions: create, update, rollback).
    public var allowsCanary: Bool { self.changesRevision }

    /// Whether the action names pods to remove (scaleIn, restart).
    public var removesPods: Bool { self == .scaleIn || self == .restart }
}

/// Whether a flow stops for `next` (`manual`, the default) or runs on by itself (`auto`).
public enum Mode: String, Sendable, Hashable, Codable, CaseIterable {
    case auto, manual
}

/// The phase of a DeployFlow, spelled as in the open-source Triton.
public enum FlowPhase: String, Sendable, Hashable, Codable, CaseIterable {
    case pending = "Pending"
    case initializing = "Initializing"
    case batchStarted = "BatchStarted"
    case batchFinished = "BatchFinished"
    case success = "Success"
    case failed = "Failed"
    case aborted = "Aborted"
    case canceled = "Canceled"

    /// Success, Failed, Aborted and Canceled are final.
    public var isTerminal: Bool {
        switch self {
        case .success, .failed, .aborted, .canceled: true
        case .pending, .initializing, .batchStarted, .batchFinished: false
        }
    }
}

/// The phase of one batch, spelled as in the open-source Triton.
public enum BatchPhase: String, Sendable, Hashable, Codable, CaseIterable {
    case pending = "Pending"
    case smoking = "Smoking"
    case smoked = "Smoked"
    case baking = "Baking"
    case baked = "Baked"
    case smokeFailed = "SmokeFailed"
    case bakeFailed = "BakeFailed"

    /// Forward order of the healthy phases (failures rank above everything).
    public var rank: Int {
        switch self {
        case .pending: 0
        case .smoking: 1
        case .smoked: 2
        case .baking: 3
        case .baked: 4
        case .smokeFailed, .bakeFailed: 5
        }
    }

    /// SmokeFailed or BakeFailed.
    public var isFailure: Bool { self == .smokeFailed || self == .bakeFailed }
}

/// What the release rolls out. `template` is the opaque PodTemplateSpec JSON, carried and never interpreted.
public struct AppSpec: Sendable, Hashable, Codable {
    public var appID: Int
    public var groupID: Int
    public var appName: String
    public var image: String
    public var template: String?

    public init(appID: Int, groupID: Int, appName: String, image: String, template: String? = nil) {
        self.appID = appID
        self.groupID = groupID
        self.appName = appName
        self.image = image
        self.template = template
    }
}

/// Who or what issued a command, when and why. Passed in with every command; the runner stores it as the
/// metadata of every event the command produced. `time` is the only clock the domain ever sees.
public struct EventMetadata: Sendable, Hashable, Codable {
    /// Where a command came from.
    public enum Source: String, Sendable, Hashable, Codable, CaseIterable {
        case api, cli, executor, observer, timer, system
    }

    public var actor: String
    public var reason: String?
    public var requestID: String?
    public var correlationID: String?
    public var causationID: String?
    public var clientAddress: String?
    public var source: Source
    /// When the command was issued; timers and timestamps in events are computed from it.
    public var time: Date

    public init(
        actor: String, reason: String? = nil, requestID: String? = nil, correlationID: String? = nil,
        causationID: String? = nil, clientAddress: String? = nil, source: Source, time: Date
    ) {
        self.actor = actor
        self.reason = reason
        self.requestID = requestID
        self.correlationID = correlationID
        self.causationID = causationID
        self.clientAddress = clientAddress
        self.source = source
        self.time = time
    }
}
