import KubeSim
import Testing
import TritonJSON

@Suite("CloneSet controller")
struct CloneSetControllerTests {
    /// Creates the CloneSet, lets pods come up and pulls them all in.
    func readyCloneSet(_ cluster: SimulatedCluster, replicas: Int, partition: JSONValue? = nil, maxSurge: JSONValue = "60%", maxUnavailable: JSONValue = 0) throws {
        try cluster.create(.cloneSets, Fixtures.cloneSet(replicas: replicas, partition: partition, maxSurge: maxSurge, maxUnavailable: maxUnavailable))
        cluster.advance(by: 10)
        for pod in try cluster.activePods(of: "demo") { try cluster.pullIn(pod) }
        cluster.advance(by: 1)
    }

    @Test("scale out creates named, owned, labelled pods and a full status")
    func scaleOut() throws {
        let cluster = Fixtures.manualCluster()
        try cluster.create(.cloneSets, Fixtures.cloneSet(replicas: 3))
        cluster.settle()
        let pods = try cluster.pods(of: "demo")
        #expect(pods.count == 3)
        let cs = try #require(cluster.get(.cloneSets, name: "demo"))
        for pod in pods {
            #expect(pod.podName.hasPrefix("demo-") && pod.podName.count == "demo-".count + 5)
            #expect(pod[path: ["metadata", "ownerReferences"]]?.arrayValue?.first?["uid"] == cs[path: ["metadata", "uid"]])
            #expect(pod.revision == cs[path: ["status", "updateRevision"]]?.stringValue)
            #expect(pod[path: ["metadata", "labels", "apps.kruise.io/cloneset-instance-id"]]?.stringValue == String(pod.podName.dropFirst(5)))
            #expect(pod[path: ["status", "phase"]] == "Pending")
        }
        let status = cluster.cloneSetStatus()
        #expect(status["replicas"] == 3)
        #expect(status["updatedReplicas"] == 3)
        #expect(status["expectedUpdatedReplicas"] == 3)
        #expect(status["observedGeneration"] == 1)
        #expect(status["labelSelector"] == "app=demo")
        #expect(status["currentRevision"] == status["updateRevision"])
        let events = cluster.events(for: cs).compactMap { $0["reason"]?.stringValue }
        #expect(events.filter { $0 == "SuccessfulCreate" }.count == 3)
    }

