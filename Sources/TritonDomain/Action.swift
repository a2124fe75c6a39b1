import Foundation

/// The release action a DeployFlow performs.
public enum Action: String, Sendable, Hashable, Codable, CaseIterable {
    case create, update, rollback, scaleOut, scaleIn, restart

    /// Whether the action rolls a new pod template (create, update, rollback).
    public var changesRevision: Bool {
        switch self {
        case .create, .update, .rollback: true
        case .scaleOut, .scaleIn, .restart: false
        }
    }

    /// Whether a canary batch is allowed (the update-type actions: create, update, rollback).
    public var allowsCanary: Bool { self.changesRevision }

    /// Whether the action names pods to remove (scaleIn, restart).
    public var removesPods: Bool { self == .scaleIn || self == .restart }
}

/// Whether a flow stops for `next` (`manual`, the default) or runs on by itself (`auto`).
public enum Mode: String, Sendable, Hashable, Codable, CaseIterable {
    case auto, manual
}

/// The phase of a DeployFlow, spelled as in the open-source Triton.
