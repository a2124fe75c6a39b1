import EventStore
import Foundation
import Synchronization
import TritonDomain

/// Runs the step loop for every active flow concurrently: each tick, one ``FlowWorker`` step per flow
/// (in a task group, at most ``maxConcurrentSteps`` at once), until the flow is finished and its end is recorded on the instance stream.
///
/// Flows are found by following the global log for `FlowCreated` events, so flows created while the
/// runner runs are picked up on the next tick, and a runner started after a crash picks up every flow
/// that has not finished — from the start of the log, or from a ``Start`` (a projection's checkpoint and
/// the flows it shows unfinished) so that a long log is not read again at every start.
///
/// It also carries out requested deletions of instances (``FlowWorker/completeDeletion(_:)``), found
/// the same way from `InstanceDeletionRequested` events.
///
/// With ``ownership``, several runners (processes) share one log: each tick a runner steps only the
/// flows whose lock it holds, tries to take the others (a flow whose driver died is free again at
/// once), and releases a flow's lock when the flow is finished. Without it, the runner assumes it is
/// the only one.
public final class FlowRunner: Sendable {
    public let worker: FlowWorker
    /// Real time between ticks. Defaults to 100 ms.
    public let tickInterval: Duration
    /// Flows stepped at once within a tick. Defaults to `8`: enough to keep the database and the
    /// cluster busy, few enough that an intent arriving meanwhile (the API shares the store's
    /// connections) does not queue behind every active flow's step.
    public let maxConcurrentSteps: Int
    /// Who drives which flow among processes sharing the log; `nil` when this runner is alone.
    public let ownership: (any OwnershipLocks)?
    /// Called with the flows this runner starts driving (newly created, or taken over from a process
    /// that stopped) — for the server's log.
    public let onStartDriving: (@Sendable ([FlowID]) -> Void)?
    /// Called when a flow's step, a deletion or the ownership check starts failing (or fails
    /// differently): what failed and why — for the server's log. Not called again while the same error
    /// repeats every tick.
    public let onProblem: (@Sendable (String) -> Void)?
    /// Where to start instead of the beginning of the log: read once, before the first tick's discovery.
    public let start: (@Sendable () async throws -> Start)?

    /// A consistent starting point: every flow that may still need a step and every deletion not carried
    /// out as of `position`; events after it are read from the log as usual. (A projection gives it
    /// without reading the whole log.)
    public struct Start: Sendable {
        public var position: LogPosition
        public var flows: [FlowID]
        public var deletions: [InstanceRef]

        public init(position: LogPosition, flows: [FlowID], deletions: [InstanceRef]) {
            self.position = position
            self.flows = flows
            self.deletions = deletions
        }
    }

    private struct Tracking: Sendable {
        var started = false
        var position = LogPosition.start
        var active: [FlowID] = []
        var finished: Set<FlowID> = []
        var errors: [FlowID: String] = [:]
        var owned: Set<FlowID> = []
        var ownershipError: String?
        var deletions: [InstanceRef] = []
        var deletionErrors: [InstanceRef: String] = [:]
    }

    private let tracking = Mutex(Tracking())
    /// `deployflow-`: the prefix of flow streams.
    private static let flowPrefix = Streams.flow(FlowID("")).rawValue

    public init(
        worker: FlowWorker, tickInterval: Duration = .milliseconds(100), maxConcurrentSteps: Int = 8,
        ownership: (any OwnershipLocks)? = nil, onStartDriving: (@Sendable ([FlowID]) -> Void)? = nil, onProblem: (@Sendable (String) -> Void)? = nil,
        start: (@Sendable () async throws -> Start)? = nil
    ) {
        self.worker = worker
        self.tickInterval = tickInterval
        self.maxConcurrentSteps = max(1, maxConcurrentSteps)
        self.ownership = ownership
        self.onStartDriving = onStartDriving
        self.onProblem = onProblem
        self.start = start
    }

