import EventStore
import Foundation
import TritonDomain

extension CommandHandler {
    /// Asks for the instance's CloneSet to be deleted: the instance stream records who asked, why, and
    /// which object (its uid); the runner's executor then deletes it and records that it did. Asking
    /// again while the deletion is pending changes nothing.
    /// - Throws: a `DomainRejection`: `notCreated` when the cluster has no such CloneSet (and no deletion
    ///   is pending), `activeFlowExists` while a flow runs on it; nothing is written then.
    @discardableResult
    public func requestDeletion(_ instance: InstanceRef, cluster: any ClusterPort, metadata: EventMetadata) async throws -> Instance.State {
        let metadata = metadata.storedPrecision
        let history = try await self.settledInstance(instance)
        if history.pendingDeletion != nil { return history }
        if let active = history.activeFlow {
            throw DomainRejection(
                .activeFlowExists, field: "instance",
                "\(instance) has an active flow \(active.flowID) (\(active.action.rawValue)); cancel it or wait for it first"
            )
        }
        guard let workload = try await cluster.workload(instance) else {
            throw DomainRejection(.notCreated, field: "name", "\(instance) has no CloneSet in the cluster")
        }
        return try await self.handle(Instance.self, stream: Streams.instance(instance), metadata: metadata) { _ in
            Instance.Command(.requestDeletion(instance: instance, workloadUID: workload.uid), metadata: metadata)
        }.state
    }
}

extension FlowWorker {
    /// Carries out a pending deletion of the instance's CloneSet: deletes the object the request named
    /// (a CloneSet created under the name since is left alone), then records it. Idempotent: a crash
    /// between the two deletes again on the next step (nothing to delete then) and records it once.
    /// Returns whether this call deleted the CloneSet (`false`: nothing was pending, or it was gone
    /// already, or the name belongs to another CloneSet now).
    @discardableResult
    public func completeDeletion(_ instance: InstanceRef) async throws -> Bool {
        let stream = Streams.instance(instance)
        guard let pending = try await self.handler.load(Instance.self, stream: stream).state.pendingDeletion else { return false }
        let deleted = try await self.cluster.deleteWorkload(instance, uid: pending.workloadUID)
        let metadata = EventMetadata(actor: "executor", source: .executor, time: self.clock()).storedPrecision
        try await self.handler.handle(Instance.self, stream: stream, metadata: metadata) { _ in
            Instance.Command(.recordDeletion, metadata: metadata)
        }
        return deleted
    }
}

/// An instance's deletion as the API and the CLI report it.
public struct InstanceDeletionStatus: Sendable, Codable {
    public var namespace: String
    public var name: String
    /// `Deleting` until the executor deleted the CloneSet, then `Deleted`.
    public var status: String
    /// The CloneSet (its uid) the request names.
    public var workloadUID: String?
    public var requestedAt: Date?
    public var deletedAt: Date?

    public init(_ instance: InstanceRef, _ state: Instance.State) {
        self.namespace = instance.namespace
        self.name = instance.name
        self.status = state.deletion?.deletedAt == nil ? "Deleting" : "Deleted"
        self.workloadUID = state.deletion?.workloadUID
        self.requestedAt = state.deletion?.requestedAt
        self.deletedAt = state.deletion?.deletedAt
    }
}
