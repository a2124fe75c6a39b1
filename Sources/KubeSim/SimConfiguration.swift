/// Settings of a ``SimulatedCluster``.
public struct SimConfiguration: Sendable {
    /// Which clock drives the simulation.
    public enum ClockKind: Sendable {
        /// Wall-clock time sped up by ``SimConfiguration/timeScale``.
        case scaled
        /// Time moves only through ``SimulatedCluster/advance(by:)``: deterministic tests.
        case manual(ManualClock)
    }

    /// Address to listen on. Defaults to `"127.0.0.1"` (loopback only).
    public var host: String = "127.0.0.1"
    /// Port to listen on; `0` picks a free port (see ``SimulatedCluster/waitUntilListening()``). Defaults to `0`.
    public var port: Int = 0
    /// Simulated seconds per real second (`--time-scale`). Defaults to `1`.
    public var timeScale: Double = 1
    /// Seed for generated names, uids and timing jitter (`--seed`); `nil` picks one at random.
    /// Defaults to `nil`.
    public var seed: UInt64?
    /// When set, every request must carry `Authorization: Bearer <token>` (`--token`). Defaults to `nil`.
    public var token: String?
    /// Number of simulated nodes. Defaults to `3`.
    public var nodeCount: Int = 3
    /// Default pod timings, overridable per pod template with `sim.triton.io/*` annotations.
    public var timings = PodTimings()
    /// Random spread applied to each timing (0.1 = ±10%). Defaults to `0.1`; `0` for exact timings.
    public var timingJitter: Double = 0.1
    /// Changes kept for watches resuming from a resourceVersion; older ones get `410 Expired`.
    /// Defaults to `50_000`.
    public var watchHistorySize: Int = 50_000
    /// Interval between `BOOKMARK` events on watches that ask for them. Defaults to `60` seconds
    /// (real time).
    public var bookmarkInterval: Duration = .seconds(60)
    /// Longest a watch stays open when the client gives no `timeoutSeconds`. Defaults to `1800` seconds.
    public var maxWatchDuration: Duration = .seconds(1800)
    /// The clock. Defaults to ``ClockKind/scaled``.
    public var clock: ClockKind = .scaled

    public init(
        host: String = "127.0.0.1", port: Int = 0, timeScale: Double = 1, seed: UInt64? = nil, token: String? = nil
    ) {
        self.host = host
        self.port = port
        self.timeScale = timeScale
        self.seed = seed
        self.token = token
    }

    let randomSeed = UInt64.random(in: 1...UInt64.max)
    var resolvedSeed: UInt64 { self.seed ?? self.randomSeed }
}
