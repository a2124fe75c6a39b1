import EventStore
import Foundation
import TritonDomain

/// The intent layer: every intent of a person, from REST, gRPC or the CLI (through the API), goes
/// through here. It validates the request, asks the ``AuthorizationPolicy`` (on the state the events
/// are decided on), records the authenticated principal as the actor, and answers with the flow and
/// its attribution. The API modules only decode, call and encode.
public struct Intents: Sendable {
    public let handler: CommandHandler
    public let cluster: any ClusterPort
    public let policy: AuthorizationPolicy

    public init(handler: CommandHandler, cluster: any ClusterPort, policy: AuthorizationPolicy) {
        self.handler = handler
        self.cluster = cluster
        self.policy = policy
    }

    /// Who asks, why, and where the request came from.
    public struct Caller: Sendable, Hashable {
        public var principal: Principal
        public var reason: String?
        public var requestID: String?
        public var clientAddress: String?
        public var source: EventMetadata.Source
        /// When the intent happened; `nil` is now. Set only by a process that runs on a simulated clock
        /// (`triton demo`), whose events must be on that clock.
        public var time: Date?

        public init(
            _ principal: Principal, reason: String? = nil, requestID: String? = nil, clientAddress: String? = nil,
            source: EventMetadata.Source = .api, time: Date? = nil
        ) {
            self.principal = principal
            self.reason = reason?.isEmpty == true ? nil : reason
            self.requestID = requestID
            self.clientAddress = clientAddress
            self.source = source
            self.time = time
        }

        /// The metadata of the events: the actor is the principal, never something the client claimed.
        public var metadata: EventMetadata {
            EventMetadata(
                actor: self.principal.name, reason: self.reason, requestID: self.requestID, clientAddress: self.clientAddress,
                source: self.source, time: self.time ?? Date()
            )
        }
    }

    // MARK: - Reads

    /// The flow, with who did what; a flow of another namespace (when `namespace` is given) is not found.
    public func flow(_ id: FlowID, namespace: String?, field: String = "name") async throws -> FlowRecord {
        guard let record = try await FlowRecord.load(id, from: self.handler.store), let spec = record.state.spec,
            namespace == nil || spec.instance.namespace == namespace
        else {
            throw DomainRejection(.unknownFlow, field: field, "no deployflow \(id) in namespace \(namespace ?? "any")")
        }
        return record
    }

    /// What the principal may do to the flow now.
    public func allowedActions(_ flow: FlowRecord, _ principal: Principal) -> [FlowAction] {
        self.policy.allowedActions(flow, principal)
    }

    /// Whether the flow waits for a decision this principal may take: a stop in manual mode (or at the
    /// canary) the principal may pass, or an unreviewed emergency change it may review.
    public func needsDecision(_ flow: FlowRecord, _ principal: Principal) -> Bool {
        let allowed = Set(self.allowedActions(flow, principal))
        if allowed.contains(.review) { return true }
        return !flow.state.isFinished && !flow.state.paused && DeployFlow.waitingStep(flow.state) != nil && allowed.contains(.next)
    }

    // MARK: - Releases

    /// A release: create, update, rollback, scale or restart.
    public struct Release: Sendable, Hashable {
        public var instance: InstanceRef
        public var action: ReleaseRequest.Action
        public var strategy: StrategyInput
        public var flowID: FlowID?
        /// The request's names for the fields the domain names `strategy`, `targetReplicas` and
        /// `appSpec`, so a refusal names what the client sent.
        public var strategyField: String
        public var replicasField: String
        public var appSpecField: String
        public var rollbackField: String

        public init(
            instance: InstanceRef, action: ReleaseRequest.Action, strategy: StrategyInput = StrategyInput(), flowID: FlowID? = nil,
            strategyField: String = "strategy", replicasField: String = "replicas", appSpecField: String = "applicationSpec",
            rollbackField: String = "deployName"
        ) {
            self.instance = instance
            self.action = action
            self.strategy = strategy
            self.flowID = flowID
            self.strategyField = strategyField
            self.replicasField = replicasField
            self.appSpecField = appSpecField
            self.rollbackField = rollbackField
        }

