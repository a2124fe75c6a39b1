import Foundation
import Testing

@testable import TritonDomain

@Suite("Batch planner")
struct BatchPlanTests {
    @Test("10 pods, canary 1, batchSize 3 → 1 (canary), 3, 3, 3")
    func articleExample() throws {
        let plan = try BatchPlan.make(podsToProcess: 10, strategy: Strategy(batchSize: .count(3), canary: 1))
        #expect(plan.sizes == [1, 3, 3, 3])
        #expect(plan.batches.map(\.canary) == [true, false, false, false])
        #expect(plan.batches.map(\.number) == [1, 2, 3, 4])
        #expect(plan.total == 10)
    }

    @Test(
        "percents round up",
        arguments: [
            (10, 30, [3, 3, 3, 1]), (10, 25, [3, 3, 3, 1]), (3, 50, [2, 1]), (1, 1, [1]), (7, 100, [7]),
            (200, 1, Array(repeating: 2, count: 100)),
        ])
    func percents(pods: Int, percent: Int, sizes: [Int]) throws {
        let plan = try BatchPlan.make(podsToProcess: pods, strategy: Strategy(batchSize: .percent(percent)))
        #expect(plan.sizes == sizes)
    }

    @Test("the percent is of all pods to process, the canary comes off the rest")
    func percentWithCanary() throws {
        let plan = try BatchPlan.make(podsToProcess: 10, strategy: Strategy(batchSize: .percent(50), canary: 2))
        #expect(plan.sizes == [2, 5, 3])
    }

    @Test("batches spreads pods evenly, larger batches first", arguments: [(10, 3, [4, 3, 3]), (9, 3, [3, 3, 3]), (5, 5, [1, 1, 1, 1, 1])])
    func batchesCount(pods: Int, batches: Int, sizes: [Int]) throws {
        #expect(try BatchPlan.make(podsToProcess: pods, strategy: Strategy(batches: batches)).sizes == sizes)
    }

    @Test("batches with a canary")
    func batchesWithCanary() throws {
        let plan = try BatchPlan.make(podsToProcess: 10, strategy: Strategy(batches: 2, canary: 1))
        #expect(plan.sizes == [1, 5, 4])
        #expect(plan.batches[0].canary)
    }

    @Test("neither batchSize nor batches: one pod per batch")
    func defaultOnePodPerBatch() throws {
        #expect(try BatchPlan.make(podsToProcess: 3, strategy: Strategy()).sizes == [1, 1, 1])
    }

    @Test("a canary as large as everything leaves one batch")
    func canaryTakesAll() throws {
        let plan = try BatchPlan.make(podsToProcess: 2, strategy: Strategy(batchSize: .count(5), canary: 2))
        #expect(plan.sizes == [2])
        #expect(plan.batches[0].canary)
    }

    @Test("a batch size larger than the pods gives one batch")
    func bigBatchSize() throws {
        #expect(try BatchPlan.make(podsToProcess: 4, strategy: Strategy(batchSize: .count(10))).sizes == [4])
    }

    @Test(
        "rejections",
        arguments: [
            (10, Strategy(batchSize: .count(0)), "strategy.batchSize", DomainRejection.Code.invalidField),
            (10, Strategy(batchSize: .count(-2)), "strategy.batchSize", .invalidField),
            (10, Strategy(batchSize: .percent(0)), "strategy.batchSize", .invalidField),
            (10, Strategy(batchSize: .percent(101)), "strategy.batchSize", .invalidField),
            (10, Strategy(batchSize: .count(2), batches: 2), "strategy.batches", .invalidField),
            (10, Strategy(batches: 0), "strategy.batches", .invalidField),
            (3, Strategy(batches: 4), "strategy.batches", .invalidField),
            (3, Strategy(canary: 4), "strategy.canary", .invalidField),
            (3, Strategy(canary: -1), "strategy.canary", .invalidField),
        ])
    func rejections(pods: Int, strategy: Strategy, field: String, code: DomainRejection.Code) {
        #expect {
            try BatchPlan.make(podsToProcess: pods, strategy: strategy)
        } throws: { error in
            guard let rejection = error as? DomainRejection else { return false }
            return rejection.field == field && rejection.code == code && !rejection.reason.isEmpty
        }
    }

    @Test("no pods to process is rejected")
    func nothingToDo() {
        #expect(throws: DomainRejection.self) { try BatchPlan.make(podsToProcess: 0, strategy: Strategy()) }
    }

    @Test("random strategies: sizes sum to the pods, no empty batch, canary first")
    func randomPlans() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<500 {
            let pods = Int.random(in: 1...120, using: &rng)
            var strategy = Strategy(canary: Bool.random(using: &rng) ? Int.random(in: 0...pods, using: &rng) : 0)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: strategy.batchSize = .count(Int.random(in: 1...pods + 5, using: &rng))
            case 1: strategy.batchSize = .percent(Int.random(in: 1...100, using: &rng))
            default: strategy.batches = Int.random(in: 1...max(1, pods - strategy.canary), using: &rng)
            }
            guard let plan = try? BatchPlan.make(podsToProcess: pods, strategy: strategy) else {
                Issue.record("valid strategy rejected: \(strategy) for \(pods)")
                continue
            }
            #expect(plan.total == pods)
            #expect(plan.sizes.allSatisfy { $0 >= 1 })
            #expect(plan.batches.map(\.number) == Array(1...plan.count))
            #expect(plan.batches.filter(\.canary).count == (strategy.canary > 0 ? 1 : 0))
            if strategy.canary > 0 { #expect(plan.batches[0].size == strategy.canary) }
        }
    }
}

