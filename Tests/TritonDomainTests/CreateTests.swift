import Foundation
import Testing

@testable import TritonDomain

/// A create of `demo` whose app has these ids.
func withApp(appID: Int = 1, groupID: Int = 1) -> DeployFlow.CreateFlow {
    var create = createFlow(.create, current: 0, target: 3, pods: [])
    create.appSpec.appID = appID
    create.appSpec.groupID = groupID
    return create
}

@Suite("DeployFlow create")
struct CreateTests {
    func rejection(_ create: DeployFlow.CreateFlow) -> DomainRejection? {
        var flow = FlowHarness()
        return flow.rejection(.create(create))
    }

    @Test("given nothing, when create, then FlowCreated with the plan (Pending)")
    func created() throws {
        let create = createFlow(.update, current: 10, strategy: Strategy(batchSize: .count(3), canary: 1))
        let events = try DeployFlow.decide(DeployFlow.Command(.create(create), metadata: meta(0)), DeployFlow.initialState)
        let expected = DeployFlow.FlowCreated(
            flowID: "demo-flow1", instance: demo, action: .update, appSpec: appV2, strategy: create.strategy,
            currentReplicas: 10, targetReplicas: 10, existingPods: oldPods(10), podsToRemove: [], rollbackTo: nil,
            plan: try BatchPlan.make(podsToProcess: 10, strategy: create.strategy), at: at(0)
        )
        #expect(events == [.flowCreated(expected)])
        let state = DeployFlow.fold(events)
        #expect(state.phase == .pending)
        #expect(state.batches.map(\.size) == [1, 3, 3, 3])
        #expect(state.batches.map(\.surge) == [1, 3, 3, 3])
        #expect(state.batches.allSatisfy { $0.phase == .pending && !$0.isStarted })
    }

    @Test("a second create is rejected")
    func createTwice() throws {
        var flow = FlowHarness()
        try flow.run(.create(createFlow()))
        #expect(flow.rejection(.create(createFlow()))?.code == .alreadyExists)
    }

    @Test(
        "invalid creates are rejected with the field",
        arguments: [
            (createFlow(strategy: Strategy(batchSize: .count(0))), "strategy.batchSize"),
            (createFlow(strategy: Strategy(batchSize: .count(-1))), "strategy.batchSize"),
            (createFlow(strategy: Strategy(batchSize: .percent(0))), "strategy.batchSize"),
            (createFlow(strategy: Strategy(batchSize: .percent(150))), "strategy.batchSize"),
            (createFlow(current: 3, strategy: Strategy(canary: 4)), "strategy.canary"),
            (createFlow(.scaleOut, current: 3, target: 5, strategy: Strategy(canary: 1)), "strategy.canary"),
            (createFlow(.scaleIn, current: 3, target: 1, strategy: Strategy(canary: 1)), "strategy.canary"),
            (createFlow(.restart, current: 3, strategy: Strategy(canary: 1)), "strategy.canary"),
            (createFlow(.scaleOut, current: -1, target: 2, pods: []), "currentReplicas"),
            (createFlow(.scaleIn, current: 3, target: -1), "targetReplicas"),
            (createFlow(.scaleIn, current: 3, target: 3), "targetReplicas"),
            (createFlow(.scaleIn, current: 3, target: 4), "targetReplicas"),
            (createFlow(.scaleOut, current: 3, target: 3), "targetReplicas"),
            (createFlow(.scaleOut, current: 3, target: 2), "targetReplicas"),
            (createFlow(.update, current: 3, target: 4), "targetReplicas"),
            (createFlow(.update, current: 0, target: 0, pods: []), "targetReplicas"),
            (createFlow(.create, current: 0, target: 0, pods: []), "targetReplicas"),
            (createFlow(.create, current: 2, target: 3), "currentReplicas"),
            (createFlow(.restart, current: 3, target: 2), "targetReplicas"),
            (
                createFlow(.scaleIn, current: 3, target: 1, strategy: Strategy(podsToDelete: ["demo-old1", "nope"])),
                "strategy.podsToDelete"
            ),
            (createFlow(.scaleIn, current: 3, target: 1, strategy: Strategy(podsToDelete: ["demo-old1"])), "strategy.podsToDelete"),
            (
                createFlow(.scaleIn, current: 3, target: 1, strategy: Strategy(podsToDelete: ["demo-old1", "demo-old1"])),
                "strategy.podsToDelete"
            ),
            (createFlow(.restart, current: 3, strategy: Strategy(podsToDelete: ["ghost"])), "strategy.podsToDelete"),
            (createFlow(.update, strategy: Strategy(podsToDelete: ["demo-old1"])), "strategy.podsToDelete"),
            (createFlow(.scaleIn, current: 3, target: 1, pods: ["demo-old1"]), "existingPods"),
            (createFlow(.restart, current: 0, pods: []), "existingPods"),
            (createFlow(.update, pods: ["a", "a"]), "existingPods"),
            (createFlow(strategy: Strategy(batchIntervalSeconds: -1)), "strategy.batchIntervalSeconds"),
            (createFlow(strategy: Strategy(startupTimeoutSeconds: -5)), "strategy.startupTimeoutSeconds"),
            (createFlow(strategy: Strategy(pullOutWaitSeconds: -5)), "strategy.pullOutWaitSeconds"),
            (createFlow(strategy: Strategy(batchSize: .count(2), batches: 3)), "strategy.batches"),
            (createFlow(current: 3, strategy: Strategy(batches: 4)), "strategy.batches"),
            (createFlow(.update, rollbackTo: "demo-flow0"), "rollbackTo"),
            (createFlow(id: ""), "flowID"),
            (createFlow(id: "a b"), "flowID"),
            // Bounds: a plan and its pods stay small enough to hold, every number fits its column.
            (createFlow(.create, current: 0, target: 10_001, pods: []), "targetReplicas"),
            (createFlow(.create, current: 0, target: Int(Int32.max) + 1, pods: []), "targetReplicas"),
            (createFlow(.scaleIn, current: 10_001, target: 5, pods: []), "currentReplicas"),
            (createFlow(strategy: Strategy(batchIntervalSeconds: 604_801)), "strategy.batchIntervalSeconds"),
            (createFlow(strategy: Strategy(pullOutWaitSeconds: Int.max)), "strategy.pullOutWaitSeconds"),
            (withApp(appID: 10_506_597_173_005_542), "appSpec.appID"),
            (withApp(groupID: -1), "appSpec.groupID"),
        ])
    func invalid(create: DeployFlow.CreateFlow, field: String) {
        let rejection = self.rejection(create)
        #expect(rejection?.field == field, "\(String(describing: rejection))")
        #expect(rejection?.reason.isEmpty == false)
    }