        var strategyKind: StrategyInput.Kind {
            switch self.action {
            case .create, .update, .deploy, .rollback: .update
            case .scale, .restart: .nonUpdate
            }
        }
    }

    /// Creates the flow of a release, named `<instance>-<5 random characters>` as Triton names them unless
    /// the request names it. Needs the deployer role.
    public func release(_ release: Release, _ caller: Caller) async throws -> FlowRecord {
        let (request, flowID) = try self.request(release, caller, for: "releasing an instance", flowID: CommandHandler.randomSuffix())
        do {
            _ = try await self.handler.create(request, cluster: self.cluster, metadata: caller.metadata)
        } catch var rejection as DomainRejection {
            rejection.field = rejection.field.map { Self.requestName($0, release) }
            throw rejection
        }
        return try await self.flow(flowID, namespace: nil)
    }

    /// What a release would do, decided exactly as ``release(_:_:)`` decides it but appending nothing:
    /// the flow it would create (its plan of batches, the strategy in force) and the instance's image and
    /// size before and after. Needs the deployer role (it answers what this caller could start).
    public func preview(_ release: Release, _ caller: Caller) async throws -> Preview {
        let (request, _) = try self.request(release, caller, for: "previewing a release", flowID: "preview")
        do {
            let create = try await self.handler.prepare(request, cluster: self.cluster)
            let events = try DeployFlow.decide(DeployFlow.Command(.create(create), metadata: caller.metadata), DeployFlow.initialState)
            let state = events.reduce(DeployFlow.initialState, DeployFlow.evolve)
            let image = try await self.cluster.workload(release.instance)?.image
            return Preview(
                state: state, fromImage: image, fromReplicas: create.currentReplicas, toImage: create.appSpec.image,
                toReplicas: create.targetReplicas
            )
        } catch var rejection as DomainRejection {
            rejection.field = rejection.field.map { Self.requestName($0, release) }
            throw rejection
        }
    }

    /// The engine's request for a release, once the caller may release and the strategy is valid; the
    /// flow is named `<instance>-<suffix>` unless the release names it.
    private func request(_ release: Release, _ caller: Caller, for what: String, flowID suffix: String) throws -> (ReleaseRequest, FlowID) {
        try self.policy.require(.deployer, for: what, caller.principal)
        let strategy = try release.strategy.strategy(release.strategyKind, field: release.strategyField)
        if case .restart = release.action, strategy.podsToDelete.isEmpty {
            throw DomainRejection(.invalidField, field: "\(release.strategyField).podsToDelete", "name at least one pod")
        }
        let flowID = release.flowID ?? FlowID("\(release.instance.name)-\(suffix)")
        return (ReleaseRequest(instance: release.instance, action: release.action, strategy: strategy, flowID: flowID), flowID)
    }

    /// A release as ``preview(_:_:)`` answers it.
    public struct Preview: Sendable {
        /// The flow as it would be created (nothing appended).
        public var state: DeployFlow.State
        /// The image the CloneSet runs now (`nil`: no CloneSet yet) and its replicas.
        public var fromImage: String?
        public var fromReplicas: Int
        public var toImage: String
        public var toReplicas: Int
    }

    static func requestName(_ field: String, _ release: Release) -> String {
        if field.hasPrefix("strategy.") { return release.strategyField + field.dropFirst("strategy".count) }
        if field == "targetReplicas" { return release.replicasField }
        // A request with its app fields at the top level (`appSpecField` empty) sends the image as `image`.
        if field == "appSpec.image" || field == "appSpec" { return release.appSpecField.isEmpty ? "image" : "\(release.appSpecField).template" }
        if field.hasPrefix("appSpec.") {
            let key = field.dropFirst("appSpec.".count)
            return release.appSpecField.isEmpty ? String(key) : "\(release.appSpecField).\(key)"
        }
        if field == "rollbackTo" { return release.rollbackField }
        return field
    }