    @Test("pod lifecycle: Pending → ContainerCreating → Running → ContainersReady → Ready via the gate")
    func lifecycle() throws {
        let cluster = Fixtures.manualCluster()
        try cluster.create(.cloneSets, Fixtures.cloneSet(replicas: 1))
        cluster.settle()
        let name = try #require(cluster.pods(of: "demo").first).podName
        func pod() -> JSONValue { cluster.get(.pods, name: name)! }
        #expect(pod()[path: ["spec", "nodeName"]] == nil)
        cluster.advance(by: 0.6)
        #expect(pod()[path: ["spec", "nodeName"]]?.stringValue?.hasPrefix("sim-node-") == true)
        #expect(pod().waitingReason == "ContainerCreating")
        cluster.advance(by: 2)
        #expect(pod()[path: ["status", "phase"]] == "Running")
        #expect(!pod().isContainersReady)
        cluster.advance(by: 5)
        #expect(pod().isContainersReady)
        #expect(!pod().isReady)
        #expect(pod().condition("Ready")?["reason"] == "ReadinessGatesNotReady")
        #expect(
            pod().condition("Ready")?["message"]
                == "corresponding condition of pod readiness gate \"apps.triton.io/ready\" does not exist.")
        #expect(cluster.cloneSetStatus()["readyReplicas"] == 0)
        try cluster.pullIn(pod(), false)
        cluster.settle()
        #expect(pod().condition("Ready")?["message"] == "the status of pod readiness gate \"apps.triton.io/ready\" is not \"True\", but False")
        try cluster.pullIn(pod())
        cluster.settle()
        #expect(pod().isReady)
        #expect(pod().condition("InPlaceUpdateReady")?["status"] == "True")
        #expect(cluster.cloneSetStatus()["readyReplicas"] == 1)
        #expect(cluster.cloneSetStatus()["availableReplicas"] == 1)
        let reasons = cluster.events(for: pod()).compactMap { $0["reason"]?.stringValue }
        #expect(reasons == ["Scheduled", "Pulling", "Pulled", "Created", "Started"])
    }

    @Test("partition and surge: Triton's batch 1 of a 10-replica update")
    func partitionAndSurge() throws {
        let cluster = Fixtures.manualCluster()
        try self.readyCloneSet(cluster, replicas: 10)
        let v1 = try #require(cluster.cloneSetStatus()["updateRevision"]?.stringValue)
        // Batch 1: new template, replicas 12, partition 10 → two v2 pods surge in; old pods stay.
        try cluster.patch(
            .cloneSets, name: "demo", type: .merge,
            [
                "spec": [
                    "replicas": 12, "updateStrategy": ["partition": 10],
                    "template": ["spec": ["containers": [["name": "app", "image": "reg/demo:v2"]]]],
                ]
            ])
        cluster.settle()
        let v2 = try #require(cluster.cloneSetStatus()["updateRevision"]?.stringValue)
        #expect(v1 != v2)
        var pods = try cluster.activePods(of: "demo")
        #expect(pods.count == 12)
        #expect(pods.filter { $0.revision == v2 }.count == 2)
        #expect(pods.filter { $0.revision == v1 }.count == 10)
        #expect(cluster.cloneSetStatus()["expectedUpdatedReplicas"] == 2)
        #expect(cluster.cloneSetStatus()["currentRevision"]?.stringValue == v1)
        // Bring replicas back to 10 and lower the partition: old pods go only once new ones are available.
        try cluster.patch(.cloneSets, name: "demo", type: .merge, ["spec": ["replicas": 10, "updateStrategy": ["partition": 8]]])
        cluster.advance(by: 10)
        #expect(try cluster.activePods(of: "demo").count == 12, "maxUnavailable 0: no old pod goes while the new ones are not Ready")
        for pod in try cluster.activePods(of: "demo") where pod.revision == v2 { try cluster.pullIn(pod) }
        cluster.settle()
        pods = try cluster.activePods(of: "demo")
        #expect(pods.count == 10)
        #expect(pods.filter { $0.revision == v2 }.count == 2)
        #expect(pods.filter { $0.revision == v1 }.count == 8)
        let status = cluster.cloneSetStatus()
        #expect(status["updatedReplicas"] == 2)
        #expect(status["updatedReadyReplicas"] == 2)
        #expect(status["readyReplicas"] == 10)
    }

    @Test("maxSurge drives an update by itself: surge new pods, then remove old ones")
    func surgeDrivenUpdate() throws {
        let cluster = Fixtures.manualCluster()
        try self.readyCloneSet(cluster, replicas: 4)
        try cluster.patch(
            .cloneSets, name: "demo", type: .merge,
            ["spec": ["updateStrategy": ["partition": 2], "template": ["spec": ["containers": [["name": "app", "image": "reg/demo:v2"]]]]]])
        cluster.settle()
        let v2 = try #require(cluster.cloneSetStatus()["updateRevision"]?.stringValue)
        var pods = try cluster.activePods(of: "demo")
        #expect(pods.count == 6, "maxSurge 60% of 4 = 3, two are needed")
        #expect(pods.filter { $0.revision == v2 }.count == 2)
        cluster.advance(by: 10)
        for pod in pods where pod.revision == v2 { try cluster.pullIn(pod) }
        cluster.settle()
        pods = try cluster.activePods(of: "demo")
        #expect(pods.count == 4)
        #expect(pods.filter { $0.revision == v2 }.count == 2)
        cluster.advance(by: 10)
        #expect(try cluster.pods(of: "demo").count == 4, "terminated pods are gone after their grace")
    }

    @Test("ReCreate update without surge honours maxUnavailable")
    func recreateUpdate() throws {
        let cluster = Fixtures.manualCluster()
        try self.readyCloneSet(cluster, replicas: 5, maxSurge: 0, maxUnavailable: 2)
        try cluster.patch(
            .cloneSets, name: "demo", type: .merge,
            ["spec": ["template": ["spec": ["containers": [["name": "app", "image": "reg/demo:v2"]]]]]])
        cluster.settle()
        let v2 = try #require(cluster.cloneSetStatus()["updateRevision"]?.stringValue)
        let pods = try cluster.activePods(of: "demo")
        #expect(pods.count == 5)
        #expect(pods.filter { $0.revision == v2 }.count == 2, "two old pods recreated at once")
        #expect(try cluster.pods(of: "demo").filter { $0[path: ["metadata", "deletionTimestamp"]] != nil }.count == 2)
        // Each wave needs the new pods Ready.
        for _ in 0..<4 {
            cluster.advance(by: 10)
            for pod in try cluster.activePods(of: "demo") where !pod.isReady { try cluster.pullIn(pod) }
            cluster.settle()
        }
        let final = try cluster.activePods(of: "demo")
        #expect(final.allSatisfy { $0.revision == v2 })
        #expect(cluster.cloneSetStatus()["currentRevision"]?.stringValue == v2)
    }

    @Test("podsToDelete: replace a pod, surge first, and drop the name once gone")
    func podsToDelete() throws {
        let cluster = Fixtures.manualCluster()
        try self.readyCloneSet(cluster, replicas: 3)
        let victim = try #require(cluster.activePods(of: "demo").first).podName
        try cluster.patch(.cloneSets, name: "demo", type: .merge, ["spec": ["scaleStrategy": ["podsToDelete": [.string(victim)]]]])
        cluster.settle()
        #expect(try cluster.activePods(of: "demo").count == 4, "maxSurge with no unavailable budget creates the replacement first")
        #expect(cluster.get(.pods, name: victim)?[path: ["metadata", "deletionTimestamp"]] == nil)
        cluster.advance(by: 10)
        for pod in try cluster.activePods(of: "demo") where !pod.isReady { try cluster.pullIn(pod) }
        cluster.settle()
        #expect(cluster.get(.pods, name: victim)?[path: ["metadata", "deletionTimestamp"]] != nil)
        cluster.advance(by: 10)
        #expect(cluster.get(.pods, name: victim) == nil)
        #expect(try cluster.activePods(of: "demo").count == 3)
        let spec = try #require(cluster.get(.cloneSets, name: "demo"))["spec"]
        #expect(spec?[path: ["scaleStrategy", "podsToDelete"]] == nil, "the name is dropped once the pod is gone")
    }

    @Test("podsToDelete with lower replicas removes exactly those pods")
    func podsToDeleteScaleIn() throws {
        let cluster = Fixtures.manualCluster()
        try self.readyCloneSet(cluster, replicas: 5)
        let names = try cluster.activePods(of: "demo").map(\.podName).sorted()
        let chosen = [names[1], names[3]]
        try cluster.patch(
            .cloneSets, name: "demo", type: .merge,
            ["spec": ["replicas": 3, "scaleStrategy": ["podsToDelete": .array(chosen.map { .string($0) })]]])
        cluster.settle()
        let remaining = try cluster.activePods(of: "demo").map(\.podName).sorted()
        #expect(remaining == names.filter { !chosen.contains($0) })
    }

    @Test("scale-in removes old-revision pods, then not-ready ones, then newer ones")
    func scaleInOrder() throws {
        let cluster = Fixtures.manualCluster()
        try self.readyCloneSet(cluster, replicas: 4, maxUnavailable: 2)
        // Two new-revision pods via partition: one stays not ready.
        try cluster.patch(
            .cloneSets, name: "demo", type: .merge,
            [
                "spec": [
                    "replicas": 6, "updateStrategy": ["partition": 4],
                    "template": ["spec": ["containers": [["name": "app", "image": "reg/demo:v2"]]]],
                ]
            ])
        cluster.advance(by: 10)
        let v2 = try #require(cluster.cloneSetStatus()["updateRevision"]?.stringValue)
        let newPods = try cluster.activePods(of: "demo").filter { $0.revision == v2 }.sorted { $0.podName < $1.podName }
        #expect(newPods.count == 2)
        try cluster.pullIn(newPods[0])
        cluster.settle()
        // Scale to 5 with partition 3: an old pod goes first (old revision first).
        try cluster.patch(.cloneSets, name: "demo", type: .merge, ["spec": ["replicas": 5, "updateStrategy": ["partition": 3]]])
        cluster.settle()
        var pods = try cluster.activePods(of: "demo")
        #expect(pods.count == 5)
        #expect(pods.filter { $0.revision == v2 }.count == 2, "an old-revision pod was removed, not a new one")
        // Now keep all old pods (partition = 3 of 4): the not-ready new pod goes before the ready one.
        try cluster.patch(.cloneSets, name: "demo", type: .merge, ["spec": ["replicas": 4, "updateStrategy": ["partition": 3]]])
        cluster.settle()
        pods = try cluster.activePods(of: "demo")
        #expect(pods.count == 4)
        #expect(pods.contains { $0.podName == newPods[0].podName }, "the ready new pod stays")
        #expect(!pods.contains { $0.podName == newPods[1].podName }, "the not-ready new pod goes")
    }

    @Test("scale-in takes the not-ready pod first, and ready ones only within maxUnavailable")
    func scaleInWaitsForAvailability() throws {
        let cluster = Fixtures.manualCluster()
        try self.readyCloneSet(cluster, replicas: 3)
        try cluster.patch(.cloneSets, name: "demo", type: .merge, ["spec": ["replicas": 4]])
        cluster.advance(by: 10)
        try cluster.patch(.cloneSets, name: "demo", type: .merge, ["spec": ["replicas": 2]])
        cluster.settle()
        let pods = try cluster.activePods(of: "demo")
        #expect(pods.count == 2)
        #expect(pods.allSatisfy { $0.isReady }, "the not-ready pod went first")
    }

    @Test("paused freezes the update and surge; scaling still works")
    func paused() throws {
        let cluster = Fixtures.manualCluster()
        try self.readyCloneSet(cluster, replicas: 4, maxSurge: "50%", maxUnavailable: 1)
        try cluster.patch(
            .cloneSets, name: "demo", type: .merge,
            [
                "spec": [
                    "updateStrategy": ["paused": true],
                    "template": ["spec": ["containers": [["name": "app", "image": "reg/demo:v2"]]]],
                ]
            ])
        cluster.advance(by: 20)
        let v2 = try #require(cluster.cloneSetStatus()["updateRevision"]?.stringValue)
        var pods = try cluster.activePods(of: "demo")
        #expect(pods.count == 4)
        #expect(pods.allSatisfy { $0.revision != v2 }, "no pod updated while paused")
        try cluster.patch(.cloneSets, name: "demo", type: .merge, ["spec": ["replicas": 5]])
        cluster.settle()
        pods = try cluster.activePods(of: "demo")
        #expect(pods.count == 5, "scaling continues while paused, without surge")
        try cluster.patch(.cloneSets, name: "demo", type: .merge, ["spec": ["updateStrategy": ["paused": false]]])
        cluster.settle()
        #expect(try cluster.activePods(of: "demo").filter { $0.revision == v2 }.count >= 2)
    }

    @Test("partition as a percent rounds up but still updates one pod")
    func partitionPercent() throws {
        #expect(CloneSetMathProbe.partition("99%", replicas: 10) == 9)
        #expect(CloneSetMathProbe.partition("50%", replicas: 5) == 3)
        #expect(CloneSetMathProbe.partition("100%", replicas: 5) == 5)
        #expect(CloneSetMathProbe.partition(3, replicas: 2) == 2)
    }

    @Test("deleting a CloneSet garbage-collects its pods; orphan keeps them")
    func garbageCollection() throws {
        let cluster = Fixtures.manualCluster()
        try self.readyCloneSet(cluster, replicas: 2)
        try cluster.delete(.cloneSets, name: "demo")
        cluster.settle()
        #expect(try cluster.activePods(of: "demo").isEmpty)
        cluster.advance(by: 10)
        #expect(try cluster.pods(of: "demo").isEmpty)

        try cluster.create(.cloneSets, Fixtures.cloneSet("keep", replicas: 2))
        cluster.advance(by: 10)
        try cluster.delete(.cloneSets, name: "keep", propagationPolicy: "Orphan")
        cluster.advance(by: 1)
        #expect(cluster.get(.cloneSets, name: "keep") == nil)
        let orphans = try cluster.pods(of: "keep")
        #expect(orphans.count == 2)
        #expect(orphans.allSatisfy { $0[path: ["metadata", "ownerReferences"]] == nil })
    }
}

/// Exposes the partition arithmetic through a CloneSet's status.
enum CloneSetMathProbe {
    static func partition(_ partition: JSONValue, replicas: Int) -> Int {
        let cluster = Fixtures.manualCluster()
        _ = try? cluster.create(.cloneSets, Fixtures.cloneSet(replicas: replicas, partition: partition))
        cluster.settle()
        return replicas - (cluster.cloneSetStatus()["expectedUpdatedReplicas"]?.intValue ?? -1)
    }
}