    /// The lock key of a flow in ``OwnershipLocks``.
    public static func ownershipKey(_ flow: FlowID) -> String { "flow:\(flow.rawValue)" }
    /// The lock key of an instance's deletion in ``OwnershipLocks``.
    public static func deletionKey(_ instance: InstanceRef) -> String { "delete:\(instance.namespace)/\(instance.name)" }

    /// An error as the operator reads it in a problem report: its debug text, which says what failed
    /// (a Kubernetes client error keeps its `description` generic, so that it does not leak into
    /// replies, and names the request, status and reason only there).
    static func problemText(_ error: any Error) -> String { String(reflecting: error) }

    /// Flows being driven now.
    public var activeFlows: [FlowID] { self.tracking.withLock { $0.active } }
    /// Flows the runner saw finish.
    public var finishedFlows: Set<FlowID> { self.tracking.withLock { $0.finished } }
    /// The last error of a flow's step, if its latest step failed (the runner retries on the next tick).
    public var lastErrors: [FlowID: String] { self.tracking.withLock { $0.errors } }
    /// Active flows this runner drove on its last tick (all active flows without ``ownership``).
    public var ownedFlows: Set<FlowID> { self.tracking.withLock { $0.owned } }
    /// Instances whose requested deletion is not carried out yet.
    public var pendingDeletions: [InstanceRef] { self.tracking.withLock { $0.deletions } }
    /// The last error of a deletion, if its latest attempt failed (retried on the next tick).
    public var deletionErrors: [InstanceRef: String] { self.tracking.withLock { $0.deletionErrors } }
    /// Why the last tick could not take or confirm ownership (the store was unreachable), if it could not.
    public var ownershipError: String? { self.tracking.withLock { $0.ownershipError } }

    /// Ticks until the task is cancelled.
    public func run() async throws {
        while !Task.isCancelled {
            try await self.tick()
            do {
                try await Task.sleep(for: self.tickInterval)
            } catch is CancellationError {
                return
            }
        }
    }

    /// Ticks until every flow in `flows` is finished (and no other flow is active), or throws
    /// `CancellationError` when cancelled.
    public func run(until flows: Set<FlowID>) async throws {
        while true {
            try Task.checkCancellation()
            try await self.tick()
            let done = self.tracking.withLock { t in flows.isSubset(of: t.finished) && t.active.isEmpty && t.deletions.isEmpty }
            if done { return }
            try await Task.sleep(for: self.tickInterval)
        }
    }

    /// Picks up newly created flows and requested deletions, carries out the deletions, then steps every
    /// active flow once, concurrently.
    public func tick() async throws {
        try await self.discover()
        await self.deleteInstances()
        let flows = await self.ownedActiveFlows()
        let worker = self.worker
        let limit = self.maxConcurrentSteps
        let results = await withTaskGroup(of: (FlowID, Result<Bool, any Error>).self) { group in
            var pending = flows[...]
            func stepNext() {
                guard let flow = pending.popFirst() else { return }
                group.addTask {
                    do {
                        return (flow, .success(try await worker.step(flow).isFinished))
                    } catch {
                        return (flow, .failure(error))
                    }
                }
            }
            for _ in 0..<limit { stepNext() }
            var results: [(FlowID, Result<Bool, any Error>)] = []
            for await result in group {
                results.append(result)
                stepNext()
            }
            return results
        }
        let problems = self.tracking.withLock { t in
            var problems: [String] = []
            for (flow, result) in results {
                switch result {
                case .success(let finished):
                    t.errors[flow] = nil
                    if finished {
                        t.active.removeAll { $0 == flow }
                        t.finished.insert(flow)
                    }
                case .failure(let error):
                    let message = Self.problemText(error)
                    if t.errors[flow] != message { problems.append("flow \(flow): \(message)") }
                    t.errors[flow] = message
                }
            }
            return problems
        }
        for problem in problems { self.onProblem?(problem) }
        if let ownership = self.ownership {
            for case (let flow, .success(true)) in results {
                try? await ownership.release(Self.ownershipKey(flow))
            }
        }
    }

