import Foundation

extension DeployFlow {
    /// Validates a `create` command and plans its batches.
    static func validate(_ c: CreateFlow, at: Date) throws(DomainRejection) -> FlowCreated {
        let id = c.flowID.rawValue
        if id.isEmpty || id.contains(where: { $0.isWhitespace || $0 == "/" }) || id.count > 253 {
            throw .invalid("flowID", "the flow id must be 1–253 characters without spaces or '/' (got \"\(id)\")")
        }
        if let problem = c.instance.validationProblems.first {
            throw .invalid(problem.field, problem.reason)
        }
        guard c.currentReplicas >= 0 else {
            throw .invalid("currentReplicas", "replicas must not be negative (got \(c.currentReplicas))")
        }
        guard c.targetReplicas >= 0 else {
            throw .invalid("targetReplicas", "replicas must not be negative (got \(c.targetReplicas))")
        }
        guard c.targetReplicas <= Self.maxReplicas else {
            throw .invalid("targetReplicas", "at most \(Self.maxReplicas) replicas (got \(c.targetReplicas))")
        }
        guard c.currentReplicas <= Self.maxReplicas else {
            throw .invalid("currentReplicas", "at most \(Self.maxReplicas) replicas (got \(c.currentReplicas))")
        }
        for (field, value) in [("appSpec.appID", c.appSpec.appID), ("appSpec.groupID", c.appSpec.groupID)]
        where !(0...Int(Int32.max)).contains(value) {
            throw .invalid(field, "must be 0...\(Int32.max) (got \(value))")
        }
        if let duplicate = Self.firstDuplicate(c.existingPods) {
            throw .invalid("existingPods", "pod \(duplicate) is listed twice")
        }
        try Self.validateStrategyNumbers(c.strategy)
        if c.action.changesRevision, c.appSpec.image.trimmingSpaces().isEmpty {
            throw .invalid("appSpec.image", "\(c.action.rawValue) needs an image")
        }
        if c.action != .rollback, c.rollbackTo != nil {
            throw .invalid("rollbackTo", "rollbackTo applies to rollback only")
        }
        if !c.action.removesPods, !c.strategy.podsToDelete.isEmpty {
            throw .invalid("strategy.podsToDelete", "podsToDelete applies to scaleIn and restart only")
        }
        if c.strategy.canary > 0, !c.action.allowsCanary {
            throw .invalid(
                "strategy.canary",
                "a canary batch applies to create, update and rollback only, not to \(c.action.rawValue)"
            )
        }
        let podsToRemove = try Self.podsToRemove(c)
        let podsToProcess: Int
        switch c.action {
        case .create:
            guard c.currentReplicas == 0 else {
                throw .invalid(
                    "currentReplicas",
                    "create makes a new instance, but \(c.instance) already has \(c.currentReplicas) replicas; use update"
                )
            }
            guard c.targetReplicas >= 1 else {
                throw .invalid("targetReplicas", "create needs at least 1 replica")
            }
            podsToProcess = c.targetReplicas
        case .update, .rollback:
            guard c.targetReplicas == c.currentReplicas else {
                throw .invalid(
                    "targetReplicas",
                    "\(c.action.rawValue) keeps the replica count (\(c.currentReplicas)); scale separately"
                )
            }
            guard c.targetReplicas >= 1 else {
                throw .invalid("targetReplicas", "\(c.instance) has no replicas to \(c.action.rawValue)")
            }
            if c.action == .rollback, c.rollbackTo == nil {
                throw .invalid("rollbackTo", "rollback needs the earlier successful flow to roll back to")
            }
            podsToProcess = c.targetReplicas
        case .scaleOut:
            guard c.targetReplicas > c.currentReplicas else {
                throw .invalid(
                    "targetReplicas",
                    "scaleOut must increase the replicas (from \(c.currentReplicas), asked for \(c.targetReplicas))"
                )
            }
            podsToProcess = c.targetReplicas - c.currentReplicas
        case .scaleIn:
            guard c.targetReplicas < c.currentReplicas else {
                throw .invalid(
                    "targetReplicas",
                    "scaleIn must reduce the replicas (from \(c.currentReplicas), asked for \(c.targetReplicas))"
                )
            }
            podsToProcess = c.currentReplicas - c.targetReplicas
        case .restart:
            guard c.targetReplicas == c.currentReplicas else {
                throw .invalid(
                    "targetReplicas", "restart keeps the replica count (\(c.currentReplicas)); scale separately"
                )
            }
            podsToProcess = podsToRemove.count
        }
        let plan = try BatchPlan.make(podsToProcess: podsToProcess, strategy: c.strategy)
        return FlowCreated(
            flowID: c.flowID, instance: c.instance, action: c.action, appSpec: c.appSpec, strategy: c.strategy,
            currentReplicas: c.currentReplicas, targetReplicas: c.targetReplicas, existingPods: c.existingPods,
            podsToRemove: podsToRemove, rollbackTo: c.rollbackTo, plan: plan, at: at
        )
    }

