import KubeSim
import Testing
import TritonJSON

@Suite("Pod faults and termination")
struct FaultTests {
    func onePod(_ annotations: [String: String] = [:], image: String = "reg/demo:v1") throws -> (SimulatedCluster, () -> JSONValue) {
        let cluster = Fixtures.manualCluster()
        try cluster.create(.cloneSets, Fixtures.cloneSet(replicas: 1, image: image, annotations: annotations))
        cluster.settle()
        let name = try #require(cluster.pods(of: "demo").first).podName
        return (cluster, { cluster.get(.pods, name: name) ?? .null })
    }

    @Test("image pull failure: ErrImagePull, then ImagePullBackOff, retried", arguments: ["annotation", "tag"])
    func imagePullFailure(source: String) throws {
        let (cluster, pod) =
            source == "annotation"
            ? try self.onePod([SimAnnotations.fault: "image-pull-failure"]) : try self.onePod(image: "reg/demo:v1-image-pull-failure")
        cluster.advance(by: 2.6)
        #expect(pod().waitingReason == "ErrImagePull")
        #expect(pod()[path: ["status", "phase"]] == "Pending")
        cluster.advance(by: 1)
        #expect(pod().waitingReason == "ImagePullBackOff")
        cluster.advance(by: 12)
        let reasons = cluster.events(for: pod()).compactMap { $0["reason"]?.stringValue }
        #expect(reasons.contains("Failed") && reasons.contains("BackOff"))
        #expect(reasons.filter { $0 == "Pulling" }.count >= 1)
        let pulling = cluster.events(for: pod()).first { $0["reason"] == "Pulling" }
        #expect((pulling?["count"]?.intValue ?? 0) >= 2, "repeated events are aggregated with a count")
        #expect(!pod().isContainersReady)
    }

    @Test("crash loop: CrashLoopBackOff with a growing restartCount")
    func crashLoop() throws {
        let (cluster, pod) = try self.onePod([SimAnnotations.fault: "crash-loop"])
        cluster.advance(by: 2.6)
        #expect(pod()[path: ["status", "phase"]] == "Running")
        cluster.advance(by: 3)
        #expect(pod().waitingReason == "CrashLoopBackOff")
        #expect(pod()[path: ["status", "containerStatuses", ]]?.arrayValue?.first?["restartCount"] == 1)
        #expect(pod()[path: ["status", "containerStatuses"]]?.arrayValue?.first?[path: ["lastState", "terminated", "exitCode"]] == 1)
        cluster.advance(by: 60)
        let restarts = pod()[path: ["status", "containerStatuses"]]?.arrayValue?.first?["restartCount"]?.intValue ?? 0
        #expect(restarts >= 3)
        #expect(!pod().isContainersReady)
        #expect(cluster.events(for: pod()).contains { $0["reason"] == "BackOff" && $0["type"] == "Warning" })
    }

    @Test("never ready: Running but never ContainersReady")
    func neverReady() throws {
        let (cluster, pod) = try self.onePod(image: "reg/demo:v1-never-ready")
        cluster.advance(by: 100)
        #expect(pod()[path: ["status", "phase"]] == "Running")
        #expect(!pod().isContainersReady)
        #expect(pod().condition("Ready")?["reason"] == "ContainersNotReady")
    }

    @Test("node lost: the pod fails later and the CloneSet replaces it")
    func nodeLost() throws {
        let (cluster, pod) = try self.onePod([SimAnnotations.fault: "node-lost", SimAnnotations.failAfterSeconds: "20"])
        cluster.advance(by: 10)
        #expect(pod().isContainersReady)
        cluster.advance(by: 15)
        #expect(pod()[path: ["status", "phase"]] == "Failed")
        #expect(pod()[path: ["status", "reason"]] == "NodeLost")
        #expect(!pod().isReady)
        let all = try cluster.pods(of: "demo")
        #expect(all.count == 2, "a replacement is created for the failed pod")
        #expect(cluster.cloneSetStatus()["replicas"] == 1)
    }

    @Test("graceful deletion: Terminating with deletionTimestamp, preStop, then gone")
    func gracefulDeletion() throws {
        let (cluster, pod) = try self.onePod([SimAnnotations.preStopSeconds: "5", SimAnnotations.shutdownSeconds: "2"])
        cluster.advance(by: 10)
        let name = pod().podName
        let deleted = try cluster.delete(.pods, name: name)
        #expect(deleted[path: ["metadata", "deletionTimestamp"]] != nil)
        #expect(deleted[path: ["metadata", "deletionGracePeriodSeconds"]] == 30)
        cluster.settle()
        #expect(cluster.events(for: pod()).contains { $0["reason"] == "Killing" })
        cluster.advance(by: 6.5)
        #expect(cluster.get(.pods, name: name) != nil, "preStop 5 s + shutdown 2 s")
        cluster.advance(by: 1)
        #expect(cluster.get(.pods, name: name) == nil)
    }

    @Test("grace period 0 deletes at once; preconditions are checked")
    func forceDeleteAndPreconditions() throws {
        let (cluster, pod) = try self.onePod()
        cluster.advance(by: 10)
        let name = pod().podName
        #expect(throws: KubeAPIError.self) { try cluster.delete(.pods, name: name, uid: "wrong") }
        do {
            try cluster.delete(.pods, name: name, resourceVersion: "1")
            Issue.record("expected a conflict")
        } catch let error as KubeAPIError {
            #expect(error.code == 409)
            #expect(error.message.contains("Precondition failed: ResourceVersion in precondition: 1"))
        }
        try cluster.delete(.pods, name: name, gracePeriodSeconds: 0, uid: pod()[path: ["metadata", "uid"]]?.stringValue)
        #expect(cluster.get(.pods, name: name) == nil)
    }

    @Test("a bare pod (no CloneSet) runs too, and the seed makes names reproducible")
    func barePodAndSeed() throws {
        let names = try (0..<2).map { _ -> String in
            let cluster = Fixtures.manualCluster()
            try cluster.create(.cloneSets, Fixtures.cloneSet(replicas: 2))
            cluster.settle()
            return try cluster.pods(of: "demo").map(\.podName).joined(separator: ",")
        }
        #expect(names[0] == names[1])
        let cluster = Fixtures.manualCluster()
        try cluster.create(.pods, ["metadata": ["name": "solo"], "spec": ["containers": [["name": "c", "image": "busybox:1"]]]])
        cluster.advance(by: 10)
        #expect(cluster.get(.pods, name: "solo")?.isReady == true)
    }
}
