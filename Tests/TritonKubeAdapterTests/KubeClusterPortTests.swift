import Foundation
import Hummingbird
import KubeClient
import KubeSim
import Testing
import TritonDomain
import TritonEngine
import TritonJSON
import TritonKubeAdapter
import TritonKubeMapping
import TritonSimAdapter

/// `KubeClusterPort` over HTTP against an in-process simulated cluster on a manual clock, checked against
/// `SimClusterPort` on the same cluster (reads) and on a twin cluster driven by the same calls (writes).
@Suite("KubeClusterPort against the simulated cluster", .timeLimit(.minutes(3)))
struct KubeClusterPortTests {
    static let instance = InstanceRef(namespace: "prod", name: "checkout")
    static let appSpec = AppSpec(appID: 42, groupID: 7, appName: "checkout", image: "registry.example/checkout:v1")

    /// Two clusters with the same seed and a manual clock: `served` behind HTTP (its controllers run
    /// only when the test advances its clock), and `twin`, in process only.
    struct Fixture {
        let served: SimulatedCluster
        let twin: SimulatedCluster
        let client: KubeClient
        /// Over HTTP on `served`.
        let kube: KubeClusterPort
        /// In process on `served`: reads what `kube` wrote.
        let simOnServed: SimClusterPort
        /// In process on `twin`: gets the same calls as `kube`.
        let sim: SimClusterPort

        func advance(by seconds: Double) {
            self.served.advance(by: seconds)
            self.twin.advance(by: seconds)
        }

        /// The stored object of `served` and `twin`.
        func stored(_ type: ResourceType, _ name: String) throws -> (served: JSONValue, twin: JSONValue) {
            (
                try #require(self.served.get(type, namespace: "prod", name: name)),
                try #require(self.twin.get(type, namespace: "prod", name: name))
            )
        }

        /// Both ports' reads of `served` agree, and match the twin's; returns them.
        @discardableResult
        func expectSameView(
            _ instance: InstanceRef = KubeClusterPortTests.instance, sourceLocation: SourceLocation = #_sourceLocation
        ) async throws -> (workload: ClusterWorkload?, pods: [ClusterPod]) {
            let workload = try await self.kube.workload(instance)
            let pods = try await self.kube.pods(instance).sorted { $0.name < $1.name }
            #expect(workload == (try await self.simOnServed.workload(instance)), sourceLocation: sourceLocation)
            #expect(pods == (try await self.simOnServed.pods(instance).sorted { $0.name < $1.name }), sourceLocation: sourceLocation)
            #expect(workload == (try await self.sim.workload(instance)), sourceLocation: sourceLocation)
            #expect(pods == (try await self.sim.pods(instance).sorted { $0.name < $1.name }), sourceLocation: sourceLocation)
            return (workload, pods)
        }
    }

