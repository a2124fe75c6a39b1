/// The batches of a flow, derived up front from the strategy so a release can show its overview
/// before it starts. Batch numbers start at 1.
public struct BatchPlan: Sendable, Hashable, Codable {
    /// One planned batch.
    public struct Batch: Sendable, Hashable, Codable {
        /// 1-based batch number.
        public var number: Int
        /// Pods in the batch (at least 1).
        public var size: Int
        /// Whether this is the separate canary batch (always batch 1 when present).
        public var canary: Bool

        public init(number: Int, size: Int, canary: Bool) {
            self.number = number
            self.size = size
            self.canary = canary
        }
    }

    public var batches: [Batch]

    public init(batches: [Batch]) { self.batches = batches }

    /// An empty plan (before a flow is created).
    public static let empty = BatchPlan(batches: [])

    /// The batch sizes in order.
    public var sizes: [Int] { self.batches.map(\.size) }
    /// The pods the plan processes (the sum of the sizes).
    public var total: Int { self.batches.reduce(0) { $0 + $1.size } }
    /// The number of batches.
    public var count: Int { self.batches.count }

    /// Plans the batches for `podsToProcess` pods.
    ///
    /// An optional canary batch comes first; the rest is cut into batches of `batchSize` pods (a
    /// percent is of `podsToProcess`, rounded up), the last one taking the remainder, or spread evenly
    /// over `batches` batches (larger first). With neither, each batch holds one pod. Sizes always sum
    /// to `podsToProcess` and no batch is empty. Whether a canary is allowed for the action is checked
    /// by the caller.
    ///
    /// Example: 10 pods, canary 1, batchSize 3 → `[1 (canary), 3, 3, 3]`.
    public static func make(podsToProcess: Int, strategy: Strategy) throws(DomainRejection) -> BatchPlan {
        guard podsToProcess > 0 else {
            throw DomainRejection(.nothingToDo, "there are no pods to process")
        }
        if strategy.batchSize != nil, strategy.batches != nil {
            throw .invalid("strategy.batches", "give either batchSize or batches, not both")
        }
        guard strategy.canary >= 0 else {
            throw .invalid("strategy.canary", "canary must not be negative (got \(strategy.canary))")
        }
        guard strategy.canary <= podsToProcess else {
            throw .invalid(
                "strategy.canary",
                "canary (\(strategy.canary)) is larger than the \(podsToProcess) pods to process"
            )
        }
        let rest = podsToProcess - strategy.canary
        var sizes: [Int] = []
        if let batches = strategy.batches {
            guard batches >= 1 else {
                throw .invalid("strategy.batches", "batches must be at least 1 (got \(batches))")
            }
            if rest > 0 {
                guard batches <= rest else {
                    throw .invalid(
                        "strategy.batches",
                        "\(batches) batches is more than the \(rest) pods left after the canary; a batch cannot be empty"
                    )
                }
                let base = rest / batches
                let extra = rest % batches
                sizes = (0..<batches).map { $0 < extra ? base + 1 : base }
            }
        } else {
            let perBatch: Int
            switch strategy.batchSize ?? .count(1) {
            case .count(let count):
                guard count >= 1 else {
                    throw .invalid("strategy.batchSize", "batchSize must be at least 1 pod (got \(count))")
                }
                perBatch = count
            case .percent(let percent):
                guard (1...100).contains(percent) else {
                    throw .invalid("strategy.batchSize", "a batchSize percent must be 1% to 100% (got \(percent)%)")
                }
                perBatch = BatchSize.percent(percent).pods(of: podsToProcess)
            }
            var left = rest
            while left > 0 {
                let size = min(perBatch, left)
                sizes.append(size)
                left -= size
            }
        }
        var plan: [Batch] = []
        if strategy.canary > 0 {
            plan.append(Batch(number: 1, size: strategy.canary, canary: true))
        }
        for size in sizes {
            plan.append(Batch(number: plan.count + 1, size: size, canary: false))
        }
        return BatchPlan(batches: plan)
    }
}
