import Foundation
import Testing

@testable import TritonDomain

/// One event of every type, with every optional field set.
func sampleEvents() -> [DeployFlow.Event] {
    let now = Date(timeIntervalSince1970: 1_750_000_000.25)
    let strategy = Strategy(
        batchSize: .percent(30), canary: 1, mode: .auto, batchIntervalSeconds: 5, startupTimeoutSeconds: 60,
        pullOutWaitSeconds: 7, noPullIn: true, podsToDelete: []
    )
    let plan = BatchPlan(batches: [.init(number: 1, size: 1, canary: true), .init(number: 2, size: 2, canary: false)])
    var crashing = pod("demo-x1", .waiting("CrashLoopBackOff"))
    crashing.restartCount = 4
    return [
        .flowCreated(
            .init(
                flowID: "demo-abcde", instance: demo, action: .rollback, appSpec: appV2, strategy: strategy, currentReplicas: 3,
                targetReplicas: 3, existingPods: oldPods(3), podsToRemove: [], rollbackTo: "demo-older", plan: plan, at: now)),
        .flowInitializing(.init(at: now)),
        .workloadObserved(.init(workload: workload(replicas: 4, updated: 1, ready: 3, generation: 9), at: now)),
        .podObserved(.init(pod: crashing, at: now)),
        .podAssigned(.init(pod: "demo-x1", batch: 1, at: now)),
        .batchStarted(.init(batch: 1, at: now)),
        .batchPhaseChanged(.init(batch: 1, from: .smoking, to: .smokeFailed, reason: "pod demo-x1: CrashLoopBackOff", at: now)),
        .pullOutStarted(.init(batch: 2, pods: ["demo-old1", "demo-old2"], at: now)),
        .deletionRequested(.init(batch: 2, pods: ["demo-old1"], at: now)),
        .batchFinished(.init(batch: 1, at: now)),
        .timerScheduled(.init(id: "batchInterval-1-3", kind: .batchInterval, batch: 1, dueAt: now.addingTimeInterval(5), at: now)),
        .timerFired(.init(id: "batchInterval-1-3", at: now)),
        .timerCanceled(.init(id: "startupTimeout-1-1", at: now)),
        .mutationApplied(.init(key: "demo-abcde/replicas/4", kind: .scaleWorkload, resourceVersion: "12345", at: now)),
        .paused(.init(at: now)),
        .resumed(.init(at: now)),
        .nextRequested(.init(batch: 1, step: .pullIn, at: now)),
        .continueRequested(.init(batch: 2, at: now)),
        .canceled(.init(at: now)),
        .flowSucceeded(.init(at: now)),
        .flowFailed(.init(batch: 1, reason: "batch 1 SmokeFailed: pod demo-x1: CrashLoopBackOff", at: now)),
        .flowAborted(.init(reason: "prod/demo no longer exists", at: now)),
        .emergencyDeclared(.init(rule: "four-eyes", justification: "checkout is down; hotfix", by: "root", at: now)),
        .emergencyReviewed(.init(by: "carol", note: "hotfix was right", at: now)),
    ]
}

