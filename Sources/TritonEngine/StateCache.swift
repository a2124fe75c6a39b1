import EventStore
import Synchronization

/// Folded stream states kept between commands, so a command reads only the events appended since
/// (by anyone: the log is append-only, so "after version v" is exactly what is missing).
///
/// Entries are bounded: past `capacity`, the least recently used tenth is dropped and those streams
/// are folded from the start again when next used.
public final class StateCache: Sendable {
    private struct Entry {
        var state: any Sendable
        var version: Int64
        var used: UInt64
    }

    private struct Entries {
        var byStream: [StreamID: Entry] = [:]
        var clock: UInt64 = 0
    }

    public let capacity: Int
    private let entries = Mutex(Entries())

    public init(capacity: Int = 10_000) {
        self.capacity = max(1, capacity)
    }

    public var count: Int { self.entries.withLock { $0.byStream.count } }

    func get<State: Sendable>(_ stream: StreamID, as _: State.Type) -> (state: State, version: Int64)? {
        self.entries.withLock { entries in
            guard var entry = entries.byStream[stream], let state = entry.state as? State else { return nil }
            entries.clock += 1
            entry.used = entries.clock
            entries.byStream[stream] = entry
            return (state, entry.version)
        }
    }

    func put<State: Sendable>(_ stream: StreamID, state: State, version: Int64) {
        self.entries.withLock { entries in
            if let existing = entries.byStream[stream], existing.version > version { return }
            entries.clock += 1
            entries.byStream[stream] = Entry(state: state, version: version, used: entries.clock)
            if entries.byStream.count > self.capacity {
                let drop = entries.byStream.sorted { $0.value.used < $1.value.used }.prefix(max(1, self.capacity / 10))
                for (key, _) in drop { entries.byStream[key] = nil }
            }
        }
    }
}
