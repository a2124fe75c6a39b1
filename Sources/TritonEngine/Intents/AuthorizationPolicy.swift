import Foundation
import TritonDomain

/// The one place that decides who may do what: roles, the canary rule and four-eyes. REST, gRPC and the
/// CLI (through the API) all reach it through ``Intents``.
public struct AuthorizationPolicy: Sendable, Hashable {
    /// Where four-eyes applies: the default, overridden per namespace, overridden per instance
    /// (`namespace/name`).
    public struct FourEyes: Sendable, Hashable, Codable {
        public var enabled: Bool
        public var namespaces: [String: Bool]
        public var instances: [String: Bool]

        public init(enabled: Bool, namespaces: [String: Bool] = [:], instances: [String: Bool] = [:]) {
            self.enabled = enabled
            self.namespaces = namespaces
            self.instances = instances
        }

        public func applies(to instance: InstanceRef) -> Bool {
            self.instances["\(instance.namespace)/\(instance.name)"] ?? self.namespaces[instance.namespace] ?? self.enabled
        }
    }

    public var fourEyes: FourEyes

    public init(fourEyes: FourEyes) { self.fourEyes = fourEyes }

    /// Open mode (the local demo): one person plays every role, so four-eyes is off.
    public static let open = AuthorizationPolicy(fourEyes: FourEyes(enabled: false))
    /// With tokens: four-eyes everywhere.
    public static let standard = AuthorizationPolicy(fourEyes: FourEyes(enabled: true))

    /// What an admin overrides to let an intent through; recorded as `EmergencyDeclared`.
    public struct Override: Sendable, Hashable {
        public var rule: IntentDenied.Rule
        public var justification: String
    }

    /// Requires `role` of the principal.
    public func require(_ role: Role, for what: String, _ principal: Principal) throws(IntentDenied) {
        try principal.require(role, for: what)
    }

    /// Decides a command on a flow. Returns the override an admin's `emergency` justification makes
    /// (four-eyes only), or `nil` when the rules allow the command as it is.
    public func authorize(
        _ command: DeployFlow.Command.Kind, on flow: FlowRecord, _ principal: Principal, emergency: String? = nil
    ) throws(IntentDenied) -> Override? {
        let state = flow.state
        switch command {
        case .next, .continueTo:
            guard Self.passesCanary(command, state) else {
                if !principal.has(.approver) { try self.require(.deployer, for: "next/continue", principal) }
                return nil
            }
            guard principal.has(.approver) else {
                throw IntentDenied(
                    .canaryApproval,
                    "passing the canary of \(flow.id) (pulling it into traffic) needs the approver role; \(principal.name) has \(principal.rolesText)"
                )
            }
            guard let spec = state.spec, self.fourEyes.applies(to: spec.instance), flow.createdBy == principal.name else { return nil }
            let justification = emergency?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if principal.has(.admin), !justification.isEmpty {
                return Override(rule: .fourEyes, justification: justification)
            }
            throw IntentDenied(
                .fourEyes,
                "\(principal.name) created \(flow.id) and may not pass its canary; another approver must"
                    + (principal.has(.admin) ? " (or declare an emergency change with a justification)" : "")
            )
        case .reviewEmergency:
            try self.require(.approver, for: "reviewing an emergency change", principal)
            if let declaredBy = state.emergency?.declaredBy, declaredBy == principal.name {
                throw IntentDenied(
                    .emergencyReview, "\(principal.name) declared the emergency change of \(flow.id); another approver must review it"
                )
            }
            return nil
        default:
            try self.require(.deployer, for: "controlling a flow", principal)
            return nil
        }
    }

    /// Whether the command would pull a canary batch into traffic: `next` while the canary waits for it,
    /// or `continue` to any batch at or past a canary not pulled in yet (continuing pulls it in without
    /// stopping), whether the flow runs, waits or is paused now.
    public static func passesCanary(_ command: DeployFlow.Command.Kind, _ state: DeployFlow.State) -> Bool {
        guard let canary = state.batches.first(where: { $0.canary && $0.pulledInAt == nil }) else { return false }
        switch command {
        case .next:
            if case .pullIn(let number)? = DeployFlow.waitingStep(state) { return number == canary.number }
            return false
        case .continueTo(let batch):
            return batch >= canary.number
        default:
            return false
        }
    }

    /// What `principal` may do to the flow now: the intents its state accepts (the decider is asked, on
    /// a copy) that the rules allow this principal without an override.
    public func allowedActions(_ flow: FlowRecord, _ principal: Principal) -> [FlowAction] {
        FlowAction.allCases.filter { action in
            let command = action.command(flow.state, by: principal.name)
            let metadata = EventMetadata(actor: principal.name, reason: "check", source: .system, time: flow.state.updatedAt ?? .distantPast)
            guard (try? DeployFlow.decide(DeployFlow.Command(command, metadata: metadata), flow.state)) != nil else { return false }
            do {
                return try self.authorize(command, on: flow, principal) == nil
            } catch {
                return false
            }
        }
    }
}

/// The intents on a flow a caller may be offered.
public enum FlowAction: String, Sendable, Hashable, Codable, CaseIterable {
    case next, `continue`, pause, resume, cancel, review

    /// The command the action sends (`continue` runs to the last batch).
    public func command(_ state: DeployFlow.State, by actor: String, batch: Int? = nil, note: String = "") -> DeployFlow.Command.Kind {
        switch self {
        case .next: .next
        case .continue: .continueTo(batch: batch ?? state.plan.count)
        case .pause: .pause
        case .resume: .resume
        case .cancel: .cancel
        case .review: .reviewEmergency(by: actor, note: note.isEmpty ? "check" : note)
        }
    }
}