    private static func validateStrategyNumbers(_ s: Strategy) throws(DomainRejection) {
        let numbers: [(String, Int)] = [
            ("strategy.batchIntervalSeconds", s.batchIntervalSeconds),
            ("strategy.startupTimeoutSeconds", s.startupTimeoutSeconds),
            ("strategy.pullOutWaitSeconds", s.pullOutWaitSeconds),
        ]
        for (field, value) in numbers where value < 0 {
            throw .invalid(field, "must not be negative (got \(value))")
        }
        for (field, value) in numbers where value > Self.maxSeconds {
            throw .invalid(field, "at most \(Self.maxSeconds) seconds (7 days; got \(value))")
        }
    }

    /// The most replicas a flow may have before or after it: a plan's batches and a flow's pods stay
    /// bounded (and fit the int32 of Kubernetes' `replicas`).
    public static let maxReplicas = 10_000
    /// The longest interval, timeout or wait a strategy may set: 7 days.
    public static let maxSeconds = 7 * 24 * 3600

    /// scaleIn: the named pods, or (none named) the last ones of `existingPods`; restart: the named pods
    /// or all of them.
    private static func podsToRemove(_ c: CreateFlow) throws(DomainRejection) -> [String] {
        guard c.action.removesPods else { return [] }
        let named = c.strategy.podsToDelete
        if let duplicate = Self.firstDuplicate(named) {
            throw .invalid("strategy.podsToDelete", "pod \(duplicate) is named twice")
        }
        let existing = Set(c.existingPods)
        if let unknown = named.first(where: { !existing.contains($0) }) {
            throw .invalid("strategy.podsToDelete", "\(c.instance) has no pod named \(unknown)")
        }
        switch c.action {
        case .scaleIn:
            let count = c.currentReplicas - c.targetReplicas
            if !named.isEmpty {
                guard named.count == count else {
                    throw .invalid(
                        "strategy.podsToDelete",
                        "scaling in from \(c.currentReplicas) to \(c.targetReplicas) removes \(count) pods, but \(named.count) are named"
                    )
                }
                return named
            }
            guard count <= c.existingPods.count else {
                throw .invalid(
                    "existingPods",
                    "scaleIn needs the names of the \(count) pods to remove; only \(c.existingPods.count) pods are known"
                )
            }
            return count > 0 ? Array(c.existingPods.suffix(count)) : []
        case .restart:
            guard !named.isEmpty || !c.existingPods.isEmpty else {
                throw DomainRejection(.nothingToDo, field: "existingPods", "\(c.instance) has no pods to restart")
            }
            return named.isEmpty ? c.existingPods : named
        case .create, .update, .rollback, .scaleOut:
            return []
        }
    }

    private static func firstDuplicate(_ names: [String]) -> String? {
        var seen: Set<String> = []
        for name in names where !seen.insert(name).inserted { return name }
        return nil
    }
}
