import EventStore
import Foundation
import TritonDomain

extension CommandHandler {
    /// Creates a flow: the instance stream records that the flow began (refused while another flow is
    /// active on the instance) and the flow stream records its creation, in one atomic append.
    /// - Throws: a `DomainRejection` naming the field and the reason; nothing is written then.
    public func createFlow(_ create: DeployFlow.CreateFlow, metadata: EventMetadata) async throws -> DeployFlow.State {
        let metadata = metadata.storedPrecision
        let instanceStream = Streams.instance(create.instance)
        let flowStream = Streams.flow(create.flowID)
        var attempt = 0
        while true {
            attempt += 1
            let (instance, instanceVersion) = try await self.load(Instance.self, stream: instanceStream)
            let instanceEvents = try Instance.decide(
                Instance.Command(
                    .beginFlow(
                        flowID: create.flowID, instance: create.instance, action: create.action, appSpec: create.appSpec,
                        rollbackTo: create.rollbackTo
                    ),
                    metadata: metadata
                ),
                instance
            )
            let flowEvents = try DeployFlow.decide(DeployFlow.Command(.create(create), metadata: metadata), DeployFlow.initialState)
            do {
                _ = try await self.store.append([
                    StreamAppend(
                        streamID: instanceStream, expectedVersion: instanceVersion == 0 ? .noStream : .exact(instanceVersion),
                        events: try instanceEvents.map { try $0.newEvent(metadata: metadata) }
                    ),
                    StreamAppend(
                        streamID: flowStream, expectedVersion: .noStream,
                        events: try flowEvents.map { try $0.newEvent(metadata: metadata) }
                    ),
                ])
                return DeployFlow.fold(flowEvents)
            } catch let error as EventStoreError where error.code == .wrongExpectedVersion && attempt < self.maxAttempts {
                continue
            }
        }
    }

    /// Sends a command to a flow.
    @discardableResult
    public func send(_ kind: DeployFlow.Command.Kind, to flow: FlowID, metadata: EventMetadata) async throws -> Outcome<DeployFlow> {
        try await self.send([kind], to: flow, metadata: metadata)
    }

    /// Sends commands to a flow as one: each is decided on the state the ones before it left, and their
    /// events are appended together, or (one is refused) none is.
    @discardableResult
    public func send(_ kinds: [DeployFlow.Command.Kind], to flow: FlowID, metadata: EventMetadata) async throws -> Outcome<DeployFlow> {
        try await self.send(to: flow, metadata: metadata) { _ in kinds }
    }

    /// Sends the commands `decide` returns for the flow's current state (it may throw to refuse, e.g. an
    /// authorization check on that state); appended together, or none.
    @discardableResult
    public func send(
        to flow: FlowID, metadata: EventMetadata, _ decide: (DeployFlow.State) throws -> [DeployFlow.Command.Kind]
    ) async throws -> Outcome<DeployFlow> {
        let metadata = metadata.storedPrecision
        let outcome = try await self.handle(DeployFlow.self, stream: Streams.flow(flow), metadata: metadata) { state in
            try decide(state).map { DeployFlow.Command($0, metadata: metadata) }
        }
        // A flow this command finished (cancel) frees its instance at once, not at the runner's next step.
        if outcome.state.isFinished && !outcome.events.isEmpty { try await self.endFlow(outcome.state, metadata: metadata) }
        return outcome
    }

    /// Sends the engine's facts for the flow's current state in one append: each command decided on the
    /// state the ones before it left and recorded with its own metadata (observer, timer, executor); once
    /// the flow is finished the rest are dropped, as a finished flow takes no more facts. (The caller
    /// records the flow's end on the instance stream, as ``FlowWorker/step(_:)`` does.)
    @discardableResult
    public func report(
        to flow: FlowID, _ decide: (DeployFlow.State) throws -> [(kind: DeployFlow.Command.Kind, metadata: EventMetadata)]
    ) async throws -> Outcome<DeployFlow> {
        try await self.handle(DeployFlow.self, stream: Streams.flow(flow), until: \.isFinished) { state in
            try decide(state).map { kind, metadata in
                let metadata = metadata.storedPrecision
                return (DeployFlow.Command(kind, metadata: metadata), metadata)
            }
        }
    }

    /// Records on the instance stream that a flow finished, freeing the instance for the next one.
    /// Recording it twice (the runner and an intent at once) is harmless: the second finds it ended.
    public func endFlow(_ state: DeployFlow.State, metadata: EventMetadata) async throws {
        guard let spec = state.spec, state.isFinished else { return }
        let metadata = metadata.storedPrecision
        do {
            try await self.handle(Instance.self, stream: Streams.instance(spec.instance), metadata: metadata) { _ in
                Instance.Command(.endFlow(flowID: spec.flowID, outcome: state.phase), metadata: metadata)
            }
        } catch let rejection as DomainRejection where rejection.code == .notActiveFlow {
            // Already recorded.
        }
    }
}
