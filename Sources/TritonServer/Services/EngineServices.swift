import PostgresStore
import ServiceLifecycle
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
