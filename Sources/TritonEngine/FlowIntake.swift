import EventStore
import Foundation
import TritonDomain

/// A release as a person or an API asks for it: the action and its few parameters. The engine fills
/// in what the cluster and the log know (current replicas, existing pods, the app spec running now,
/// the release a rollback goes back to) to make a ``DeployFlow/CreateFlow``.
public struct ReleaseRequest: Sendable, Hashable {
    public enum Action: Sendable, Hashable {
        /// A new instance with `replicas` pods of `appSpec`.
        case create(AppSpec, replicas: Int)
        /// A new image (and, when given, app identity or template) for the running instance.
        case update(image: String, appSpec: AppSpec?)
        /// Triton's deploy: `create` (with `replicas`) when the instance has no CloneSet, else `update` to
        /// `appSpec`.
        case deploy(AppSpec, replicas: Int?)
        /// Back to the template of an earlier successful flow; `nil`: the one before the current.
        case rollback(to: FlowID?)
        /// To `replicas` pods: scaleOut when more, scaleIn (with `strategy.podsToDelete`) when fewer.
        case scale(replicas: Int)
        /// Replace the pods named in `strategy.podsToDelete`.
        case restart
    }

    public var instance: InstanceRef
    public var action: Action
    public var strategy: Strategy
    /// Defaults to `<instance>-<action>-<5 random characters>`.
    public var flowID: FlowID?

    public init(instance: InstanceRef, action: Action, strategy: Strategy = Strategy(), flowID: FlowID? = nil) {
        self.instance = instance
        self.action = action
        self.strategy = strategy
        self.flowID = flowID
    }
}

extension CommandHandler {
    /// Turns a request into the flow to create, from the instance's log and its CloneSet as the cluster
    /// shows it now. Reads only.
    /// - Throws: a `DomainRejection` naming the field and the reason (no CloneSet to update, nothing to
    ///   roll back to, scale to the same size, …).
    public func prepare(_ request: ReleaseRequest, cluster: any ClusterPort) async throws -> DeployFlow.CreateFlow {
        let instance = request.instance
        let history = try await self.settledInstance(instance)
        if history.pendingDeletion != nil {
            throw DomainRejection(.instanceDeleting, field: "instance", "\(instance) is being deleted; wait until it is gone")
        }
        if let active = history.activeFlow {
            throw DomainRejection(
                .activeFlowExists, field: "instance",
                "\(instance) already has an active flow \(active.flowID) (\(active.action.rawValue)); wait for it, or cancel it"
            )
        }
        let workload = try await cluster.workload(instance)
        let livePods = workload == nil ? [] : try await cluster.pods(instance).filter { !$0.terminating }.map(\.name).sorted()
        func existing() throws(DomainRejection) -> ClusterWorkload {
            guard let workload else {
                throw DomainRejection(.notCreated, field: "instance", "\(instance) has no CloneSet in the cluster; create it first")
            }
            return workload
        }
        let action: Action
        var appSpec: AppSpec
        var current = 0
        var target = 0
        var rollbackTo: FlowID?
        var requested = request.action
        if case .deploy(let spec, let replicas) = requested {
            if workload != nil {
                requested = .update(image: spec.image, appSpec: spec)
            } else {
                guard let replicas else {
                    throw DomainRejection(.invalidField, field: "targetReplicas", "replicas are required to create \(instance)")
                }
                requested = .create(spec, replicas: replicas)
            }
        }
        switch requested {
        case .deploy:
            preconditionFailure("resolved to create or update above")
        case .create(let spec, let replicas):
            if workload != nil {
                throw DomainRejection(.alreadyExists, field: "instance", "\(instance) already exists in the cluster; use update")
            }
            action = .create
            appSpec = spec
            target = replicas
        case .update(let image, let spec):
            let workload = try existing()
            guard var spec = spec ?? history.currentAppSpec else {
                throw DomainRejection(
                    .invalidField, field: "appID",
                    "\(instance) has no successful release in the log to take appID/groupID/appName from; give them"
                )
            }
            spec.image = image
            action = .update
            appSpec = spec
            current = workload.replicas
            target = workload.replicas
        case .rollback(let to):
            let workload = try existing()
            let chosen = try to ?? Self.previousRelease(history, instance)
            appSpec = try history.rollbackTarget(chosen)
            rollbackTo = chosen
            action = .rollback
            current = workload.replicas
            target = workload.replicas
        case .scale(let replicas):
            let workload = try existing()
            guard replicas != workload.replicas else {
                throw DomainRejection(.nothingToDo, field: "replicas", "\(instance) already has \(replicas) replicas")
            }
            action = replicas > workload.replicas ? .scaleOut : .scaleIn
            appSpec = try Self.runningSpec(history, workload, instance)
            current = workload.replicas
            target = replicas
        case .restart:
            let workload = try existing()
            action = .restart
            appSpec = try Self.runningSpec(history, workload, instance)
            current = workload.replicas
            target = workload.replicas
        }
        let flowID = request.flowID ?? FlowID("\(instance.name)-\(Self.actionSlug(action))-\(Self.randomSuffix())")
        return DeployFlow.CreateFlow(
            flowID: flowID, instance: instance, action: action, appSpec: appSpec, currentReplicas: current,
            targetReplicas: target, existingPods: livePods, strategy: request.strategy, rollbackTo: rollbackTo
        )
    }

