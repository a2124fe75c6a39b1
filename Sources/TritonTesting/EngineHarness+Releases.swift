import Foundation
import Testing
import TritonDomain
import TritonEngine

/// The two releases the projection, replay and report tests look at: a create of `prod/checkout` (10
/// pods of v1, batches of 5, auto) and the article's canary update to v2 (canary 1, batches of 3,
/// manual, the approver pressing `next` each time the flow waits).
extension EngineHarness {
    public static let createID = FlowID("checkout-create")
    public static let updateID = FlowID("checkout-update")

    public static func createRelease(_ id: FlowID = Self.createID) -> DeployFlow.CreateFlow {
        DeployFlow.CreateFlow(
            flowID: id, instance: Self.instance, action: .create, appSpec: Self.appSpec("shop/checkout:v1"),
            currentReplicas: 0, targetReplicas: 10, strategy: Strategy(batchSize: .count(5), mode: .auto, batchIntervalSeconds: 2)
        )
    }

    public static func canaryUpdate(_ id: FlowID = Self.updateID, existingPods: [String]) -> DeployFlow.CreateFlow {
        DeployFlow.CreateFlow(
            flowID: id, instance: Self.instance, action: .update, appSpec: Self.appSpec("shop/checkout:v2"),
            currentReplicas: 10, targetReplicas: 10, existingPods: existingPods,
            strategy: Strategy(batchSize: .count(3), canary: 1, mode: .manual)
        )
    }

    /// Runs a flow to its end, one simulated second at a time; whenever it has waited `approverDelay`
    /// seconds for a decision, the approver sends `next`. `each` sees the state after every second.
    @discardableResult
    public func release(
        _ create: DeployFlow.CreateFlow, approverDelay: Int = 2, limit: Int = 900,
        each: (DeployFlow.State) async throws -> Void = { _ in }
    ) async throws -> DeployFlow.State {
        var state = try await self.createFlow(create)
        var waitingSince: Int?
        var second = 0
        while !state.isFinished {
            second += 1
            guard second <= limit else {
                Issue.record("flow \(create.flowID) did not finish in \(limit) simulated seconds: \(self.debugDescription)")
                throw HarnessError.timedOut
            }
            state = try await self.tick(create.flowID)
            if let step = DeployFlow.waitingStep(state) {
                let since = waitingSince ?? second
                waitingSince = since
                if second - since >= approverDelay {
                    state = try await self.send(.next, create.flowID, reason: "approved: \(step)")
                    waitingSince = nil
                }
            } else {
                waitingSince = nil
            }
            try await each(state)
        }
        return state
    }

    /// Both releases, in turn; `onUpdateSecond` sees the update's state after every simulated second.
    public func releaseBoth(
        onUpdateSecond: (DeployFlow.State) async throws -> Void = { _ in }
    ) async throws -> (created: DeployFlow.State, updated: DeployFlow.State) {
        let created = try await self.release(Self.createRelease())
        self.settle(seconds: 60)  // the create's terminations finish before the update starts
        let updated = try await self.release(
            Self.canaryUpdate(existingPods: try self.existingPodNames()), each: onUpdateSecond)
        return (created, updated)
    }
}
