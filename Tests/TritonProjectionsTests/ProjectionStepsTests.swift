import EventStore
import Foundation
import PostgresStore
import Testing
import TritonDomain
import TritonEngine
import TritonTesting

@testable import TritonProjections

/// A full canary release driven through the CommandHandler, projected at several steps.
@Suite struct ProjectionStepsTests {
    @Test func canaryReleaseRowsAtEachStep() async throws {
        let store = try await TestDatabase.makeStore()
        defer { store.shutdown() }
        let projector = FlowProjector(store: store)
        let queries = FlowQueries(store: store)
        let updateID = FlowID("checkout-update")
        var seen: Set<String> = []

        let (created, updated) = try await runBothReleases(store) { state in
            guard let batch = state.current else { return }
            let step = "\(batch.number) \(batch.phase.rawValue) \(state.phase.rawValue)"
            // Check the projection the first time the update reaches each of these steps.
            let checked = ["1 Smoked BatchStarted", "1 Baked BatchFinished", "2 Pending BatchStarted", "3 Baked BatchFinished"]
            guard checked.contains(step), seen.insert(step).inserted else { return }
            try await projector.catchUp()
            let status = try #require(try await queries.status(id: updateID), "no projected row for \(updateID) at \(step)")
            #expect(status == FlowStatus(state: try await store.fold(updateID)), "status at \(step)")
            #expect(status.phase == state.phase.rawValue)
            try #require(status.conditions.count == batch.number, "conditions at \(step): \(status.conditions.map(\.phase))")
            #expect(status.conditions.last?.phase == batch.phase.rawValue)
            switch step {
            case "1 Smoked BatchStarted":
                // The canary waits for the approver: its one pod is up but takes no traffic.
                let canary = try #require(status.conditions.first)
                #expect(canary.canary && canary.batchSize == 1 && canary.pods.count == 1)
                #expect(canary.pods.first?.phase == "ContainersReady")
                #expect(canary.pods.first?.pullInStatus == "")
                #expect(status.finishedBatches == 0)
                let active = try await store.column("SELECT active_flow_id FROM instances WHERE namespace = 'prod' AND name = 'checkout'")
                #expect(active == ["checkout-update"])
            case "1 Baked BatchFinished":
                #expect(status.conditions[0].pods.map(\.phase) == ["Ready"])
                #expect(status.conditions[0].pods.map(\.pullInStatus) == ["PullInSucceeded"])
                #expect(status.conditions[0].pulledInAt != nil && status.conditions[0].finishedAt != nil)
                #expect(status.finishedBatches == 1 && status.finishedReplicas == 1)
            case "2 Pending BatchStarted":
                #expect(status.conditions[1].startedAt != nil && status.conditions[1].finishedAt == nil)
                let planned = try await store.integer("SELECT count(*) FROM flow_batches WHERE flow_id = 'checkout-update'")
                #expect(planned == 4)
            default:
                #expect(status.finishedBatches == 3 && status.finishedReplicas == 7)
            }
        }
        #expect(seen.count == 4, "steps reached: \(seen.sorted())")

        try await projector.catchUp()
        let final = try #require(try await queries.status(id: updateID))
        #expect(final == FlowStatus(state: updated))
        #expect(final.phase == "Success" && final.finished)
        #expect(final.batches == 4 && final.batchSize == 3 && final.canary == 1 && final.mode == "manual")
        #expect(final.conditions.map(\.batchSize) == [1, 3, 3, 3])
        #expect(final.conditions.allSatisfy { $0.phase == "Baked" && $0.finishedAt != nil })
        #expect(final.finishedBatches == 4 && final.finishedReplicas == 10 && final.failedReplicas == 0)
        #expect(final.replicas == 10 && final.updatedReplicas == 10 && final.updatedReadyReplicas == 10)
        #expect(final.conditions.flatMap(\.pods).count == 10)
        #expect(final.conditions.flatMap(\.pods).allSatisfy { $0.phase == "Ready" && $0.pullInStatus == "PullInSucceeded" })
        #expect(try await queries.status(id: FlowID("checkout-create")) == FlowStatus(state: created))

        let instances = try await queries.instances(namespace: "prod")
        let instance = try #require(instances.first)
        #expect(instances.count == 1)
        #expect(instance.activeFlowID == nil && instance.lastFlowID == "checkout-update")
        #expect(instance.lastSuccessfulFlowID == "checkout-update" && instance.currentImage == "shop/checkout:v2")
        #expect(instance.flows == 2 && instance.replicas == 10 && instance.availableReplicas == 10)

        let listed = try await queries.list(namespace: "prod")
        #expect(listed.map(\.name) == ["checkout-update", "checkout-create"])
        #expect(try await queries.list(FlowFilter(namespace: "prod", action: .create)).map(\.name) == ["checkout-create"])
        #expect(try await queries.list(FlowFilter(namespace: "prod", start: 1, pageSize: 1)).map(\.name) == ["checkout-create"])
        #expect(try await queries.list(namespace: "staging").isEmpty)
        #expect(try await queries.status(id: FlowID("no-such-flow")) == nil)
    }
}
