/// How a flow proceeds: batch shape, canary, mode, timings and the pods to remove.
///
/// Every property has a default, and a missing JSON key decodes to it.
public struct Strategy: Sendable, Hashable, Codable {
    /// Pods per batch, a number or a percent of the pods to process (rounded up). Give this or
    /// `batches`, not both; with neither, each batch holds one pod. Defaults to `nil`.
    public var batchSize: BatchSize?
    /// The number of batches after the canary, as an alternative to `batchSize`; pods are spread
    /// evenly, larger batches first. Defaults to `nil`.
    public var batches: Int?
    /// The size of a separate first batch (create, update and rollback only). Defaults to `0` (none).
    public var canary: Int
    /// Defaults to `manual`.
    public var mode: Mode
    /// Auto mode: the wait between one batch finishing and the next starting. Defaults to `0` seconds.
    public var batchIntervalSeconds: Int
    /// A batch whose pods are not all ContainersReady this long after it started fails (SmokeFailed);
    /// `0` disables the timeout. Defaults to `600` seconds.
    public var startupTimeoutSeconds: Int
    /// The wait between pulling pods out of traffic and deleting them. Defaults to `30` seconds.
    public var pullOutWaitSeconds: Int
    /// Pull pods into traffic as soon as they are Smoked, without stopping, even for the canary.
    /// Defaults to `false`.
    public var noPullIn: Bool
    /// scaleIn / restart: exactly which pods to remove. Defaults to `[]`.
    public var podsToDelete: [String]

    public init(
        batchSize: BatchSize? = nil, batches: Int? = nil, canary: Int = 0, mode: Mode = .manual,
        batchIntervalSeconds: Int = 0, startupTimeoutSeconds: Int = 600, pullOutWaitSeconds: Int = 30,
        noPullIn: Bool = false, podsToDelete: [String] = []
    ) {
        self.batchSize = batchSize
        self.batches = batches
        self.canary = canary
        self.mode = mode
        self.batchIntervalSeconds = batchIntervalSeconds
        self.startupTimeoutSeconds = startupTimeoutSeconds
        self.pullOutWaitSeconds = pullOutWaitSeconds
        self.noPullIn = noPullIn
        self.podsToDelete = podsToDelete
    }

    private enum CodingKeys: String, CodingKey {
        case batchSize, batches, canary, mode, batchIntervalSeconds, startupTimeoutSeconds, pullOutWaitSeconds
        case noPullIn, podsToDelete
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Strategy()
        self.batchSize = try c.decodeIfPresent(BatchSize.self, forKey: .batchSize)
        self.batches = try c.decodeIfPresent(Int.self, forKey: .batches)
        self.canary = try c.decodeIfPresent(Int.self, forKey: .canary) ?? defaults.canary
        self.mode = try c.decodeIfPresent(Mode.self, forKey: .mode) ?? defaults.mode
        self.batchIntervalSeconds =
            try c.decodeIfPresent(Int.self, forKey: .batchIntervalSeconds) ?? defaults.batchIntervalSeconds
        self.startupTimeoutSeconds =
            try c.decodeIfPresent(Int.self, forKey: .startupTimeoutSeconds) ?? defaults.startupTimeoutSeconds
        self.pullOutWaitSeconds =
            try c.decodeIfPresent(Int.self, forKey: .pullOutWaitSeconds) ?? defaults.pullOutWaitSeconds
        self.noPullIn = try c.decodeIfPresent(Bool.self, forKey: .noPullIn) ?? defaults.noPullIn
        self.podsToDelete = try c.decodeIfPresent([String].self, forKey: .podsToDelete) ?? defaults.podsToDelete
    }
}
