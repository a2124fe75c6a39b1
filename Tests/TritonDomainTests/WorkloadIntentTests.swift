import Foundation
import Testing

@testable import TritonDomain

@Suite("desiredWorkload")
struct WorkloadIntentTests {
    func intent(_ flow: FlowHarness) throws -> DeployFlow.WorkloadIntent {
        try #require(DeployFlow.desiredWorkload(flow.state))
    }

    @Test("update: surge each batch with the partition holding old pods, then lower the partition")
    func update() throws {
        var flow = FlowHarness()
        try flow.run(.create(createFlow(.update, current: 10, strategy: Strategy(batchSize: .count(3), canary: 1))))
        #expect(DeployFlow.desiredWorkload(flow.state) == nil)
        try flow.run(.observeWorkload(workload(replicas: 10, updated: 0)))
        #expect(try self.intent(flow).replicas == 10)
        #expect(try self.intent(flow).partition == 10)
        try flow.prepare()
        #expect(try self.intent(flow) == .init(replicas: 11, partition: 10, paused: false, podsToDelete: [], gates: [:]))
        try flow.observe(["n1"], .smoked)
        try flow.run(.next)
        #expect(try self.intent(flow).gates == ["n1": .true])
        try flow.observe(["n1"], .ready)
        #expect(try self.intent(flow) == .init(replicas: 10, partition: 9, paused: false, podsToDelete: [], gates: ["n1": .true]))
        try flow.run(.next)
        #expect(try self.intent(flow).replicas == 13)
        #expect(try self.intent(flow).partition == 9)
        try flow.run(.pause)
        #expect(try self.intent(flow).paused)
        try flow.run(.resume)
        for (n, names) in [(2, ["n2", "n3", "n4"]), (3, ["n5", "n6", "n7"]), (4, ["n8", "n9", "n10"])] {
            if n > 2 { try flow.run(.next) }
            try flow.observe(names, .smoked)
            try flow.observe(names, .ready)
        }
        #expect(try self.intent(flow).replicas == 10)
        #expect(try self.intent(flow).partition == 0)
        try flow.run(.observeWorkload(workload(replicas: 10, updated: 10)))
        #expect(DeployFlow.desiredWorkload(flow.state) == nil)
    }

    @Test("scaleIn: pull out first, then lower replicas and name the pods in one patch")
    func scaleIn() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.scaleIn, current: 4, target: 3, strategy: Strategy(podsToDelete: ["demo-old2"])))
        #expect(try self.intent(flow) == .init(replicas: 4, partition: nil, paused: false, podsToDelete: [], gates: ["demo-old2": .false]))
        try flow.observe(pod("demo-old2", .pulledOut, updated: false))
        try flow.fire(.pullOutWait)
        #expect(try self.intent(flow).replicas == 3)
        #expect(try self.intent(flow).podsToDelete == ["demo-old2"])
    }

    @Test("restart: surge first, delete the old pod together with lowering replicas")
    func restart() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.restart, current: 2, strategy: Strategy(batchSize: .count(1), podsToDelete: ["demo-old1"])))
        #expect(try self.intent(flow).replicas == 3)
        try flow.observe(["demo-r1"], .ready)
        #expect(try self.intent(flow).gates == ["demo-r1": .true, "demo-old1": .false])
        #expect(try self.intent(flow).replicas == 3)
        try flow.observe(pod("demo-old1", .pulledOut, updated: false))
        try flow.fire(.pullOutWait)
        #expect(try self.intent(flow) == .init(replicas: 2, partition: nil, paused: false, podsToDelete: ["demo-old1"], gates: ["demo-r1": .true, "demo-old1": .false]))
    }

    @Test("create and scaleOut grow replicas batch by batch")
    func grow() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.scaleOut, current: 2, target: 5, strategy: Strategy(batchSize: .count(2))))
        #expect(try self.intent(flow).replicas == 4)
        var create = FlowHarness()
        try create.start(createFlow(.create, current: 0, target: 3, pods: [], strategy: Strategy(batchSize: .count(2))))
        #expect(try self.intent(create).replicas == 2)
        #expect(try self.intent(create).partition == 0)
    }
}
