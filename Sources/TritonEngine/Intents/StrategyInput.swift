import TritonDomain

/// A strategy as a request sends it, every field optional and untyped where clients send text
/// (`batchSize` "30%" or "3", `mode`): the one place that turns it into a ``Strategy``, for REST, gRPC
/// and the CLI. A refusal names the field under the request's own name (`field` + "." + the key).
public struct StrategyInput: Sendable, Hashable, Codable {
    /// Which strategy a release action takes: create, update and rollback take an update strategy (canary,
    /// noPullIn); scale and restart a non-update strategy (podsToDelete).
    public enum Kind: Sendable, Hashable {
        case update, nonUpdate
    }

    public var batchSize: String?
    public var batches: Int?
    public var canary: Int?
    public var mode: String?
    public var batchIntervalSeconds: Int?
    public var startupTimeoutSeconds: Int?
    public var pullOutWaitSeconds: Int?
    public var noPullIn: Bool?
    public var podsToDelete: [String]?
    /// Triton's stages; refused (batches instead).
    public var stage: String?

    public init(
        batchSize: String? = nil, batches: Int? = nil, canary: Int? = nil, mode: String? = nil, batchIntervalSeconds: Int? = nil,
        startupTimeoutSeconds: Int? = nil, pullOutWaitSeconds: Int? = nil, noPullIn: Bool? = nil, podsToDelete: [String]? = nil,
        stage: String? = nil
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
        self.stage = stage
    }

    /// The strategy, with every field not given at its default.
    public func strategy(_ kind: Kind, field: String) throws(DomainRejection) -> Strategy {
        func name(_ key: String) -> String { field.isEmpty ? key : "\(field).\(key)" }
        var strategy = Strategy()
        if let text = self.batchSize {
            guard let size = BatchSize(parsing: text) else {
                throw DomainRejection(.invalidField, field: name("batchSize"), "'\(text)' is neither a number nor a percent such as \"30%\"")
            }
            strategy.batchSize = size
        }
        strategy.batches = self.batches
        if let mode = self.mode {
            guard let parsed = Mode(rawValue: mode) else {
                throw DomainRejection(.invalidField, field: name("mode"), "'\(mode)' is not one of auto, manual")
            }
            strategy.mode = parsed
        }
        strategy.batchIntervalSeconds = self.batchIntervalSeconds ?? strategy.batchIntervalSeconds
        strategy.startupTimeoutSeconds = self.startupTimeoutSeconds ?? strategy.startupTimeoutSeconds
        strategy.pullOutWaitSeconds = self.pullOutWaitSeconds ?? strategy.pullOutWaitSeconds
        if let stage = self.stage, !stage.isEmpty {
            throw DomainRejection(.invalidField, field: name("stage"), "stages are not supported; use batches")
        }
        switch kind {
        case .update:
            if self.podsToDelete?.isEmpty == false {
                throw DomainRejection(.invalidField, field: name("podsToDelete"), "only a restart or a scale in removes chosen pods")
            }
            strategy.canary = self.canary ?? 0
            strategy.noPullIn = self.noPullIn ?? false
        case .nonUpdate:
            if let canary = self.canary, canary != 0 {
                throw DomainRejection(.invalidField, field: name("canary"), "only create, update and rollback have a canary")
            }
            if self.noPullIn == true {
                throw DomainRejection(.invalidField, field: name("noPullIn"), "only create, update and rollback pull pods in")
            }
            strategy.podsToDelete = self.podsToDelete ?? []
        }
        return strategy
    }
}