@Suite("Common types")
struct TypesTests {
    @Test("BatchSize parses numbers and percents", arguments: [("3", BatchSize.count(3)), ("30%", .percent(30)), (" 7 ", .count(7))])
    func parse(text: String, expected: BatchSize) {
        #expect(BatchSize(parsing: text) == expected)
    }

    @Test("BatchSize rejects other text", arguments: ["", "%", "abc", "3.5", "30 %x"])
    func parseFails(text: String) {
        #expect(BatchSize(parsing: text) == nil)
    }

    @Test("BatchSize decodes from a JSON number or string and encodes back")
    func batchSizeJSON() throws {
        let decoded = try JSONDecoder().decode([BatchSize].self, from: Data(#"[3, "4", "30%"]"#.utf8))
        #expect(decoded == [.count(3), .count(4), .percent(30)])
        let encoded = String(decoding: try JSONEncoder().encode(decoded), as: UTF8.self)
        #expect(encoded == #"[3,4,"30%"]"#)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(BatchSize.self, from: Data(#""lots""#.utf8)) }
    }

    @Test("Strategy decodes with defaults for missing keys")
    func strategyDefaults() throws {
        let s = try JSONDecoder().decode(Strategy.self, from: Data(#"{"batchSize":1,"canary":1,"mode":"auto"}"#.utf8))
        #expect(s == Strategy(batchSize: .count(1), canary: 1, mode: .auto))
        #expect(try JSONDecoder().decode(Strategy.self, from: Data("{}".utf8)).mode == .manual)
    }

    @Test("raw values are the published strings")
    func rawValues() {
        #expect(Action.allCases.map(\.rawValue) == ["create", "update", "rollback", "scaleOut", "scaleIn", "restart"])
        #expect(Mode.allCases.map(\.rawValue) == ["auto", "manual"])
        #expect(
            FlowPhase.allCases.map(\.rawValue) == [
                "Pending", "Initializing", "BatchStarted", "BatchFinished", "Success", "Failed", "Aborted", "Canceled",
            ])
        #expect(
            BatchPhase.allCases.map(\.rawValue) == [
                "Pending", "Smoking", "Smoked", "Baking", "Baked", "SmokeFailed", "BakeFailed",
            ])
    }

    @Test("instance names must be DNS-1123 labels", arguments: ["", "Demo", "demo_1", "-demo", "demo-", String(repeating: "a", count: 64), "dé"])
    func invalidNames(name: String) {
        #expect(InstanceRef(namespace: "prod", name: name).validationProblems.map(\.field) == ["instance.name"])
        #expect(InstanceRef(namespace: name, name: "demo").validationProblems.map(\.field) == ["instance.namespace"])
    }

    @Test("valid instance names", arguments: ["a", "demo", "12122-sample-10010", String(repeating: "a", count: 63)])
    func validNames(name: String) {
        #expect(InstanceRef(namespace: "prod", name: name).validationProblems.isEmpty)
        #expect(InstanceRef(namespace: "prod", name: name).description == "prod/\(name)")
    }
}