    @Test("an empty image is rejected for create, update and rollback", arguments: [Action.create, .update, .rollback])
    func emptyImage(action: Action) {
        var create = createFlow(action, current: action == .create ? 0 : 3, target: 3, pods: action == .create ? [] : nil)
        create.appSpec.image = " "
        #expect(self.rejection(create)?.field == "appSpec.image")
    }

    @Test("a scale flow may carry an empty image")
    func scaleWithoutImage() {
        var create = createFlow(.scaleOut, current: 3, target: 5)
        create.appSpec.image = ""
        #expect(self.rejection(create) == nil)
    }

    @Test("rollback needs the flow it rolls back to")
    func rollbackNeedsTarget() {
        var create = createFlow(.rollback, current: 3)
        create.rollbackTo = nil
        #expect(self.rejection(create)?.field == "rollbackTo")
    }

    @Test("an invalid instance name is rejected")
    func invalidInstance() {
        var create = createFlow()
        create.instance = InstanceRef(namespace: "prod", name: "Demo_App")
        #expect(self.rejection(create)?.field == "instance.name")
        #expect(self.rejection(create)?.reason.contains("DNS-1123") == true)
    }

    @Test("scaleIn names the pods to remove; without podsToDelete it takes the last existing pods")
    func scaleInPods() throws {
        var flow = FlowHarness()
        try flow.run(.create(createFlow(.scaleIn, current: 5, target: 2, strategy: Strategy(batchSize: .count(2)))))
        #expect(flow.state.spec?.podsToRemove == ["demo-old3", "demo-old4", "demo-old5"])
        #expect(flow.state.batches.map { $0.removedPods.map(\.name) } == [["demo-old3", "demo-old4"], ["demo-old5"]])
        #expect(flow.state.batches.map(\.surge) == [0, 0])
    }

    @Test("restart without podsToDelete restarts every pod; with it, exactly those")
    func restartPods() throws {
        var all = FlowHarness()
        try all.run(.create(createFlow(.restart, current: 3, strategy: Strategy(batchSize: .count(2)))))
        #expect(all.state.plan.sizes == [2, 1])
        #expect(all.state.spec?.podsToRemove == oldPods(3))
        var named = FlowHarness()
        try named.run(.create(createFlow(.restart, current: 3, strategy: Strategy(podsToDelete: ["demo-old2"]))))
        #expect(named.state.plan.sizes == [1])
        #expect(named.state.batches[0].surge == 1)
        #expect(named.state.batches[0].removedPods.map(\.name) == ["demo-old2"])
    }

    @Test("pods to process per action", arguments: [
        (createFlow(.create, current: 0, target: 4, pods: []), 4),
        (createFlow(.update, current: 4), 4),
        (createFlow(.rollback, current: 4), 4),
        (createFlow(.scaleOut, current: 4, target: 7), 3),
        (createFlow(.scaleIn, current: 4, target: 1), 3),
        (createFlow(.restart, current: 4), 4),
    ])
    func podsToProcess(create: DeployFlow.CreateFlow, pods: Int) throws {
        var flow = FlowHarness()
        try flow.run(.create(create))
        #expect(flow.state.plan.total == pods)
    }
}
