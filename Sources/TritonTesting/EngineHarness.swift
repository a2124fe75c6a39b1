import EventStore
import Foundation
import KubeSim
import PostgresStore
import Synchronization
import Testing
import TritonDomain
import TritonEngine
import TritonJSON
import TritonKubeMapping
import TritonSimAdapter

/// The real engine between the real PostgreSQL (``TestDatabase``, a schema per test) and an in-process
/// simulated cluster on a manual clock: the worker (observer, timers, executor around the decider) steps a
/// flow once per simulated second, exactly as `triton serve`'s runner does on every tick.
public struct EngineHarness {
    public let store: PostgresEventStore
    public let handler: CommandHandler
    public let cluster: SimulatedCluster
    public let port: SimClusterPort
    public let worker: FlowWorker
    /// Every event appended to each flow in this process, in memory, as the deciders produced them.
    public let journal = Journal()
    /// The approver's name in the log.
    public let approver = "alice"

    public static let namespace = "prod"
    public static let instance = InstanceRef(namespace: "prod", name: "checkout")

    /// A harness on `store`, or on a new migrated store in a schema of its own.
    public init(store: PostgresEventStore? = nil) async throws {
        if let store {
            self.store = store
        } else {
            self.store = try await TestDatabase.makeStore(poolSize: 4)
        }
        self.handler = CommandHandler(store: self.store)
        var configuration = SimConfiguration(seed: 11)
        configuration.clock = .manual(ManualClock())
        configuration.timingJitter = 0
        self.cluster = SimulatedCluster(configuration: configuration)
        try self.cluster.create(.namespaces, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "prod"]])
        self.port = SimClusterPort(cluster: self.cluster)
        let cluster = self.cluster
        let journal = self.journal
        self.worker = FlowWorker(
            handler: self.handler, cluster: self.port, clock: { cluster.clock.date(at: cluster.now) },
            onEvents: { flow, events in journal.append(events, to: flow) })
    }

    public func close() { self.store.shutdown() }

    public var now: Date { self.cluster.clock.date(at: self.cluster.now) }

    public func metadata(_ actor: String = "alice", reason: String? = nil) -> EventMetadata {
        EventMetadata(actor: actor, reason: reason, requestID: UUID().uuidString, source: .cli, time: self.now)
    }

    public func createFlow(_ create: DeployFlow.CreateFlow) async throws -> DeployFlow.State {
        let metadata = self.metadata(reason: "release \(create.appSpec.image)")
        let state = try await self.handler.createFlow(create, metadata: metadata)
        // What createFlow appended to the flow stream (the decider is deterministic).
        self.journal.append(
            try DeployFlow.decide(
                DeployFlow.Command(.create(create), metadata: metadata.storedPrecision), DeployFlow.initialState),
            to: create.flowID)
        return state
    }

    /// A person's intent (next, pause, resume, cancel, continue).
    @discardableResult
    public func send(_ kind: DeployFlow.Command.Kind, _ flow: FlowID, reason: String? = nil) async throws -> DeployFlow.State {
        let outcome = try await self.handler.send(kind, to: flow, metadata: self.metadata(reason: reason))
        self.journal.append(outcome.events, to: flow)
        return outcome.state
    }

    /// One simulated second: the cluster moves, then the worker steps the flow.
    @discardableResult
    public func tick(_ flow: FlowID, seconds: Double = 1) async throws -> DeployFlow.State {
        self.cluster.advance(by: seconds)
        return try await self.worker.step(flow)
    }

    /// Ticks until `condition` holds (checked after every tick, and `each` called), failing after
    /// `limit` simulated seconds.
    @discardableResult
    public func run(
        _ flow: FlowID, limit: Int = 300, sourceLocation: SourceLocation = #_sourceLocation,
        each: (DeployFlow.State) throws -> Void = { _ in }, until condition: (DeployFlow.State) -> Bool
    ) async throws -> DeployFlow.State {
        var state = try await self.worker.step(flow)
        var seconds = 0
        while !condition(state) {
            seconds += 1
            guard seconds <= limit else {
                let batch = "batch \(state.currentBatch) \(state.current?.phase.rawValue ?? "-")"
                Issue.record(
                    """
                    flow \(flow) did not get there in \(limit) simulated seconds: phase \(state.phase.rawValue), \(batch), \
                    paused \(state.paused); cluster: \(self.debugDescription)
                    """,
                    sourceLocation: sourceLocation)
                throw HarnessError.timedOut
            }
            state = try await self.tick(flow)
            try each(state)
        }
        return state
    }

    /// Lets the cluster run on without the engine (terminations finish).
    public func settle(seconds: Double) {
        self.cluster.advance(by: seconds)
    }

    // MARK: - The cluster as a test sees it

    public func pods() throws -> [ClusterPod] {
        try self.cluster.list(.pods, namespace: Self.namespace, labelSelector: "app.kubernetes.io/instance=\(Self.instance.name)")
            .map { CloneSetMapping.pod(from: $0) }
    }

    public func livePods() throws -> [ClusterPod] { try self.pods().filter { !$0.terminating } }

    public func workload() async throws -> ClusterWorkload { try #require(try await self.port.workload(Self.instance)) }

    /// The cluster's Pending/Running/Ready/Failed counts (terminating pods left out).
    public func clusterCounts() async throws -> ReplicaCounts {
        let updateRevision = try await self.workload().status.updateRevision
        return ReplicaCounts(try self.pods().map { $0.observation(updateRevision: updateRevision) })
    }

    /// Creates the `checkout` Service selecting the instance's pods.
    public func createService() throws {
        try self.cluster.create(
            .services,
            [
                "apiVersion": "v1", "kind": "Service",
                "metadata": ["name": .string(Self.instance.name), "namespace": .string(Self.namespace)],
                "spec": ["selector": ["app.kubernetes.io/instance": .string(Self.instance.name)], "ports": [["port": 80]]],
            ])
    }

    /// The pods the Service's endpoints send traffic to, and those they list as not ready.
    public func endpoints() -> (ready: Set<String>, notReady: Set<String>) {
        let subsets =
            self.cluster.get(.endpoints, namespace: Self.namespace, name: Self.instance.name)?["subsets"]?.arrayValue ?? []
        func names(_ key: String) -> Set<String> {
            Set(subsets.flatMap { ($0[key]?.arrayValue ?? []).compactMap { $0[path: ["targetRef", "name"]]?.stringValue } })
        }
        return (names("addresses"), names("notReadyAddresses"))
    }

    /// The CloneSet's raw spec, for checks on what the executor wrote.
    public func cloneSetSpec() -> JSONValue {
        self.cluster.get(.cloneSets, namespace: Self.namespace, name: Self.instance.name)?["spec"] ?? .null
    }

    /// The CloneSet's spec and status and the pods, for failure messages.
    public var debugDescription: String {
        let cloneSet = self.cluster.get(.cloneSets, namespace: Self.namespace, name: Self.instance.name)
        let pods = ((try? self.pods()) ?? []).map {
            "\($0.name) \($0.revision ?? "-") \($0.phase.rawValue) ready=\($0.ready) gate=\($0.gate.rawValue) "
                + "\($0.waitingReason ?? "")\($0.terminating ? " terminating" : "")"
        }
        var spec = cloneSet?["spec"]
        spec?["template"] = nil
        return "spec \(spec.map(\.jsonString) ?? "-") status \(cloneSet?["status"].map(\.jsonString) ?? "-") pods \(pods)"
    }

    // MARK: - Replay

    /// Folding the flow's stream from scratch gives exactly `live`; and every hash chain verifies.
    public func expectReplay(_ live: DeployFlow.State, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let flow = try #require(live.spec?.flowID)
        let recorded = try await self.store.readStream(Streams.flow(flow), afterVersion: 0)
        let events = try recorded.map { try DeployFlow.Event.decode(type: $0.type, data: Data($0.data.utf8)) }
        let replayed = DeployFlow.fold(events)
        #expect(replayed == live, "replay of \(flow) differs from the live state", sourceLocation: sourceLocation)
        // The events as decided in memory are exactly the stored ones, decoded.
        let journaled = self.journal.events(of: flow)
        #expect(
            journaled.count == events.count, "journal \(journaled.count) vs log \(events.count)", sourceLocation: sourceLocation)
        #expect(journaled == events, sourceLocation: sourceLocation)
        #expect(DeployFlow.fold(journaled) == replayed, sourceLocation: sourceLocation)
        let report = try await self.store.verify()
        #expect(report.firstBreak == nil, sourceLocation: sourceLocation)
    }

    // MARK: - Releases

    public static func appSpec(_ image: String, annotations: [String: String] = [:]) -> AppSpec {
        var template: String?
        if !annotations.isEmpty {
            let pairs = annotations.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",")
            template = "{\"metadata\":{\"annotations\":{\(pairs)}}}"
        }
        return AppSpec(appID: 12122, groupID: 10010, appName: "checkout", image: image, template: template)
    }

    /// Creates `prod/checkout` with `replicas` Ready pods of `image` (one auto batch) and returns the
    /// finished create flow.
    @discardableResult
    public func provision(replicas: Int = 10, image: String = "shop/checkout:v1", id: String = "checkout-create")
        async throws -> DeployFlow.State
    {
        let create = DeployFlow.CreateFlow(
            flowID: FlowID(id), instance: Self.instance, action: .create, appSpec: Self.appSpec(image),
            currentReplicas: 0, targetReplicas: replicas, strategy: Strategy(batchSize: .count(replicas), mode: .auto)
        )
        _ = try await self.createFlow(create)
        let state = try await self.run(create.flowID, until: \.isFinished)
        #expect(state.phase == .success)
        try #require(try self.livePods().filter(\.ready).count == replicas)
        return state
    }

    /// The flow's `existingPods` for a flow created now.
    public func existingPodNames() throws -> [String] { try self.livePods().map(\.name).sorted() }
}

public enum HarnessError: Error { case timedOut }

/// The events appended to each flow, in order, as the deciders produced them.
public final class Journal: Sendable {
    private let events = Mutex<[FlowID: [DeployFlow.Event]]>([:])

    public init() {}

    public func append(_ new: [DeployFlow.Event], to flow: FlowID) { self.events.withLock { $0[flow, default: []] += new } }
    public func events(of flow: FlowID) -> [DeployFlow.Event] { self.events.withLock { $0[flow] ?? [] } }
}
