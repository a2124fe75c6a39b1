import Foundation
import KubeSim
import Testing
import TritonDomain
import TritonEngine
import TritonJSON
import TritonSimAdapter
import TritonTesting

/// scaleIn with podsToDelete, scaleOut in batches, and restart of named pods.
@Suite("Scale and restart against the simulated cluster")
struct ScaleAndRestartTests {
    /// When each watched pod was first seen pulled out (gate False) and first seen terminating or gone.
    struct RemovalTimes {
        var pulledOut: [String: Date] = [:]
        var deleted: [String: Date] = [:]
        var readyWhenDeleted: [String: Bool] = [:]

        mutating func record(_ h: EngineHarness, watching names: [String]) throws {
            let pods = Dictionary(try h.pods().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            for name in names {
                let pod = pods[name]
                if pod?.gate == .false, self.pulledOut[name] == nil { self.pulledOut[name] = h.now }
                if pod == nil || pod?.terminating == true, self.deleted[name] == nil {
                    self.deleted[name] = h.now
                    self.readyWhenDeleted[name] = pod?.ready ?? false
                }
            }
        }
    }

    @Test("scaleIn with podsToDelete removes exactly those pods, each pulled out first and deleted after pullOutWaitSeconds")
    func scaleInNamedPods() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        try await h.provision(replicas: 6)
        let before = try h.existingPodNames()
        let victims = [before[1], before[4]]
        let flow = FlowID("checkout-scale-in")
        _ = try await h.createFlow(
            DeployFlow.CreateFlow(
                flowID: flow, instance: EngineHarness.instance, action: .scaleIn,
                appSpec: EngineHarness.appSpec("shop/checkout:v1"),
                currentReplicas: 6, targetReplicas: 4, existingPods: before,
                strategy: Strategy(batchSize: .count(1), mode: .auto, pullOutWaitSeconds: 10, podsToDelete: victims)))
        var times = RemovalTimes()
        var minReady = Int.max
        let state = try await h.run(flow) { _ in
            try times.record(h, watching: victims)
            minReady = min(minReady, (try? h.livePods().filter(\.ready).count) ?? 0)
        } until: {
            $0.isFinished
        }
        #expect(state.phase == .success)
        for victim in victims {
            let pulledOut = try #require(times.pulledOut[victim], "\(victim) was never pulled out")
            let deleted = try #require(times.deleted[victim], "\(victim) was never deleted")
            #expect(
                deleted.timeIntervalSince(pulledOut) >= 10,
                "\(victim) deleted \(deleted.timeIntervalSince(pulledOut))s after pull-out")
            #expect(times.readyWhenDeleted[victim] == false, "\(victim) still took traffic when deleted")
        }
        // One batch after the other: the second victim is pulled out only after the first is deleted.
        #expect(try #require(times.pulledOut[victims[1]]) >= (try #require(times.deleted[victims[0]])))
        #expect(minReady >= 4)
        h.settle(seconds: 30)
        let after = try h.pods().map(\.name).sorted()
        #expect(after == before.filter { !victims.contains($0) })
        #expect(try h.pods().allSatisfy(\.ready))
        #expect(try await h.workload().replicas == 4)
        #expect(h.cloneSetSpec()[path: ["scaleStrategy", "podsToDelete"]] == nil, "the controller dropped the deleted names")
        try await h.expectReplay(state)
    }

    @Test("scaleOut in batches: replicas rise one batch at a time, each batch pulled in and Ready before the next")
    func scaleOutInBatches() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        try await h.provision(replicas: 4)
        let before = try h.existingPodNames()
        let flow = FlowID("checkout-scale-out")
        _ = try await h.createFlow(
            DeployFlow.CreateFlow(
                flowID: flow, instance: EngineHarness.instance, action: .scaleOut,
                appSpec: EngineHarness.appSpec("shop/checkout:v1"),
                currentReplicas: 4, targetReplicas: 10, existingPods: before,
                strategy: Strategy(batchSize: .count(2), mode: .auto, batchIntervalSeconds: 5)))
        var specReplicas: [Int] = []
        let state = try await h.run(flow) { s in
            let replicas = h.cloneSetSpec()["replicas"]?.intValue ?? -1
            if specReplicas.last != replicas { specReplicas.append(replicas) }
            // Only the running batch's pods may be not yet Ready.
            let notReady = (try? h.livePods().filter { !$0.ready }.count) ?? 0
            #expect(notReady <= 2)
        } until: {
            $0.isFinished
        }
        #expect(state.phase == .success)
        #expect(state.plan.batches.map(\.size) == [2, 2, 2])
        #expect(specReplicas == [6, 8, 10])
        #expect(state.batches.allSatisfy { $0.phase == .baked && $0.liveAddedPods.count == 2 })
        let pods = try h.livePods()
        #expect(pods.count == 10 && pods.allSatisfy(\.ready))
        #expect(Set(before).isSubset(of: Set(pods.map(\.name))), "scaleOut keeps every existing pod")
        try await h.expectReplay(state)
    }

    @Test(
        "restart of two named pods: replacements surge and bake first, then the named pods go; capacity never drops"
    )
    func restartNamedPods() async throws {
        let h = try await EngineHarness()
        defer { h.close() }
        try await h.provision(replicas: 4)
        let before = try h.existingPodNames()
        let victims = [before[0], before[2]]
        let flow = FlowID("checkout-restart")
        _ = try await h.createFlow(
            DeployFlow.CreateFlow(
                flowID: flow, instance: EngineHarness.instance, action: .restart,
                appSpec: EngineHarness.appSpec("shop/checkout:v1"),
                currentReplicas: 4, targetReplicas: 4, existingPods: before,
                strategy: Strategy(batchSize: .count(1), mode: .auto, pullOutWaitSeconds: 5, podsToDelete: victims)))
        var times = RemovalTimes()
        var minReady = Int.max
        var replacementReadyAt: [Int: Date] = [:]
        let state = try await h.run(flow) { s in
            try times.record(h, watching: victims)
            minReady = min(minReady, (try? h.livePods().filter(\.ready).count) ?? 0)
            for batch in s.batches where replacementReadyAt[batch.number] == nil {
                if let added = batch.pods.first(where: { $0.role == .added }),
                    (try? h.pods().first { $0.name == added.name }?.ready) == true
                {
                    replacementReadyAt[batch.number] = h.now
                }
            }
        } until: {
            $0.isFinished
        }
        #expect(state.phase == .success)
        #expect(minReady >= 4, "capacity dropped to \(minReady) Ready pods")
        for (index, victim) in victims.enumerated() {
            let ready = try #require(replacementReadyAt[index + 1], "batch \(index + 1)'s replacement never got Ready")
            let pulledOut = try #require(times.pulledOut[victim])
            let deleted = try #require(times.deleted[victim])
            #expect(ready <= pulledOut, "\(victim) pulled out before its replacement was Ready")
            #expect(deleted.timeIntervalSince(pulledOut) >= 5)
        }
        h.settle(seconds: 30)
        let pods = try h.pods()
        #expect(pods.count == 4 && pods.allSatisfy(\.ready))
        #expect(
            Set(pods.map(\.name))
                == Set(before.filter { !victims.contains($0) }).union(state.batches.flatMap { $0.liveAddedPods.map(\.name) }))
        #expect(pods.allSatisfy { !victims.contains($0.name) })
        try await h.expectReplay(state)
    }
}
