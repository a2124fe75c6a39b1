import EventStore
import Foundation
import TritonDomain

/// Runs commands against the log: load the stream → fold → decide → append with the expected
/// version; on a conflict (another writer got there first) it reloads and decides again.
public struct CommandHandler: Sendable {
    /// What a handled command produced.
    public struct Outcome<D: Decider>: Sendable where D.State: Sendable, D.Event: Sendable {
        public var events: [D.Event]
        public var state: D.State
        public var version: Int64
    }

    public let store: any EventStore
    /// Attempts on conflict before giving up. Defaults to `8`.
    public var maxAttempts: Int
    /// Folded states kept between commands (a long-running engine); `nil` folds every stream from
    /// its first event each time (one-shot commands).
    public let cache: StateCache?

    public init(store: any EventStore, maxAttempts: Int = 8, cache: StateCache? = nil) {
        self.store = store
        self.maxAttempts = maxAttempts
        self.cache = cache
    }

    /// The current state of a stream and its version.
    public func load<D: Decider>(_: D.Type, stream: StreamID) async throws -> (state: D.State, version: Int64)
    where D.Event: StoredEvent {
        let cached = self.cache?.get(stream, as: D.State.self)
        let after = cached?.version ?? 0
        let recorded = try await self.store.readStream(stream, afterVersion: after)
        let events = try recorded.map { try D.Event.decode(type: $0.type, data: Data($0.data.utf8)) }
        let state = D.fold(events, from: cached?.state ?? D.initialState)
        let version = recorded.last?.version ?? after
        if !recorded.isEmpty { self.cache?.put(stream, state: state, version: version) }
        return (state, version)
    }

    /// Decides `command` on the stream's current state and appends what it produced.
    /// - Throws: the decider's rejection (nothing is written), or a store error.
    @discardableResult
    public func handle<D: Decider>(
        _: D.Type, stream: StreamID, metadata: EventMetadata, command: (D.State) -> D.Command
    ) async throws -> Outcome<D> where D.Event: StoredEvent {
        try await self.handle(D.self, stream: stream, metadata: metadata, commands: { [command($0)] })
    }

    /// Decides each of `commands` in turn, each on the state the ones before it produced, and appends all
    /// their events in one append: all of them, or (a rejection) none. `commands` sees the state each
    /// attempt loads, so a check it makes (authorization) holds for the state the events are decided on.
    @discardableResult
    public func handle<D: Decider>(
        _: D.Type, stream: StreamID, metadata: EventMetadata, commands: (D.State) throws -> [D.Command]
    ) async throws -> Outcome<D> where D.Event: StoredEvent {
        try await self.handle(D.self, stream: stream, until: { _ in false }) { state in
            try commands(state).map { ($0, metadata) }
        }
    }

    /// Like ``handle(_:stream:metadata:commands:)``, with each command's events carrying that command's
    /// own metadata (who reported what), and deciding stops once `until` holds for the state decided so
    /// far: the commands after that are dropped (a flow that finished part way takes no more facts).
    @discardableResult
    public func handle<D: Decider>(
        _: D.Type, stream: StreamID, until: (D.State) -> Bool,
        commands: (D.State) throws -> [(command: D.Command, metadata: EventMetadata)]
    ) async throws -> Outcome<D> where D.Event: StoredEvent {
        var attempt = 0
        while true {
            attempt += 1
            let (state, version) = try await self.load(D.self, stream: stream)
            var events: [D.Event] = []
            var newEvents: [NewEvent] = []
            var decided = state
            for (command, metadata) in try commands(state) {
                if until(decided) { break }
                let produced = try D.decide(command, decided)
                decided = D.fold(produced, from: decided)
                events += produced
                for event in produced { newEvents.append(try event.newEvent(metadata: metadata)) }
            }
            guard !events.isEmpty else { return Outcome(events: [], state: state, version: version) }
            do {
                let result = try await self.store.append(
                    to: stream, expectedVersion: version == 0 ? .noStream : .exact(version), events: newEvents
                )
                self.cache?.put(stream, state: decided, version: result.lastVersion)
                return Outcome(events: events, state: decided, version: result.lastVersion)
            } catch let error as EventStoreError where error.code == .wrongExpectedVersion && attempt < self.maxAttempts {
                continue
            }
        }
    }
}