@Suite("Event codec")
struct CodecTests {
    @Test("the samples cover every event type, and type names are unique and stable")
    func coverage() {
        let names = sampleEvents().map(\.typeName)
        #expect(Set(names) == Set(DeployFlow.Event.payloadTypes.map { $0.typeName }))
        #expect(Set(names).count == names.count)
        #expect(
            names == [
                "FlowCreated", "FlowInitializing", "WorkloadObserved", "PodObserved", "PodAssigned", "BatchStarted",
                "BatchPhaseChanged", "PullOutStarted", "DeletionRequested", "BatchFinished", "TimerScheduled", "TimerFired",
                "TimerCanceled", "MutationApplied", "Paused", "Resumed", "NextRequested", "ContinueRequested", "Canceled",
                "FlowSucceeded", "FlowFailed", "FlowAborted", "EmergencyDeclared", "EmergencyReviewed",
            ])
    }

    @Test("every event round-trips through its type name and data", arguments: sampleEvents())
    func roundTrip(event: DeployFlow.Event) throws {
        let data = try event.encodedData()
        #expect(try DeployFlow.Event.decode(type: event.typeName, data: data) == event)
        // The whole event (type + data) is Codable too.
        let wrapped = try EventJSON.makeEncoder().encode(event)
        #expect(try EventJSON.makeDecoder().decode(DeployFlow.Event.self, from: wrapped) == event)
        // Encoding is stable.
        #expect(try event.encodedData() == data)
    }

    @Test("the stored data is plain JSON with sorted keys and ISO-8601 millisecond times")
    func dataShape() throws {
        let event = DeployFlow.Event.batchPhaseChanged(
            .init(batch: 2, from: .smoked, to: .baking, at: Date(timeIntervalSince1970: 1_750_000_000.25)))
        #expect(
            String(decoding: try event.encodedData(), as: UTF8.self)
                == #"{"at":"2025-06-15T15:06:40.250Z","batch":2,"from":"Smoked","to":"Baking"}"#)
        let wrapped = String(decoding: try EventJSON.makeEncoder().encode(event), as: UTF8.self)
        #expect(wrapped.hasPrefix(#"{"data":{"#) && wrapped.hasSuffix(#""type":"BatchPhaseChanged"}"#))
        let created = String(decoding: try sampleEvents()[0].encodedData(), as: UTF8.self)
        #expect(created.contains(#""batchSize":"30%""#))
        #expect(created.contains(#""action":"rollback""#))
        #expect(created.contains(#""flowID":"demo-abcde""#))
    }

    @Test("an unknown type is an error")
    func unknownType() {
        #expect(throws: UnknownEventType(type: "Nope")) { try DeployFlow.Event.decode(type: "Nope", data: Data("{}".utf8)) }
    }

    @Test(
        "ISO-8601 millisecond times",
        arguments: [
            (0.0, "1970-01-01T00:00:00.000Z"), (1_750_000_000.0, "2025-06-15T15:06:40.000Z"),
            (1_750_000_000.999, "2025-06-15T15:06:40.999Z"), (-1.0, "1969-12-31T23:59:59.000Z"),
            (951_782_400.5, "2000-02-29T00:00:00.500Z"),
        ])
    func iso(seconds: Double, text: String) throws {
        #expect(ISO8601Milliseconds.string(from: Date(timeIntervalSince1970: seconds)) == text)
        let parsed = try #require(ISO8601Milliseconds.date(from: text))
        #expect(abs(parsed.timeIntervalSince1970 - seconds) < 0.0005)
        #expect(ISO8601Milliseconds.string(from: parsed) == text)
    }

    @Test("other ISO-8601 forms parse; garbage does not")
    func isoParsing() {
        #expect(ISO8601Milliseconds.date(from: "2025-06-15T15:06:40Z") == Date(timeIntervalSince1970: 1_750_000_000))
        #expect(ISO8601Milliseconds.date(from: "2025-06-15T15:06:40.5+00:00") == Date(timeIntervalSince1970: 1_750_000_000.5))
        for bad in ["", "2025-06-15", "2025-06-15T15:06:40", "2025-13-15T15:06:40Z", "2025-06-15T15:06:40.Z", "x-06-15T15:06:40Z"] {
            #expect(ISO8601Milliseconds.date(from: bad) == nil, "\(bad)")
        }
    }

    @Test("a folded state round-trips through JSON")
    func stateRoundTrip() throws {
        var flow = FlowHarness()
        try flow.start(createFlow(.restart, current: 2, strategy: Strategy(batchSize: .count(1))))
        try flow.observe(["demo-fresh1"], .ready)
        let data = try EventJSON.makeEncoder().encode(flow.state)
        #expect(try EventJSON.makeDecoder().decode(DeployFlow.State.self, from: data) == flow.state)
    }
}