    static func makeCluster() throws -> SimulatedCluster {
        var configuration = SimConfiguration(seed: 11)
        configuration.clock = .manual(ManualClock())
        configuration.timingJitter = 0
        let cluster = SimulatedCluster(configuration: configuration)
        try cluster.create(.namespaces, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "prod"]])
        return cluster
    }

    /// Serves a cluster's API (without the background controller loop, so that time moves only through
    /// `advance`) and runs `body` with a client pointed at it.
    func withFixture(_ body: @Sendable (Fixture) async throws -> Void) async throws {
        let served = try Self.makeCluster()
        let twin = try Self.makeCluster()
        let application = served.makeApplication()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await application.runService(gracefulShutdownSignals: []) }
            let port = try await served.waitUntilListening()
            var configuration = try KubeClient.Configuration.commandLine(
                server: "http://127.0.0.1:\(port)", namespace: "default", environment: [:])
            configuration.qps = 0
            configuration.retry = RetryPolicy(maxRetries: 4, initialBackoff: .milliseconds(20))
            let client = KubeClient(configuration: configuration)
            defer {
                client.shutdown()
                group.cancelAll()
            }
            let fixture = Fixture(
                served: served, twin: twin, client: client, kube: KubeClusterPort(client: client),
                simOnServed: SimClusterPort(cluster: served), sim: SimClusterPort(cluster: twin))
            do {
                try await body(fixture)
            } catch {
                // KubeError's description is generic; show the details.
                Issue.record("\(String(reflecting: error))")
                throw error
            }
        }
    }

    static func intent(
        replicas: Int, partition: Int? = nil, paused: Bool = false, podsToDelete: [String] = []
    ) -> DeployFlow.WorkloadIntent {
        DeployFlow.WorkloadIntent(replicas: replicas, partition: partition, paused: paused, podsToDelete: podsToDelete, gates: [:])
    }

    // MARK: - Reading

    @Test func aMissingInstanceHasNoWorkloadAndNoPods() async throws {
        try await self.withFixture { fixture in
            let view = try await fixture.expectSameView()
            #expect(view.workload == nil)
            #expect(view.pods.isEmpty)
        }
    }

    // MARK: - createWorkload

    @Test func createWorkloadBuildsTheSimPortsCloneSet() async throws {
        try await self.withFixture { fixture in
            let kubeVersion = try await fixture.kube.createWorkload(Self.instance, appSpec: Self.appSpec)
            let simVersion = try await fixture.sim.createWorkload(Self.instance, appSpec: Self.appSpec)
            #expect(kubeVersion == simVersion)
            let stored = try fixture.stored(.cloneSets, Self.instance.name)
            #expect(stored.served["spec"] == stored.twin["spec"])
            #expect(stored.served[path: ["metadata", "labels"]] == stored.twin[path: ["metadata", "labels"]])
            #expect(stored.served.resourceVersion == kubeVersion)

            // The shape DESIGN §2 asks for.
            let cloneSet = try await fixture.client.cloneSet(Self.instance.name, namespace: "prod")
            #expect(cloneSet.replicas == 0)
            #expect(cloneSet.metadata.labels == TritonLabels.labels(Self.instance, Self.appSpec))
            #expect(cloneSet.json[path: ["spec", "selector", "matchLabels"]]?.stringMap == TritonLabels.labels(Self.instance, Self.appSpec))
            #expect(cloneSet.json[path: ["spec", "updateStrategy", "type"]]?.stringValue == "ReCreate")
            #expect(cloneSet.maxUnavailable == .int(0))
            #expect(cloneSet.maxSurge == .string("60%"))
            #expect(cloneSet.partition == .int(0))
            #expect(cloneSet.paused == false)
            let podSpec = cloneSet.template["spec"]
            #expect(podSpec?["readinessGates"]?.arrayValue?.compactMap { $0["conditionType"]?.stringValue } == [TritonLabels.gateCondition])
            #expect(podSpec?["terminationGracePeriodSeconds"]?.intValue == 30)
            let container = podSpec?["containers"]?[0]
            #expect(container?["image"]?.stringValue == Self.appSpec.image)
            #expect(container?[path: ["lifecycle", "preStop", "exec", "command"]] == ["/bin/sh", "-c", "/gracefully_shutdown"])
            #expect(cloneSet.template[path: ["metadata", "labels"]]?.stringMap == TritonLabels.labels(Self.instance, Self.appSpec))

            fixture.advance(by: 1)
            let view = try await fixture.expectSameView()
            #expect(view.workload?.replicas == 0)
            #expect(view.workload?.partition == 0)
            #expect(view.workload?.image == Self.appSpec.image)
            #expect(view.pods.isEmpty)
        }
    }

    @Test func createWorkloadLeavesAnExistingCloneSetAlone() async throws {
        try await self.withFixture { fixture in
            _ = try await fixture.kube.createWorkload(Self.instance, appSpec: Self.appSpec)
            fixture.advance(by: 1)
            let before = try #require(try await fixture.kube.workload(Self.instance))
            var other = Self.appSpec
            other.image = "registry.example/checkout:v2"
            let version = try await fixture.kube.createWorkload(Self.instance, appSpec: other)
            #expect(version == before.resourceVersion)
            #expect(try await fixture.kube.workload(Self.instance) == before)
        }
    }

    @Test func createWorkloadMergesTheAppsTemplateLikeTheSimPort() async throws {
        try await self.withFixture { fixture in
            var appSpec = Self.appSpec
            appSpec.template = """
                {"metadata": {"labels": {"tier": "web"}, "annotations": {"note": "kept"}},
                 "spec": {"terminationGracePeriodSeconds": 45,
                          "readinessGates": [{"conditionType": "example.com/other"}],
                          "containers": [{"name": "main", "image": "ignored", "env": [{"name": "MODE", "value": "prod"}],
                                          "resources": {"requests": {"cpu": "250m", "memory": "128Mi"}}},
                                         {"name": "sidecar", "image": "registry.example/proxy:1.2"}]}}
                """
            let kubeVersion = try await fixture.kube.createWorkload(Self.instance, appSpec: appSpec)
            let simVersion = try await fixture.sim.createWorkload(Self.instance, appSpec: appSpec)
            #expect(kubeVersion == simVersion)
            let stored = try fixture.stored(.cloneSets, Self.instance.name)
            #expect(stored.served["spec"] == stored.twin["spec"])
            let template = try fixture.kube.template(Self.instance, appSpec)
            // The same tree as the sim port's, before the API server applies its defaults.
            let simTemplate = try fixture.sim.template(Self.instance, appSpec)
            #expect(try JSONValue(jsonData: template.jsonData()) == simTemplate)
            #expect(template[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue == 45)
            #expect(template[path: ["metadata", "labels", "tier"]]?.stringValue == "web")
            #expect(template[path: ["spec", "readinessGates"]]?.arrayValue?.count == 2)
            #expect(template[path: ["spec", "containers"]]?[1]?["image"]?.stringValue == "registry.example/proxy:1.2")
            #expect(template[path: ["spec", "containers"]]?[1]?["lifecycle"] == nil)

            fixture.advance(by: 1)
            try await fixture.expectSameView()
        }
    }

    @Test func aTemplateThatIsNotAJSONObjectIsRejected() async throws {
        try await self.withFixture { fixture in
            for text in ["[1, 2]", "{not json"] {
                var appSpec = Self.appSpec
                appSpec.template = text
                await #expect(throws: CloneSetMappingError.self) {
                    _ = try await fixture.kube.createWorkload(Self.instance, appSpec: appSpec)
                }
            }
            let workload = try await fixture.kube.workload(Self.instance)
            #expect(workload == nil)
        }
    }

    // MARK: - apply, pods, setGate

    @Test func applyScalesAndPodsMapLikeTheSimPort() async throws {
        try await self.withFixture { fixture in
            for port in [fixture.kube, fixture.sim] as [any ClusterPort] {
                _ = try await port.createWorkload(Self.instance, appSpec: Self.appSpec)
            }
            fixture.advance(by: 1)
            let intent = Self.intent(replicas: 3, partition: 0)
            let kubeVersion = try await fixture.kube.apply(intent, to: Self.instance)
            let simVersion = try await fixture.sim.apply(intent, to: Self.instance)
            #expect(kubeVersion == simVersion)
            #expect(fixture.served.get(.cloneSets, namespace: "prod", name: Self.instance.name)?.resourceVersion == kubeVersion)
            let stored = try fixture.stored(.cloneSets, Self.instance.name)
            #expect(stored.served["spec"] == stored.twin["spec"])

            // Pods appear, get scheduled, start; the gate is absent until the flow sets it.
            // Both views agree along the way (every fifth second: the check reads over HTTP, and the
            // whole suite runs beside the others).
            for second in 1...60 {
                fixture.advance(by: 1)
                if second % 5 == 0 { try await fixture.expectSameView() }
            }
            let view = try await fixture.expectSameView()
            #expect(view.workload?.replicas == 3)
            #expect(view.workload?.status.replicas == 3)
            #expect(view.pods.count == 3)
            #expect(view.pods.allSatisfy { $0.phase == .running && $0.scheduled && $0.containersReady })
            #expect(view.pods.allSatisfy { $0.gate == .absent && !$0.ready && !$0.terminating })
            #expect(view.pods.allSatisfy { $0.revision != nil && $0.revision == view.workload?.status.updateRevision })
            #expect(view.pods.allSatisfy { !$0.uid.isEmpty && !$0.resourceVersion.isEmpty })
        }
    }

    @Test func setGatePatchesThePodsCondition() async throws {
        try await self.withFixture { fixture in
            for port in [fixture.kube, fixture.sim] as [any ClusterPort] {
                _ = try await port.createWorkload(Self.instance, appSpec: Self.appSpec)
                _ = try await port.apply(Self.intent(replicas: 2, partition: 0), to: Self.instance)
            }
            fixture.advance(by: 60)
            let pods = try await fixture.expectSameView().pods
            try #require(pods.count == 2)
            let name = pods[0].name

            let kubeVersion = try await fixture.kube.setGate(Self.instance, pod: name, to: .true)
            let simVersion = try await fixture.sim.setGate(Self.instance, pod: name, to: .true)
            #expect(kubeVersion == simVersion)
            let stored = try fixture.stored(.pods, name)
            #expect(stored.served.resourceVersion == kubeVersion)
            #expect(stored.served[path: ["status", "conditions"]] == stored.twin[path: ["status", "conditions"]])
            let pod = try await fixture.client.pod(name, namespace: "prod")
            #expect(pod.condition(TritonLabels.gateCondition)?.status == "True")
            // The strategic merge keeps the other conditions.
            #expect(pod.condition("PodScheduled")?.status == "True")
            #expect(pod.containersReady)

            fixture.advance(by: 1)
            var view = try await fixture.expectSameView()
            #expect(view.pods.first { $0.name == name }?.gate == .true)
            #expect(view.pods.first { $0.name == name }?.ready == true)
            #expect(view.pods.first { $0.name != name }?.gate == .absent)

            for port in [fixture.kube, fixture.sim] as [any ClusterPort] {
                _ = try await port.setGate(Self.instance, pod: name, to: .false)
            }
            fixture.advance(by: 1)
            view = try await fixture.expectSameView()
            #expect(view.pods.first { $0.name == name }?.gate == .false)
            #expect(view.pods.first { $0.name == name }?.ready == false)
            #expect(try await fixture.client.pod(name, namespace: "prod").condition(TritonLabels.gateCondition)?.status == "False")
        }
    }

    @Test func applyPausesAndDeletesChosenPods() async throws {
        try await self.withFixture { fixture in
            for port in [fixture.kube, fixture.sim] as [any ClusterPort] {
                _ = try await port.createWorkload(Self.instance, appSpec: Self.appSpec)
                _ = try await port.apply(Self.intent(replicas: 3, partition: 0), to: Self.instance)
            }
            fixture.advance(by: 60)
            let pods = try await fixture.expectSameView().pods
            try #require(pods.count == 3)
            let victim = pods[1].name

            let intent = Self.intent(replicas: 2, paused: true, podsToDelete: [victim])
            let kubeVersion = try await fixture.kube.apply(intent, to: Self.instance)
            let simVersion = try await fixture.sim.apply(intent, to: Self.instance)
            #expect(kubeVersion == simVersion)
            let stored = try fixture.stored(.cloneSets, Self.instance.name)
            #expect(stored.served["spec"] == stored.twin["spec"])
            let workload = try #require(try await fixture.kube.workload(Self.instance))
            #expect(workload.replicas == 2)
            #expect(workload.paused)
            #expect(workload.partition == 0)  // `nil` in the intent leaves it alone
            #expect(workload.podsToDelete == [victim])

            fixture.advance(by: 1)
            var view = try await fixture.expectSameView()
            #expect(view.pods.first { $0.name == victim }.map(\.terminating) ?? true)
            fixture.advance(by: 60)
            view = try await fixture.expectSameView()
            #expect(!view.pods.contains { $0.name == victim })
            #expect(view.pods.count == 2)
        }
    }

    // MARK: - setTemplate

    @Test func setTemplateHoldsTheRolloutAtTheCurrentReplicas() async throws {
        try await self.withFixture { fixture in
            for port in [fixture.kube, fixture.sim] as [any ClusterPort] {
                _ = try await port.createWorkload(Self.instance, appSpec: Self.appSpec)
                _ = try await port.apply(Self.intent(replicas: 2, partition: 0), to: Self.instance)
            }
            fixture.advance(by: 60)
            let before = try #require(try await fixture.expectSameView().workload)

            var next = Self.appSpec
            next.image = "registry.example/checkout:v2"
            let kubeVersion = try await fixture.kube.setTemplate(Self.instance, appSpec: next)
            let simVersion = try await fixture.sim.setTemplate(Self.instance, appSpec: next)
            #expect(kubeVersion == simVersion)
            let stored = try fixture.stored(.cloneSets, Self.instance.name)
            #expect(stored.served["spec"] == stored.twin["spec"])
            #expect(stored.served.resourceVersion == kubeVersion)

            // Declarative: a second time changes nothing that matters.
            _ = try await fixture.kube.setTemplate(Self.instance, appSpec: next)
            _ = try await fixture.sim.setTemplate(Self.instance, appSpec: next)
            let again = try fixture.stored(.cloneSets, Self.instance.name)
            #expect(again.served["spec"] == stored.served["spec"])

            fixture.advance(by: 5)
            let view = try await fixture.expectSameView()
            let workload = try #require(view.workload)
            #expect(workload.image == next.image)
            #expect(workload.partition == 2)
            #expect(workload.replicas == 2)
            #expect(workload.generation > before.generation)
            #expect(workload.status.updateRevision != before.status.updateRevision)
            // Nothing rolled: the pods are still at the old revision.
            #expect(view.pods.count == 2)
            #expect(view.pods.allSatisfy { $0.revision == before.status.updateRevision && !$0.terminating })

            // Lowering the partition lets the update roll.
            for port in [fixture.kube, fixture.sim] as [any ClusterPort] {
                _ = try await port.apply(Self.intent(replicas: 2, partition: 1), to: Self.instance)
            }
            fixture.advance(by: 120)
            let rolled = try await fixture.expectSameView()
            #expect(rolled.pods.filter { !$0.terminating && $0.revision == workload.status.updateRevision }.count == 1)
        }
    }

    @Test func setTemplateOnAMissingCloneSetFails() async throws {
        try await self.withFixture { fixture in
            await #expect(throws: CloneSetMappingError.self) {
                _ = try await fixture.kube.setTemplate(Self.instance, appSpec: Self.appSpec)
            }
            await #expect(throws: KubeError.self) {
                _ = try await fixture.kube.apply(Self.intent(replicas: 1), to: Self.instance)
            }
            await #expect(throws: KubeError.self) {
                _ = try await fixture.kube.setGate(Self.instance, pod: "checkout-nope", to: .true)
            }
        }
    }
}