    /// The active flows this runner may step now: all of them when alone, else those whose lock it holds
    /// (taking free ones); none when ownership cannot be confirmed.
    private func ownedActiveFlows() async -> [FlowID] {
        let flows = self.activeFlows
        guard let ownership = self.ownership else {
            self.noteOwned(flows)
            return flows
        }
        do {
            let held = try await ownership.claim(flows.map(Self.ownershipKey))
            let owned = flows.filter { held.contains(Self.ownershipKey($0)) }
            self.noteOwned(owned)
            return owned
        } catch {
            let message = Self.problemText(error)
            let changed = self.tracking.withLock { t in
                defer {
                    t.owned = []
                    t.ownershipError = message
                }
                return t.ownershipError != message
            }
            if changed { self.onProblem?("ownership locks: \(message); stepping no flow until they are back") }
            return []
        }
    }

    private func noteOwned(_ owned: [FlowID]) {
        let new = self.tracking.withLock { t in
            let new = owned.filter { !t.owned.contains($0) }
            t.owned = Set(owned)
            t.ownershipError = nil
            return new
        }
        if !new.isEmpty { self.onStartDriving?(new) }
    }

    /// Carries out each pending deletion this runner may own, one after the other (they are rare).
    private func deleteInstances() async {
        var instances = self.pendingDeletions
        guard !instances.isEmpty else { return }
        if let ownership = self.ownership {
            guard let held = try? await ownership.claim(instances.map(Self.deletionKey)) else { return }
            instances = instances.filter { held.contains(Self.deletionKey($0)) }
        }
        for instance in instances {
            do {
                try await self.worker.completeDeletion(instance)
                self.tracking.withLock { t in
                    t.deletions.removeAll { $0 == instance }
                    t.deletionErrors[instance] = nil
                }
                try? await self.ownership?.release(Self.deletionKey(instance))
            } catch {
                let message = Self.problemText(error)
                let changed = self.tracking.withLock { t in
                    defer { t.deletionErrors[instance] = message }
                    return t.deletionErrors[instance] != message
                }
                if changed { self.onProblem?("deleting instance \(instance): \(message)") }
            }
        }
    }

    /// Reads the global log from where it stopped and adds every newly created flow and requested deletion.
    private func discover() async throws {
        if let start = self.start, !self.tracking.withLock({ $0.started }) {
            let point = try await start()
            self.tracking.withLock { t in
                t.started = true
                t.position = point.position
                for flow in point.flows where !t.active.contains(flow) { t.active.append(flow) }
                for instance in point.deletions where !t.deletions.contains(instance) { t.deletions.append(instance) }
            }
        }
        var position = self.tracking.withLock { $0.position }
        var found: [FlowID] = []
        var deletions: [InstanceRef] = []
        while true {
            let page = try await self.worker.handler.store.readAll(after: position, limit: 1000)
            for event in page {
                switch event.type {
                case DeployFlow.FlowCreated.typeName:
                    guard event.streamID.rawValue.hasPrefix(Self.flowPrefix) else { continue }
                    found.append(FlowID(String(event.streamID.rawValue.dropFirst(Self.flowPrefix.count))))
                case Instance.DeletionRequested.typeName:
                    if case .deletionRequested(let requested)? = try? Instance.Event.decode(type: event.type, data: Data(event.data.utf8)) {
                        deletions.append(requested.instance)
                    }
                default:
                    continue
                }
            }
            guard let last = page.last else { break }
            position = last.logPosition
            if page.count < 1000 { break }
        }
        let newPosition = position
        let newFlows = found
        let newDeletions = deletions
        self.tracking.withLock { t in
            t.position = newPosition
            for flow in newFlows where !t.active.contains(flow) && !t.finished.contains(flow) { t.active.append(flow) }
            for instance in newDeletions where !t.deletions.contains(instance) { t.deletions.append(instance) }
        }
    }
}
