import Foundation
import Synchronization
import TritonJSON

/// The simulated cluster's storage: every object as a JSON tree, one global resourceVersion
/// counter, a bounded history of changes for watches, and the watchers themselves.
///
/// All reads and writes are atomic under one lock; watchers are fed under that lock so each sees
/// changes in commit order with no gap between its initial state and its live events.
final class ObjectStore: Sendable {
    struct Configuration: Sendable {
        /// Changes kept for watches that resume from a resourceVersion.
        var historySize: Int = 50_000
        /// Events buffered per watcher before a slow watcher is closed.
        var watcherBuffer: Int = 200_000
    }

    struct State {
        var revision = 0
        /// groupResource → namespace ("" for cluster-scoped) → name → object.
        var buckets: [String: [String: [String: JSONValue]]] = [:]
        /// groupResource → namespace → `key=value` → names of the objects with that label, so a
        /// label-selected list looks at the objects it may match instead of every object.
        var labelIndex: [String: [String: [String: Set<String>]]] = [:]
        var history: [StoreChange?]
        var historyStart = 0
        var historyCount = 0
        /// Changes with a revision at or below this are no longer in the history.
        var compactedRevision = 0
        var watchers: [String: [Int: Watcher]] = [:]
        var nextWatcherID = 1
        var listeners: [@Sendable (StoreChange) -> Void] = []
        var random: SeededRandom
    }

    struct Watcher {
        var filter: ObjectFilter
        var continuation: AsyncStream<WatchItem>.Continuation
        var minRevision: Int
    }

    let configuration: Configuration
    let clock: any SimClock
    let state: Mutex<State>

    init(configuration: Configuration = .init(), clock: any SimClock, seed: UInt64) {
        self.configuration = configuration
        self.clock = clock
        self.state = Mutex(
            State(history: Array(repeating: nil, count: max(configuration.historySize, 16)), random: SeededRandom(seed: seed ^ 0x5EED)))
    }

    /// Draws from the store's seeded generator.
    func withRandom<T>(_ body: (inout SeededRandom) -> T) -> T {
        self.state.withLock { body(&$0.random) }
    }
}

/// A list continuation token: base64 JSON, like the real server's.
struct ContinueToken {
    var revision: Int
    var namespace: String
    var name: String

    func encode() -> String {
        let json: JSONValue = [
            "v": "meta.k8s.io/v1", "rv": .int(self.revision), "start": .string("\(self.namespace)/\(self.name)\u{0}"),
        ]
        return Data(json.serialized()).base64EncodedString()
    }

    static func decode(_ token: String) throws(KubeAPIError) -> ContinueToken {
        guard let data = Data(base64Encoded: token), let json = try? JSONValue.parse(Array(data)),
            let rv = json["rv"]?.intValue, var start = json["start"]?.stringValue
        else {
            throw KubeAPIError.badRequest("invalid value for continue: continue key is not valid")
        }
        if start.hasSuffix("\u{0}") { start.removeLast() }
        let parts = start.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else { throw KubeAPIError.badRequest("invalid value for continue: continue key is not valid") }
        return ContinueToken(revision: rv, namespace: parts[0], name: parts[1])
    }
}