    // MARK: - Flow intents

    /// A control intent: next, continue (to `batch`, else the last), pause, resume, cancel, review.
    public struct Control: Sendable, Hashable {
        public var action: FlowAction
        public var batch: Int?
        /// An admin's justification for overriding four-eyes (an emergency change).
        public var emergency: String?
        /// The request's name for the batch field.
        public var batchField: String

        public init(_ action: FlowAction, batch: Int? = nil, emergency: String? = nil, batchField: String = "batch") {
            self.action = action
            self.batch = batch
            self.emergency = emergency?.isEmpty == true ? nil : emergency
            self.batchField = batchField
        }
    }

    /// Sends one control intent to a flow.
    public func control(_ id: FlowID, namespace: String?, _ control: Control, _ caller: Caller) async throws -> FlowRecord {
        try await self.control(id, namespace: namespace, [control], caller)
    }

    /// Sends several control intents as one change (PATCH): each authorized and decided on the state the
    /// ones before it left; all are written, or (one is refused) none.
    public func control(_ id: FlowID, namespace: String?, _ controls: [Control], _ caller: Caller) async throws -> FlowRecord {
        let record = try await self.flow(id, namespace: namespace)
        let principal = caller.principal
        let note = caller.reason ?? ""
        let policy = self.policy
        do {
            try await self.handler.send(to: id, metadata: caller.metadata) { state in
                var current = record
                current.state = state
                // Who may do each of them is decided first, on the state as it is, so a refusal says the
                // rule whatever else in the change the state would refuse; then each on the state the
                // ones before it leave.
                for control in controls {
                    let kind = control.action.command(current.state, by: principal.name, batch: control.batch, note: note)
                    _ = try policy.authorize(kind, on: current, principal, emergency: control.emergency)
                }
                var kinds: [DeployFlow.Command.Kind] = []
                for control in controls {
                    let kind = control.action.command(current.state, by: principal.name, batch: control.batch, note: note)
                    if case .reviewEmergency = kind, note.isEmpty {
                        throw DomainRejection(.invalidField, field: "reason", "a review needs a reason")
                    }
                    if let override = try policy.authorize(kind, on: current, principal, emergency: control.emergency) {
                        let declare = DeployFlow.Command.Kind.declareEmergency(
                            rule: override.rule.rawValue, justification: override.justification, by: principal.name
                        )
                        kinds.append(declare)
                        current.state = try Self.dryRun(declare, current.state)
                    }
                    kinds.append(kind)
                    current.state = try Self.dryRun(kind, current.state)
                }
                return kinds
            }
        } catch var rejection as DomainRejection where rejection.field == "batch" {
            rejection.field = controls.first { $0.batch != nil }?.batchField ?? controls.first?.batchField ?? "batch"
            throw rejection
        }
        return try await self.flow(id, namespace: nil)
    }

    private static func dryRun(_ kind: DeployFlow.Command.Kind, _ state: DeployFlow.State) throws -> DeployFlow.State {
        let metadata = EventMetadata(actor: "check", source: .system, time: state.updatedAt ?? Date())
        return DeployFlow.fold(try DeployFlow.decide(DeployFlow.Command(kind, metadata: metadata), state), from: state)
    }

    // MARK: - Instances

    /// Asks the engine to delete the instance's CloneSet. Needs the deployer role.
    public func deleteInstance(_ instance: InstanceRef, _ caller: Caller) async throws -> Instance.State {
        try self.policy.require(.deployer, for: "deleting an instance", caller.principal)
        return try await self.handler.requestDeletion(instance, cluster: self.cluster, metadata: caller.metadata)
    }
}
