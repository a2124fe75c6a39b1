import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A Kubernetes-compatible API server with simulated OpenKruise CloneSets, pods, events, services,
/// endpoints and leases, for tests, demos and benchmarks.
///
/// ```swift
/// let cluster = SimulatedCluster(configuration: .init(timeScale: 20))
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { try await cluster.run() }
///     let port = try await cluster.waitUntilListening()
///     // talk to http://127.0.0.1:\(port)
/// }
/// ```
///
/// Objects can also be read and written in process (``create(_:_:)``, ``patch(_:namespace:name:subresource:type:_:)``…),
/// and with a manual clock (``SimConfiguration/ClockKind/manual(_:)``) time moves only through
/// ``advance(by:)``, which makes controller behaviour deterministic.
public final class SimulatedCluster: Sendable {
    public let configuration: SimConfiguration
    /// The clock of the simulation.
    public let clock: any SimClock
    let store: ObjectStore
    let api: KubeAPI
    let engine: SimEngine
    let logger: Logger
    private let listening: Mutex<ListenState>

    private struct ListenState {
        var port: Int?
        /// The port the last run bound: a run after it serves at the same address, as a restarted API
        /// server does, even when the configuration asked for any port (0).
        var boundPort: Int?
        var stopped = false
        /// Why the last run ended, when it failed (a port already taken, say).
        var failure: (any Error)?
        var waiters: [CheckedContinuation<Int, any Error>] = []
    }

    /// Creates a cluster with its built-in namespaces (`default`, `kube-system`, …) and nodes.
    /// Nothing runs until ``run()`` (or ``runControllers()``).
    /// - Parameters:
    ///   - configuration: Settings; see ``SimConfiguration``.
    ///   - logger: Where the server logs. Defaults to a logger that discards everything.
    public init(
        configuration: SimConfiguration = .init(),
        logger: Logger = Logger(label: "triton.sim", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = configuration
        self.logger = logger
        let clock: any SimClock
        switch configuration.clock {
        case .scaled: clock = ScaledClock(timeScale: configuration.timeScale)
        case .manual(let manual): clock = manual
        }
        self.clock = clock
        self.store = ObjectStore(
            configuration: .init(historySize: configuration.watchHistorySize), clock: clock, seed: configuration.resolvedSeed)
        self.api = KubeAPI(store: self.store)
        self.engine = SimEngine(store: self.store, api: self.api, configuration: configuration, logger: logger)
        self.listening = Mutex(ListenState())
        self.engine.bootstrap()
        self.engine.step()
    }

    // MARK: - Running

    /// Serves the API over HTTP and runs the controllers until the task is cancelled. A second run of
    /// the same cluster (after the first ended) serves the same objects at the port the first one bound.
    public func run() async throws {
        self.listening.withLock {
            $0.stopped = false
            $0.failure = nil
        }
        let app = self.makeApplication()
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await self.engine.run() }
                group.addTask { try await app.run() }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            self.stopped(failure: error)
            throw error
        }
        self.stopped(failure: nil)
    }

    /// Runs only the controllers (no HTTP server) until the task is cancelled.
    public func runControllers() async {
        await self.engine.run()
    }

    /// The HTTP application, for running it yourself or testing it with `HummingbirdTesting`.
    /// When the application runs, its bound port is reported to ``waitUntilListening()``.
    public func makeApplication() -> some ApplicationProtocol {
        Application(
            responder: KubeResponder(cluster: self),
            configuration: .init(address: .hostname(self.configuration.host, port: self.portToBind), serverName: nil),
            onServerRunning: { [weak self] channel in
                self?.didStartListening(port: channel.localAddress?.port ?? 0)
            },
            logger: self.logger
        )
    }

    /// The configured port, or, when that is 0 and a run has bound one, that port again.
    private var portToBind: Int {
        if self.configuration.port != 0 { return self.configuration.port }
        return self.listening.withLock { $0.boundPort } ?? 0
    }

    /// Waits until the HTTP server listens and returns its port.
    /// - Throws: the error the server stopped with (a port already taken, say), or `CancellationError`
    ///   when it stopped (or never started) without one.
    public func waitUntilListening() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let result = self.listening.withLock { state -> Result<Int, any Error>? in
                if let port = state.port { return .success(port) }
                if state.stopped { return .failure(state.failure ?? CancellationError()) }
                state.waiters.append(continuation)
                return nil
            }
            if let result { continuation.resume(with: result) }
        }
    }

    /// The port the server listens on, once it does.
    public var port: Int? { self.listening.withLock { $0.port } }

    private func didStartListening(port: Int) {
        let waiters = self.listening.withLock { state -> [CheckedContinuation<Int, any Error>] in
            state.port = port
            state.boundPort = port
            defer { state.waiters = [] }
            return state.waiters
        }
        self.logger.info("simulated cluster listening", metadata: ["sim.host": "\(self.configuration.host)", "sim.port": "\(port)"])
        for waiter in waiters { waiter.resume(returning: port) }
    }

    private func stopped(failure: (any Error)?) {
        self.store.closeAllWatches()
        let waiters = self.listening.withLock { state -> [CheckedContinuation<Int, any Error>] in
            state.stopped = true
            state.failure = failure
            state.port = nil
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(throwing: failure ?? CancellationError()) }
    }

    // MARK: - Time

    /// Runs the controllers on everything that has changed, at the clock's current time.
    public func settle() {
        self.engine.step()
    }

    /// Moves a manual clock forward by `seconds`, running every timer that falls due in order.
    /// With a scaled clock this only runs the controllers (time moves by itself).
    public func advance(by seconds: Double) {
        guard let manual = self.clock as? ManualClock else {
            self.engine.step()
            return
        }
        let target = manual.now() + seconds
        self.engine.step()
        while let due = self.engine.nextDue, due <= target {
            manual.set(due)
            self.engine.step()
        }
        manual.set(target)
        self.engine.step()
    }

    /// Current simulated time in seconds.
    public var now: Double { self.clock.now() }
}
