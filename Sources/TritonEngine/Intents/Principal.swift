/// What a caller may do. `viewer` reads; `deployer` creates and controls flows; `approver` passes
/// canaries and reviews emergency changes; `admin` may do everything, and override four-eyes only as an
/// emergency change.
public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
    case viewer, deployer, approver, admin
}

/// The authenticated caller of an intent, as the server decided it (from a token, never from what the
/// client says). Its `name` is the actor every event of the intent records.
public struct Principal: Sendable, Hashable {
    public var name: String
    public var roles: Set<Role>

    public init(name: String, roles: Set<Role>) {
        self.name = name
        self.roles = roles
    }

    /// Every principal may read; `admin` holds every role.
    public func has(_ role: Role) -> Bool { role == .viewer || self.roles.contains(.admin) || self.roles.contains(role) }

    /// Throws ``IntentDenied`` (rule `role`) naming the role `what` needs and the roles the principal has.
    public func require(_ role: Role, for what: String) throws(IntentDenied) {
        guard self.has(role) else {
            throw IntentDenied(.role, "\(what) needs the \(role.rawValue) role; \(self.name) has \(self.rolesText)")
        }
    }

    var rolesText: String {
        let held = self.roles.map(\.rawValue).sorted().joined(separator: ", ")
        return held.isEmpty ? "none" : held
    }
}

/// An intent the authorization policy refused. `rule` names the rule (`role`, `canary-approval`,
/// `four-eyes`, `emergency-review`); REST answers 403, gRPC PERMISSION_DENIED, the CLI exits 1.
/// Nothing is written.
public struct IntentDenied: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Rule: String, Sendable, Hashable, Codable, CaseIterable {
        /// The caller lacks the role the intent needs.
        case role
        /// Passing a canary (pulling it into traffic) needs an approver.
        case canaryApproval = "canary-approval"
        /// The creator of a flow may not pass its canary.
        case fourEyes = "four-eyes"
        /// An emergency change is reviewed by an approver other than the admin who declared it.
        case emergencyReview = "emergency-review"
    }

    public var rule: Rule
    public var message: String

    public init(_ rule: Rule, _ message: String) {
        self.rule = rule
        self.message = message
    }

    public var description: String { "\(self.rule.rawValue): \(self.message)" }
}
