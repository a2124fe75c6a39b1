import EventStore
import Foundation
import PostgresStore
import TritonDomain
import TritonEngine

/// Projects the event log into the query tables `flows`, `flow_batches`, `flow_pods` and
/// `instances`.
///
/// It reads the global log from its checkpoint, folds each `deployflow-*` and `instance-*` stream
/// with the domain's own `evolve`, and writes the rows of every flow and instance those events
/// touched in the same transaction that advances its checkpoint (one transaction per page of up to
/// ``Configuration/eventsPerTransaction`` events). So each event takes effect exactly once, a
/// projector stopped at any point resumes from its checkpoint, and ``rebuild()`` gives the same
/// tables as projecting incrementally did.
///
/// Rows are a pure function of the folded state and the stream version folded so far; an event at
/// or below that version (seen again after a gap was filled) changes nothing. Only one of
/// ``run()``, ``catchUp()`` and ``rebuild()`` runs at a time per projector; several projectors
/// sharing a name are serialised by a row lock on the checkpoint, and one that finds the
/// checkpoint moved re-reads it.
public actor FlowProjector {
    /// How the projector works.
    public struct Configuration: Sendable {
        /// The checkpoint's name in `projection_checkpoints`. Defaults to `flows`.
        public var name: String
        /// Events read and written per transaction. Defaults to `500`.
        public var eventsPerTransaction: Int
        /// Folded streams kept in memory; beyond this, finished flows are dropped first and reloaded
        /// from the log when they get events again. Defaults to `10_000`.
        public var cacheCapacity: Int

        /// Creates a configuration.
        public init(name: String = "flows", eventsPerTransaction: Int = 500, cacheCapacity: Int = 10_000) {
            self.name = name
            self.eventsPerTransaction = eventsPerTransaction
            self.cacheCapacity = cacheCapacity
        }
    }

    /// The store the log is read from and the tables are written to.
    public let store: PostgresEventStore
    public let configuration: Configuration
    /// Where the projector is in the log; `nil` until read from the database.
    private var cursor: LogPosition?
    private var flows: [FlowID: FlowFold] = [:]
    private var instances: [StreamID: InstanceFold] = [:]
    private var busy = false
    /// Test hook: runs inside each transaction just before COMMIT; throwing rolls it back.
    private var beforeCommit: (@Sendable () throws -> Void)?

    /// Creates a projector; nothing is read until ``run()``, ``catchUp()`` or ``rebuild()``.
    public init(store: PostgresEventStore, configuration: Configuration = Configuration()) {
        self.store = store
        self.configuration = configuration
    }

    /// The stored checkpoint: the last log position projected (``LogPosition/start`` before any).
    public func checkpoint() async throws -> LogPosition {
        try await Self.loadCheckpoint(self.store, self.configuration.name)
    }

    /// Projects every event committed before the call, then returns how many events it handled.
    /// Waits for events held back behind a transaction still running (see `readAll`).
    @discardableResult
    public func catchUp() async throws -> Int {
        try self.enter()
        defer { self.busy = false }
        return try await self.catchUpToHead()
    }

    /// Waits, without projecting anything itself, until the projector that runs elsewhere (`triton serve`)
    /// has projected every event committed before the call: a reader then sees its own writes. Returns
    /// `false` when `timeout` passed first.
    @discardableResult
    public func waitUntilProjected(timeout: Duration) async throws -> Bool {
        guard let head = try await Self.logHead(self.store) else { return true }
        let deadline = ContinuousClock.now + timeout
        while try await Self.loadCheckpoint(self.store, self.configuration.name) < head {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// Follows the log until the task is cancelled: catches up, then waits for new events (woken by
    /// appends in this process, by NOTIFY while the store's `run()` runs, or by polling). Lost
    /// connections are retried with a back-off; an event that cannot be decoded stops it (throws).
    public func run() async throws {
        try self.enter()
        defer { self.busy = false }
        var backoff: Duration = .milliseconds(100)
        while !Task.isCancelled {
            do {
                while try await self.projectPage() == self.configuration.eventsPerTransaction {}
                backoff = .milliseconds(100)
                let position = try await self.currentCursor()
                // A follower only as a wake-up: the first event after the cursor means there is work.
                for try await _ in self.store.follow(from: position, batchSize: 1) { break }
            } catch let error as ProjectionError where error.code == .checkpointMoved {
                self.forget()
            } catch let error as EventStoreError where error.code == .connectionLost || error.code == .connectionFailed {
                if Task.isCancelled { break }
                self.forget()
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            } catch is CancellationError {
                break
            }
        }
    }

    /// Empties the query tables, resets the checkpoint to the start, and projects the whole log
    /// again. Returns how many events it handled. Readers see the tables fill up meanwhile.
    @discardableResult
    public func rebuild() async throws -> Int {
        try self.enter()
        defer { self.busy = false }
        let name = self.configuration.name
        self.forget()
        try await self.store.withTransaction { tx in
            try await tx.execute(
                "INSERT INTO projection_checkpoints (projector, tx, position) VALUES ($1, '0', 0) ON CONFLICT DO NOTHING", [name]
            )
            _ = try await tx.query("SELECT 1 FROM projection_checkpoints WHERE projector = $1 FOR UPDATE", [name])
            try await tx.execute("TRUNCATE flows, flow_batches, flow_pods, instances")
            try await tx.execute(
                "UPDATE projection_checkpoints SET tx = '0', position = 0, events = 0 WHERE projector = $1", [name]
            )
        }
        return try await self.catchUpToHead()
    }

    /// Installs (or removes) the test hook that runs inside each transaction just before COMMIT.
    func setBeforeCommit(_ hook: (@Sendable () throws -> Void)?) {
        self.beforeCommit = hook
    }

    // MARK: - Projecting

    private func enter() throws {
        guard !self.busy else {
            throw ProjectionError(.busy, "projector \(self.configuration.name): run, catchUp or rebuild is already running")
        }
        self.busy = true
    }

    /// Drops everything held in memory; the next page re-reads the checkpoint and reloads streams.
    private func forget() {
        self.cursor = nil
        self.flows.removeAll()
        self.instances.removeAll()
    }

    private func currentCursor() async throws -> LogPosition {
        if let cursor = self.cursor { return cursor }
        let loaded = try await Self.loadCheckpoint(self.store, self.configuration.name)
        self.cursor = loaded
        return loaded
    }

    private func catchUpToHead() async throws -> Int {
        guard let head = try await Self.logHead(self.store) else { return 0 }
        var handled = 0
        var wait: Duration = .milliseconds(2)
        while try await self.currentCursor() < head {
            try Task.checkCancellation()
            do {
                let count = try await self.projectPage()
                handled += count
                if count == 0 {
                    // Committed events held back behind a transaction still running elsewhere.
                    try await Task.sleep(for: wait)
                    wait = min(wait * 2, .milliseconds(100))
                } else {
                    wait = .milliseconds(2)
                }
            } catch let error as ProjectionError where error.code == .checkpointMoved {
                self.forget()
            }
        }
        return handled
    }

    /// Projects the next page of the log in one transaction; returns the events handled.
    func projectPage() async throws -> Int {
        let expected = try await self.currentCursor()
        let events = try await self.store.readAll(after: expected, limit: self.configuration.eventsPerTransaction)
        guard let last = events.last else { return 0 }
        do {
            let (write, flows, instances) = try await self.fold(events)
            try await write.commit(
                store: self.store, projector: self.configuration.name, expected: expected, next: last.logPosition,
                events: events.count, beforeCommit: self.beforeCommit
            )
            self.flows.merge(flows) { $1 }
            self.instances.merge(instances) { $1 }
            self.cursor = last.logPosition
            self.trimCache()
            return events.count
        } catch {
            // Whether a failed COMMIT took effect is unknown: start again from the stored checkpoint.
            self.forget()
            throw error
        }
    }

    /// Folds a page into working copies of the touched streams and the rows to write.
    private func fold(
        _ events: [RecordedEvent]
    ) async throws -> (ProjectionWrite, [FlowID: FlowFold], [StreamID: InstanceFold]) {
        var flows: [FlowID: FlowFold] = [:]
        var flowOrder: [FlowID] = []
        var instances: [StreamID: InstanceFold] = [:]
        var instanceOrder: [StreamID] = []
        var observations: [InstanceRef: [String?]] = [:]
        var observationOrder: [InstanceRef] = []
        let loaded = try await self.preload(events)
        for event in events {
            switch ProjectedStream(event.streamID) {
            case .flow(let id):
                var fold: FlowFold
                if let working = flows[id] {
                    fold = working
                } else {
                    fold = self.flows[id] ?? loaded.flows[id] ?? FlowFold()
                    flowOrder.append(id)
                }
                let decoded = try await StreamFolding.apply(event, to: &fold, store: self.store)
                flows[id] = fold
                if case .workloadObserved(let observed)? = decoded, let ref = fold.state.spec?.instance {
                    if observations[ref] == nil { observationOrder.append(ref) }
                    observations[ref] = InstanceRows.observation(observed.workload, ref: ref, at: observed.at)
                }
            case .instance(let stream):
                var fold: InstanceFold
                if let working = instances[stream] {
                    fold = working
                } else {
                    fold = self.instances[stream] ?? loaded.instances[stream] ?? InstanceFold()
                    instanceOrder.append(stream)
                }
                _ = try await StreamFolding.apply(event, to: &fold, store: self.store)
                instances[stream] = fold
            case nil:
                continue
            }
        }
        var write = ProjectionWrite()
        for id in flowOrder {
            guard var fold = flows[id], let rows = FlowRows(state: fold.state, version: fold.version) else { continue }
            if rows != fold.written { write.add(rows, previous: fold.written, flowID: id.rawValue) }
            fold.written = rows
            flows[id] = fold
        }
        for stream in instanceOrder {
            guard var fold = instances[stream], fold.version > 0 else { continue }
            guard let ref = fold.state.instance ?? ProjectedStream.instanceRef(stream) else { continue }
            let row = InstanceRows.state(fold.state, ref: ref, version: fold.version)
            if row != fold.written { write.instanceStates.append(row) }
            fold.written = row
            instances[stream] = fold
        }
        write.instanceObservations = observationOrder.compactMap { observations[$0] }
        return (write, flows, instances)
    }

    /// The folds of the streams a page touches that the cache does not hold, loaded together before the
    /// page is folded: a stream whose first event in the page is its very first starts empty (no query;
    /// the creation burst of many flows is exactly that), the others take one query per kind for the
    /// versions the tables hold and then a read of each stream (only after a restart or an eviction).
    /// Before, each new stream cost its own transaction of three round trips inside the page's fold.
    private func preload(_ events: [RecordedEvent]) async throws -> (flows: [FlowID: FlowFold], instances: [StreamID: InstanceFold]) {
        var flows: [FlowID: FlowFold] = [:]
        var instances: [StreamID: InstanceFold] = [:]
        var seen = Set<StreamID>()
        var unknownFlows: [(id: FlowID, stream: StreamID)] = []
        var unknownInstances: [(stream: StreamID, ref: InstanceRef)] = []
        for event in events where seen.insert(event.streamID).inserted {
            switch ProjectedStream(event.streamID) {
            case .flow(let id) where self.flows[id] == nil:
                if event.version == 1 { flows[id] = FlowFold() } else { unknownFlows.append((id, event.streamID)) }
            case .instance(let stream) where self.instances[stream] == nil:
                if event.version > 1, let ref = ProjectedStream.instanceRef(stream) {
                    unknownInstances.append((stream, ref))
                } else {
                    instances[stream] = InstanceFold()
                }
            default:
                continue
            }
        }
        guard !unknownFlows.isEmpty || !unknownInstances.isEmpty else { return (flows, instances) }
        let (flowRows, instanceRows) = try await self.store.withTransaction { tx in
            let flowRows =
                unknownFlows.isEmpty
                ? []
                : try await tx.query(
                    "SELECT id, version FROM flows WHERE id = ANY($1::text[])", [SQLText.textArray(unknownFlows.map(\.id.rawValue))]
                )
            let instanceRows =
                unknownInstances.isEmpty
                ? []
                : try await tx.query(
                    """
                    SELECT i.namespace, i.name, i.version FROM instances i
                    JOIN unnest($1::text[], $2::text[]) AS k(namespace, name) ON i.namespace = k.namespace AND i.name = k.name
                    """,
                    [SQLText.textArray(unknownInstances.map(\.ref.namespace)), SQLText.textArray(unknownInstances.map(\.ref.name))]
                )
            return (flowRows, instanceRows)
        }
        var flowVersions: [String: Int64] = [:]
        for row in flowRows {
            let reader = RowReader(table: "flows", columns: ["id", "version"], row: row)
            flowVersions[try reader.string("id")] = try reader.int64("version")
        }
        var instanceVersions: [InstanceRef: Int64] = [:]
        for row in instanceRows {
            let reader = RowReader(table: "instances", columns: ["namespace", "name", "version"], row: row)
            instanceVersions[InstanceRef(namespace: try reader.string("namespace"), name: try reader.string("name"))] =
                try reader.int64("version")
        }
        for (id, stream) in unknownFlows {
            flows[id] = try await StreamFolding.loadFlow(stream, upTo: flowVersions[id.rawValue] ?? 0, store: self.store)
        }
        for (stream, ref) in unknownInstances {
            instances[stream] = try await StreamFolding.loadInstance(stream, upTo: instanceVersions[ref] ?? 0, store: self.store)
        }
        return (flows, instances)
    }

    /// Keeps the cache within its capacity: finished flows go first, then any.
    private func trimCache() {
        let capacity = max(1, self.configuration.cacheCapacity)
        guard self.flows.count + self.instances.count > capacity else { return }
        for (id, fold) in self.flows where fold.state.isFinished { self.flows[id] = nil }
        while self.flows.count + self.instances.count > capacity {
            if let id = self.flows.keys.first {
                self.flows[id] = nil
            } else if let stream = self.instances.keys.first {
                self.instances[stream] = nil
            }
        }
    }

    // MARK: - Database

    /// Reads the checkpoint, creating it at the start when missing.
    static func loadCheckpoint(_ store: PostgresEventStore, _ name: String) async throws -> LogPosition {
        let rows = try await store.withTransaction { tx in
            try await tx.execute(
                "INSERT INTO projection_checkpoints (projector, tx, position) VALUES ($1, '0', 0) ON CONFLICT DO NOTHING", [name]
            )
            return try await tx.query("SELECT tx::text, position FROM projection_checkpoints WHERE projector = $1", [name])
        }
        guard let row = rows.first else {
            throw ProjectionError(.checkpointMoved, "projector \(name): the checkpoint row disappeared")
        }
        return try SQLText.logPosition(row, table: "projection_checkpoints")
    }

    /// The position of the last committed event of the log, or `nil` when the log is empty.
    static func logHead(_ store: PostgresEventStore) async throws -> LogPosition? {
        let rows = try await store.withTransaction { tx in
            // Output names differ from the columns: `ORDER BY tx` would sort by the text output column.
            try await tx.query(
                "SELECT e.tx::text AS head_tx, e.position AS head_position FROM events e ORDER BY e.tx DESC, e.position DESC LIMIT 1"
            )
        }
        return try rows.first.map { try SQLText.logPosition($0, table: "events") }
    }
}
