import EventStore
import Foundation
import Testing
import TritonDomain
import TritonEngine
import TritonTesting

/// `ReleaseRequest` → `CreateFlow`: what the engine fills in from the cluster and the log, and what it
/// refuses (with the field and the reason, writing nothing).
@Suite("Release intake")
struct IntakeTests {
    func request(_ action: ReleaseRequest.Action, _ strategy: Strategy = Strategy(batchSize: .count(5), mode: .auto))
        -> ReleaseRequest
    {
        ReleaseRequest(instance: EngineHarness.instance, action: action, strategy: strategy)
    }

    func rejection(_ h: EngineHarness, _ action: ReleaseRequest.Action) async throws -> DomainRejection? {
        do {
            _ = try await h.handler.prepare(self.request(action), cluster: h.port)
            return nil
        } catch let rejection as DomainRejection {
            return rejection
        }
    }

    @Test func fillsInFromTheClusterAndTheLogAndRefusesWhatCannotBeDone() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        // Nothing to update, roll back, scale or restart before the instance exists.
        for action: ReleaseRequest.Action in [.update(image: "x", appSpec: nil), .rollback(to: nil), .scale(replicas: 3), .restart] {
            let refused = try await self.rejection(h, action)
            #expect(refused?.code == .notCreated && refused?.field == "instance", "\(action): \(String(describing: refused))")
        }
        let noReplicas = try await self.rejection(h, .deploy(EngineHarness.appSpec("shop/checkout:v1"), replicas: nil))
        #expect(noReplicas?.code == .invalidField && noReplicas?.field == "targetReplicas")
        let created = try await h.provision(replicas: 4)
        let v1 = try #require(created.spec?.appSpec)
        // Triton's deploy: an update once the CloneSet exists.
        let deploy = try await h.handler.prepare(self.request(.deploy(EngineHarness.appSpec("shop/checkout:v3"), replicas: 9)), cluster: h.port)
        #expect(deploy.action == .update && deploy.targetReplicas == 4 && deploy.appSpec.image == "shop/checkout:v3")

        // A second create is refused; an update keeps the app's identity and takes the new image.
        #expect(try await self.rejection(h, .create(v1, replicas: 2))?.code == .alreadyExists)
        let update = try await h.handler.prepare(self.request(.update(image: "shop/checkout:v2", appSpec: nil)), cluster: h.port)
        #expect(update.action == .update && update.currentReplicas == 4 && update.targetReplicas == 4)
        #expect(update.appSpec.image == "shop/checkout:v2" && update.appSpec.appID == v1.appID && update.appSpec.appName == v1.appName)
        #expect(update.existingPods == (try h.existingPodNames()))
        #expect(update.flowID.rawValue.hasPrefix("checkout-update-"))

        // Rolling back with one release only: nothing earlier to go back to.
        let noEarlier = try await self.rejection(h, .rollback(to: nil))
        #expect(noEarlier?.code == .flowNotRollbackable && noEarlier?.field == "rollbackTo")

        // After a successful update, a plain rollback goes back to the create's template.
        _ = try await h.createFlow(update)
        #expect(try await h.run(update.flowID, until: \.isFinished).phase == .success)
        let rollback = try await h.handler.prepare(self.request(.rollback(to: nil)), cluster: h.port)
        #expect(rollback.rollbackTo == created.spec?.flowID && rollback.appSpec.image == v1.image)

        // Scale: more is scaleOut, fewer is scaleIn, the same is nothing to do.
        #expect(try await h.handler.prepare(self.request(.scale(replicas: 6)), cluster: h.port).action == .scaleOut)
        #expect(try await h.handler.prepare(self.request(.scale(replicas: 2)), cluster: h.port).action == .scaleIn)
        let same = try await self.rejection(h, .scale(replicas: 4))
        #expect(same?.code == .nothingToDo && same?.field == "replicas")

        // While a flow is active, no other is prepared.
        var restart = self.request(.restart)
        restart.strategy.podsToDelete = [try #require(try h.existingPodNames().first)]
        let active = try await h.handler.create(restart, cluster: h.port, metadata: h.metadata())
        let busy = try await self.rejection(h, .scale(replicas: 6))
        #expect(busy?.code == .activeFlowExists && busy?.reason.contains(active.spec!.flowID.rawValue) == true)
    }
}
