import Foundation
import Testing

@testable import TritonDomain

@Suite("Instance")
struct InstanceTests {
    func begin(_ id: FlowID, _ action: Action = .update, rollbackTo: FlowID? = nil, spec: AppSpec? = appV2) -> Instance.Command {
        Instance.Command(.beginFlow(flowID: id, instance: demo, action: action, appSpec: spec, rollbackTo: rollbackTo), metadata: meta(1))
    }

    func end(_ id: FlowID, _ outcome: FlowPhase) -> Instance.Command {
        Instance.Command(.endFlow(flowID: id, outcome: outcome), metadata: meta(2))
    }

    func began(_ id: FlowID, _ action: Action = .update, spec: AppSpec? = appV2) -> Instance.Event {
        .flowBegan(.init(flowID: id, instance: demo, action: action, appSpec: spec, rollbackTo: nil, at: at(1)))
    }

    func ended(_ id: FlowID, _ outcome: FlowPhase) -> Instance.Event { .flowEnded(.init(flowID: id, outcome: outcome, at: at(2))) }

    @Test("given nothing, when beginFlow, then FlowBegan")
    func beginFirst() throws {
        #expect(try Instance.decide(self.begin("f1"), Instance.initialState) == [self.began("f1")])
        #expect(Instance.fold([self.began("f1")]).activeFlow?.flowID == "f1")
    }

    @Test("a second active flow is rejected")
    func secondActive() {
        #expect {
            try Instance.decide(self.begin("f2", .scaleOut, spec: nil), Instance.fold([self.began("f1")]))
        } throws: { error in
            (error as? DomainRejection)
                == DomainRejection(.activeFlowExists, "instance prod/demo already has an active flow f1 (update)")
        }
    }

    @Test("after the flow ended, another may begin; a flow id is never reused")
    func afterEnd() throws {
        let history = [self.began("f1"), self.ended("f1", .success)]
        #expect(try Instance.decide(self.begin("f2"), Instance.fold(history)).count == 1)
        #expect(throws: DomainRejection.self) { try Instance.decide(self.begin("f1"), Instance.fold(history)) }
    }

    @Test("endFlow: only the active flow, only with a final phase")
    func endFlow() throws {
        let active = Instance.fold([self.began("f1")])
        #expect(try Instance.decide(self.end("f1", .failed), active) == [self.ended("f1", .failed)])
        #expect(throws: DomainRejection(.notActiveFlow, field: "flowID", "flow f9 is not the active flow")) {
            try Instance.decide(self.end("f9", .success), active)
        }
        #expect(throws: DomainRejection.self) { try Instance.decide(self.end("f1", .batchStarted), active) }
    }

    @Test("a rollback names an earlier successful flow and gets its app spec")
    func rollback() throws {
        let v1 = AppSpec(appID: 1, groupID: 2, appName: "demo", image: "reg/demo:v1")
        let history = [
            self.began("f1", spec: v1), self.ended("f1", .success), self.began("f2"), self.ended("f2", .failed),
            self.began("f3", .scaleOut, spec: nil), self.ended("f3", .success),
        ]
        let state = Instance.fold(history)
        #expect(try state.rollbackTarget("f1") == v1)
        #expect(state.currentAppSpec == v1)
        #expect(try Instance.decide(self.begin("f4", .rollback, rollbackTo: "f1", spec: v1), state).count == 1)
        for (target, code) in [("f2", DomainRejection.Code.flowNotRollbackable), ("f3", .flowNotRollbackable), ("f0", .unknownFlow)] {
            #expect {
                try Instance.decide(self.begin("f4", .rollback, rollbackTo: FlowID(target), spec: v1), state)
            } throws: { error in
                (error as? DomainRejection)?.code == code && (error as? DomainRejection)?.field == "rollbackTo"
            }
        }
        #expect(throws: DomainRejection.self) { try Instance.decide(self.begin("f4", .rollback, spec: v1), state) }
        #expect(throws: DomainRejection.self) { try Instance.decide(self.begin("f4", .update, rollbackTo: "f1"), state) }
        #expect(throws: DomainRejection.self) { try Instance.decide(self.begin("f4", .update, spec: nil), state) }
    }

    func requestDeletion(_ uid: String = "uid-1") -> Instance.Command {
        Instance.Command(.requestDeletion(instance: demo, workloadUID: uid), metadata: meta(3))
    }

    func deletionRequested(_ uid: String = "uid-1") -> Instance.Event {
        .deletionRequested(.init(instance: demo, workloadUID: uid, at: at(3)))
    }

    @Test("deletion: refused while a flow is active; asked twice is one request; no flow begins until it is carried out")
    func deletion() throws {
        let active = Instance.fold([self.began("f1")])
        #expect {
            try Instance.decide(self.requestDeletion(), active)
        } throws: { error in
            (error as? DomainRejection)?.code == .activeFlowExists && (error as? DomainRejection)?.field == "instance"
        }
        let idle = Instance.fold([self.began("f1"), self.ended("f1", .success)])
        #expect(try Instance.decide(self.requestDeletion(), idle) == [self.deletionRequested()])
        #expect(throws: DomainRejection.self) { try Instance.decide(self.requestDeletion(""), idle) }

        let pending = Instance.evolve(idle, self.deletionRequested())
        #expect(pending.pendingDeletion?.workloadUID == "uid-1")
        #expect(try Instance.decide(self.requestDeletion(), pending).isEmpty)
        #expect {
            try Instance.decide(self.begin("f2", .create), pending)
        } throws: { error in
            (error as? DomainRejection)?.code == .instanceDeleting && (error as? DomainRejection)?.field == "instance"
        }

        let recorded = Instance.Command(.recordDeletion, metadata: meta(4))
        let deletedEvents = try Instance.decide(recorded, pending)
        #expect(deletedEvents == [.deleted(.init(at: at(4)))])
        let deleted = Instance.fold(deletedEvents, from: pending)
        #expect(deleted.pendingDeletion == nil && deleted.deletion?.deletedAt == at(4))
        #expect(try Instance.decide(recorded, deleted).isEmpty, "recording it twice is harmless")
        #expect(try Instance.decide(recorded, idle).isEmpty, "nothing to record without a request")

        // Created again: a new life, the history kept (a rollback may still name f1).
        let again = Instance.evolve(deleted, self.began("f2", .create))
        #expect(again.deletion == nil && again.activeFlow?.flowID == "f2" && again.releases.count == 2)
    }

    @Test("instance events round-trip")
    func codec() throws {
        for event in [self.began("f1"), self.ended("f1", .canceled), self.deletionRequested(), .deleted(.init(at: at(4)))] {
            #expect(try Instance.Event.decode(type: event.typeName, data: try event.encodedData()) == event)
            let wrapped = try EventJSON.makeEncoder().encode(event)
            #expect(try EventJSON.makeDecoder().decode(Instance.Event.self, from: wrapped) == event)
        }
        #expect(
            Instance.Event.payloadTypes.map { $0.typeName } == ["FlowBegan", "FlowEnded", "InstanceDeletionRequested", "InstanceDeleted"]
        )
    }
}
