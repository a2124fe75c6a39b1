import EventStore
import Foundation
import PostgresStore
import Testing
import TritonDomain
import TritonEngine
import TritonTesting

@testable import TritonProjections

@Suite struct FlowStatusTests {
    @Test func replayOfEveryStreamEqualsTheProjection() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        let (created, updated) = try await runBothReleases(store)
        try await FlowProjector(store: store).catchUp()
        let queries = FlowQueries(store: store)
        let ids = try await store.column("SELECT DISTINCT stream_id FROM events WHERE stream_id LIKE 'deployflow-%'")
        #expect(ids.count == 2)
        for case let stream? in ids {
            let id = FlowID(String(stream.dropFirst("deployflow-".count)))
            let replayed = try await store.fold(id)
            #expect(try await queries.status(id: id) == FlowStatus(state: replayed), "\(stream)")
        }
        #expect(try await store.fold(FlowID("checkout-create")) == created)
        #expect(try await store.fold(FlowID("checkout-update")) == updated)
    }

    @Test func runFollowsNewEventsUntilCancelled() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        let projector = FlowProjector(store: store, configuration: .init(eventsPerTransaction: 20))
        let running = Task { try await projector.run() }
        let (_, updated) = try await runBothReleases(store)
        let queries = FlowQueries(store: store)
        let deadline = ContinuousClock.now + .seconds(20)
        var status = try await queries.status(id: FlowID("checkout-update"))
        while status != FlowStatus(state: updated), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            status = try await queries.status(id: FlowID("checkout-update"))
        }
        #expect(status == FlowStatus(state: updated))
        // Every event of the log, the instance's FlowEnded included, is projected without another call.
        let total = try await store.integer("SELECT count(*) FROM events")
        var projected = try await store.integer("SELECT events FROM projection_checkpoints")
        while projected < total, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            projected = try await store.integer("SELECT events FROM projection_checkpoints")
        }
        #expect(projected == total)
        await #expect(throws: ProjectionError.self) { try await projector.catchUp() }  // busy while running
        running.cancel()
        try await running.value
        #expect(try await projector.catchUp() == 0)
    }

    @Test func jsonHasTritonKeysAndISODates() throws {
        var state = DeployFlow.State()
        state.phase = .batchStarted
        var status = FlowStatus(state: state)
        status.name = "12122-sample-10010-dzkc4"
        status.startedAt = Date(timeIntervalSince1970: 1_631_537_344.25)
        status.conditions = [
            FlowStatus.Batch(
                batch: 1, batchSize: 1, canary: true, phase: "Smoked", failedReplicas: 0,
                pods: [FlowStatus.PodInfo(name: "p1", ip: "", port: 0, phase: "ContainersReady", pullInStatus: "")],
                startedAt: status.startedAt, pulledInAt: nil, finishedAt: nil
            )
        ]
        let data = try FlowStatus.makeEncoder().encode(status)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let expected: Set<String> = [
            "namespace", "name", "appID", "groupID", "appName", "instanceName", "replicas", "action", "availableReplicas",
            "updatedReplicas", "updatedReadyReplicas", "updateRevision", "conditions", "paused", "phase", "finished",
            "batches", "batchSize", "finishedBatches", "finishedReplicas", "failedReplicas", "startedAt", "mode",
            "batchIntervalSeconds", "timeoutSeconds", "gracefulPeriodSeconds", "canary",
        ]
        #expect(Set(object.keys) == expected)
        #expect(object["startedAt"] as? String == "2021-09-13T12:49:04.250Z")
        let condition = try #require((object["conditions"] as? [[String: Any]])?.first)
        #expect(Set(condition.keys) == ["batch", "batchSize", "canary", "phase", "failedReplicas", "pods", "startedAt"])
        let pod = try #require((condition["pods"] as? [[String: Any]])?.first)
        #expect(Set(pod.keys) == ["name", "ip", "port", "phase", "pullInStatus"])
        #expect(try FlowStatus.makeDecoder().decode(FlowStatus.self, from: data) == status)
    }

    @Test func podPhaseAndPullInStatusFollowTriton() {
        var pod = DeployFlow.BatchPod(name: "p", role: .added)
        #expect(FlowStatus.PodInfo(pod: pod).phase == "Unknown")
        pod.phase = .running
        #expect(FlowStatus.PodInfo(pod: pod).phase == "Running")
        pod.containersReady = true
        #expect(FlowStatus.PodInfo(pod: pod).phase == "ContainersReady")
        pod.pulledIn = true
        #expect(FlowStatus.PodInfo(pod: pod).pullInStatus == "PullingIn")
        pod.gate = .true
        pod.ready = true
        #expect(FlowStatus.PodInfo(pod: pod) == FlowStatus.PodInfo(name: "p", ip: "", port: 0, phase: "Ready", pullInStatus: "PullInSucceeded"))
        var removed = DeployFlow.BatchPod(name: "old", role: .removed)
        removed.gate = .true
        removed.pulledOut = true
        #expect(FlowStatus.PodInfo(pod: removed).pullInStatus == "PullingOut")
        removed.gone = true
        #expect(FlowStatus.PodInfo(pod: removed).phase == "Deleted")
        #expect(FlowStatus.PodInfo(pod: removed).pullInStatus == "PullOutSucceeded")
    }
}
