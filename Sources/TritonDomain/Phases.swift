import Foundation

public enum FlowPhase: String, Sendable, Hashable, Codable, CaseIterable {
    case pending = "Pending"
    case initializing = "Initializing"
    case batchStarted = "BatchStarted"
    case batchFinished = "BatchFinished"
    case success = "Success"
    case failed = "Failed"
    case aborted = "Aborted"
    case canceled = "Canceled"

    /// Success, Failed, Aborted and Canceled are final.
    public var isTerminal: Bool {
        switch self {
        case .success, .failed, .aborted, .canceled: true
        case .pending, .initializing, .batchStarted, .batchFinished: false
        }
    }
}

/// The phase of one batch, spelled as in the open-source Triton.
public enum BatchPhase: String, Sendable, Hashable, Codable, CaseIterable {
    case pending = "Pending"
    case smoking = "Smoking"
    case smoked = "Smoked"
    case baking = "Baking"
    case baked = "Baked"
    case smokeFailed = "SmokeFailed"
    case bakeFailed = "BakeFailed"

    /// Forward order of the healthy phases (failures rank above everything).
    public var rank: Int {
        switch self {
        case .pending: 0
        case .smoking: 1
        case .smoked: 2
        case .baking: 3
        case .baked: 4
        case .smokeFailed, .bakeFailed: 5
        }
    }

    /// SmokeFailed or BakeFailed.
    public var isFailure: Bool { self == .smokeFailed || self == .bakeFailed }
}
