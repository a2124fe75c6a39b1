import EventStore
import PostgresStore
import ServiceLifecycle
import TritonAudit
import TritonDomain
import TritonEngine
import TritonProjections

/// The flow runner as a service: drives every active flow this process owns until the graceful
/// shutdown, retrying after failures; at the end it lets go of its flows at once, so another server
/// takes them over within a tick instead of waiting for this session to end.
struct FlowRunnerService: ServiceLifecycle.Service {
    let runner: FlowRunner
    let locks: PostgresAdvisoryLocks
    let output: TritonServer.Output

    func run() async throws {
        try await runUntilShutdown("flow runner", retrying: true, output: self.output) { try await self.runner.run() }
        await self.locks.releaseAll()
    }
}

/// The projector as a service: folds the log into the query tables until the graceful shutdown,
/// retrying after failures.
struct ProjectorService: ServiceLifecycle.Service {
    let projector: FlowProjector
    let output: TritonServer.Output

    func run() async throws {
        try await runUntilShutdown("projector", retrying: true, output: self.output) { try await self.projector.run() }
    }
}

/// The store's wake-ups (LISTEN/NOTIFY on new events) as a service.
struct StoreWakeUpsService: ServiceLifecycle.Service {
    let store: PostgresEventStore
    let output: TritonServer.Output

    func run() async throws {
        try await runUntilShutdown("store wake-ups", retrying: false, output: self.output) { await self.store.run() }
    }
}

/// The sealer as a service: follows the log and appends a signed seal after so many events, after so
/// long, and at each flow's end (its last event), retrying after failures.
struct SealerService: ServiceLifecycle.Service {
    let sealer: LogSealer
    let sealing: TritonServer.Configuration.Sealing
    let output: TritonServer.Output

    /// The events that end a flow: the seal after them is the one its record cites.
    static let flowEnds: Set<String> = [DeployFlow.FlowSucceeded.typeName, DeployFlow.FlowFailed.typeName, DeployFlow.Canceled.typeName]

    func run() async throws {
        let policy = SealPolicy(everyEvents: self.sealing.everyEvents, interval: self.sealing.interval) { Self.flowEnds.contains($0.type) }
        try await runUntilShutdown("sealer", retrying: true, output: self.output) { try await self.sealer.run(policy: policy) }
    }
}
