import EventStore
import Foundation
import TritonDomain
import TritonEngine

/// A flow stream folded as far as the projection tables show it, and the rows last written for it.
struct FlowFold: Sendable {
    var state: DeployFlow.State = DeployFlow.initialState
    /// The last stream version folded.
    var version: Int64 = 0
    /// The rows last written, or `nil` when unknown (loaded after a start): then they are replaced.
    var written: FlowRows?
}

/// An instance stream folded as far as the projection tables show it.
struct InstanceFold: Sendable {
    var state: Instance.State = Instance.initialState
    var version: Int64 = 0
    var written: [String?]?
}

/// The projected streams: which kind of stream an event belongs to.
enum ProjectedStream: Hashable, Sendable {
    case flow(FlowID)
    case instance(StreamID)

    static let flowPrefix = "deployflow-"
    static let instancePrefix = "instance-"

    /// The kind of a stream, or `nil` for streams the flow projection does not read.
    init?(_ stream: StreamID) {
        let raw = stream.rawValue
        if raw.hasPrefix(Self.flowPrefix) {
            self = .flow(FlowID(String(raw.dropFirst(Self.flowPrefix.count))))
        } else if raw.hasPrefix(Self.instancePrefix) {
            self = .instance(stream)
        } else {
            return nil
        }
    }

    /// `namespace/name` of an instance stream.
    static func instanceRef(_ stream: StreamID) -> InstanceRef? {
        let body = stream.rawValue.dropFirst(Self.instancePrefix.count)
        guard let slash = body.firstIndex(of: "/") else { return nil }
        return InstanceRef(namespace: String(body[..<slash]), name: String(body[body.index(after: slash)...]))
    }
}

/// Folds recorded events into flow and instance folds, skipping what is already folded and
/// filling a gap (an event of a stream seen before an earlier one of the same stream) from the log.
enum StreamFolding {
    /// Applies `event` (version `event.version`) to `fold`. Events at or below `fold.version` are
    /// already folded and skipped; a gap is filled by reading the missing versions from the store.
    /// - Returns: the decoded event, or `nil` when it was already folded.
    static func apply(_ event: RecordedEvent, to fold: inout FlowFold, store: any EventStore) async throws -> DeployFlow.Event? {
        guard event.version > fold.version else { return nil }
        if event.version > fold.version + 1 {
            let missing = try await store.readStream(event.streamID, afterVersion: fold.version)
            for earlier in missing where earlier.version < event.version {
                DeployFlow.apply(try self.decodeFlow(earlier), to: &fold.state)
                fold.version = earlier.version
            }
        }
        let decoded = try self.decodeFlow(event)
        DeployFlow.apply(decoded, to: &fold.state)
        fold.version = event.version
        return decoded
    }

    /// Applies an instance stream's event like the flow variant does; `false` when already folded.
    static func apply(_ event: RecordedEvent, to fold: inout InstanceFold, store: any EventStore) async throws -> Bool {
        guard event.version > fold.version else { return false }
        if event.version > fold.version + 1 {
            let missing = try await store.readStream(event.streamID, afterVersion: fold.version)
            for earlier in missing where earlier.version < event.version {
                fold.state = Instance.evolve(fold.state, try self.decodeInstance(earlier))
                fold.version = earlier.version
            }
        }
        fold.state = Instance.evolve(fold.state, try self.decodeInstance(event))
        fold.version = event.version
        return true
    }

    /// Folds a stream's events up to `version` (0 = nothing).
    static func loadFlow(_ stream: StreamID, upTo version: Int64, store: any EventStore) async throws -> FlowFold {
        var fold = FlowFold()
        guard version > 0 else { return fold }
        for event in try await store.readStream(stream, afterVersion: 0) where event.version <= version {
            DeployFlow.apply(try self.decodeFlow(event), to: &fold.state)
            fold.version = event.version
        }
        return fold
    }

    /// Folds an instance stream's events up to `version` (0 = nothing).
    static func loadInstance(_ stream: StreamID, upTo version: Int64, store: any EventStore) async throws -> InstanceFold {
        var fold = InstanceFold()
        guard version > 0 else { return fold }
        for event in try await store.readStream(stream, afterVersion: 0) where event.version <= version {
            fold.state = Instance.evolve(fold.state, try self.decodeInstance(event))
            fold.version = event.version
        }
        return fold
    }

    static func decodeFlow(_ event: RecordedEvent) throws -> DeployFlow.Event {
        do {
            return try DeployFlow.Event.decode(type: event.type, data: Data(event.data.utf8))
        } catch {
            throw ProjectionError.undecodable(event, error)
        }
    }

    static func decodeInstance(_ event: RecordedEvent) throws -> Instance.Event {
        do {
            return try Instance.Event.decode(type: event.type, data: Data(event.data.utf8))
        } catch {
            throw ProjectionError.undecodable(event, error)
        }
    }
}