    /// The instance's state, after recording the end of an active flow that finished but whose end the
    /// runner has not recorded yet (such a flow does not hold the instance).
    func settledInstance(_ instance: InstanceRef) async throws -> Instance.State {
        let history = try await self.load(Instance.self, stream: Streams.instance(instance)).state
        guard let active = history.activeFlow else { return history }
        let flow = try await self.load(DeployFlow.self, stream: Streams.flow(active.flowID)).state
        guard flow.isFinished else { return history }
        try await self.endFlow(flow, metadata: EventMetadata(actor: "engine", source: .system, time: flow.finishedAt ?? Date()))
        return try await self.load(Instance.self, stream: Streams.instance(instance)).state
    }

    /// Prepares and creates in one go; returns the created flow's state.
    public func create(_ request: ReleaseRequest, cluster: any ClusterPort, metadata: EventMetadata) async throws -> DeployFlow.State {
        try await self.createFlow(try await self.prepare(request, cluster: cluster), metadata: metadata)
    }

    /// The release a plain rollback goes back to: after a failed or canceled release, the last
    /// successful one (what ran before it); after a successful one, the successful one before it.
    static func previousRelease(_ history: Instance.State, _ instance: InstanceRef) throws(DomainRejection) -> FlowID {
        let revisions = history.releases.filter { $0.action.changesRevision && $0.appSpec != nil }
        let successes = revisions.filter { $0.outcome == .success }
        let chosen: Instance.Release?
        if let last = revisions.last, last.outcome != .success {
            chosen = successes.last
        } else {
            chosen = successes.dropLast().last
        }
        guard let chosen else {
            throw DomainRejection(.flowNotRollbackable, field: "rollbackTo", "\(instance) has no earlier successful release to roll back to")
        }
        return chosen.flowID
    }

    /// What the instance runs (scale and restart keep it).
    static func runningSpec(_ history: Instance.State, _ workload: ClusterWorkload, _ instance: InstanceRef) throws(DomainRejection)
        -> AppSpec
    {
        if let spec = history.currentAppSpec { return spec }
        guard let image = workload.image else {
            throw DomainRejection(.invalidField, field: "instance", "\(instance) has no release in the log and no image in its template")
        }
        return AppSpec(appID: 0, groupID: 0, appName: instance.name, image: image)
    }

    static func actionSlug(_ action: Action) -> String {
        switch action {
        case .scaleOut: "scale-out"
        case .scaleIn: "scale-in"
        default: action.rawValue
        }
    }

    /// Five characters for a generated flow name (no vowels, so no words).
    public static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }
}
