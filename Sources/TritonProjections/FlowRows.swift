import Foundation
import TritonDomain
import TritonEngine

/// The query-table rows of one flow, as text values in the column order of ``ProjectionColumns``.
/// A pure function of the folded state: the same state always gives the same rows, which is what
/// makes re-projection and rebuilds exact.
struct FlowRows: Sendable, Equatable {
    /// Identifies a pod row within its flow.
    struct PodKey: Sendable, Hashable, Comparable {
        var batch: Int
        var name: String
        static func < (lhs: PodKey, rhs: PodKey) -> Bool { (lhs.batch, lhs.name) < (rhs.batch, rhs.name) }
    }

    var flow: [String?]
    var batches: [Int: [String?]]
    var pods: [PodKey: [String?]]

    /// The rows of a created flow folded to `version`; `nil` before `FlowCreated`.
    init?(state: DeployFlow.State, version: Int64) {
        guard let spec = state.spec else { return nil }
        let status = FlowStatus(state: state)
        let id = spec.flowID.rawValue
        let strategy = spec.strategy
        self.flow = [
            id, spec.instance.namespace, spec.instance.name, status.action, status.phase, SQLText.bool(status.paused),
            SQLText.bool(status.finished), status.mode, SQLText.int(status.batches), SQLText.int(status.batchSize),
            SQLText.int(status.canary), SQLText.int(status.batchIntervalSeconds), SQLText.int(strategy.startupTimeoutSeconds),
            SQLText.int(strategy.pullOutWaitSeconds), SQLText.bool(strategy.noPullIn), SQLText.int(state.currentBatch),
            SQLText.int(status.finishedBatches), SQLText.int(status.finishedReplicas), SQLText.int(status.failedReplicas),
            SQLText.int(status.replicas), SQLText.int(status.availableReplicas), SQLText.int(status.updatedReplicas),
            SQLText.int(status.updatedReadyReplicas), status.updateRevision, SQLText.int(spec.currentReplicas),
            SQLText.int(spec.targetReplicas), SQLText.int(spec.appSpec.appID), SQLText.int(spec.appSpec.groupID),
            spec.appSpec.appName, spec.appSpec.image, spec.rollbackTo?.rawValue, state.failureReason,
            SQLText.date(state.createdAt), SQLText.date(state.startedAt), SQLText.date(state.updatedAt),
            SQLText.date(state.finishedAt), String(version),
        ]
        var batches: [Int: [String?]] = [:]
        var pods: [PodKey: [String?]] = [:]
        for batch in state.batches {
            let condition = FlowStatus.Batch(batch: batch)
            batches[batch.number] = [
                id, SQLText.int(batch.number), SQLText.int(batch.size), SQLText.bool(batch.canary), SQLText.int(batch.surge),
                condition.phase, batch.removal.rawValue, SQLText.int(condition.failedReplicas), batch.failureReason,
                SQLText.date(batch.startedAt), SQLText.date(batch.pulledInAt), SQLText.date(batch.bakedAt),
                SQLText.date(batch.pulledOutAt), SQLText.date(batch.finishedAt),
            ]
            for (ordinal, pod) in batch.pods.enumerated() {
                let info = FlowStatus.PodInfo(pod: pod)
                pods[PodKey(batch: batch.number, name: pod.name)] = [
                    id, SQLText.int(batch.number), pod.name, SQLText.int(ordinal), pod.role.rawValue, info.phase,
                    info.pullInStatus, info.ip, SQLText.int(info.port), pod.phase?.rawValue, SQLText.bool(pod.containersReady),
                    SQLText.bool(pod.ready), pod.gate.rawValue, pod.failureReason, SQLText.bool(pod.gone),
                    SQLText.bool(pod.pulledIn), SQLText.bool(pod.pulledOut),
                ]
            }
        }
        self.batches = batches
        self.pods = pods
    }
}

/// The rows of one instance.
enum InstanceRows {
    /// The columns folded from the instance stream, in ``ProjectionColumns/instanceState`` order.
    static func state(_ state: Instance.State, ref: InstanceRef, version: Int64) -> [String?] {
        let active = state.activeFlow
        let lastSuccess = state.releases.last { $0.outcome == .success }
        let current = state.currentAppSpec
        let app = current ?? state.releases.last { $0.appSpec != nil }?.appSpec
        return [
            ref.namespace, ref.name, active?.flowID.rawValue, active?.action.rawValue, state.releases.last?.flowID.rawValue,
            lastSuccess?.flowID.rawValue, current?.image, app.map { SQLText.int($0.appID) }, app.map { SQLText.int($0.groupID) },
            app?.appName, SQLText.int(state.releases.count), String(version),
            SQLText.date(state.deletion?.requestedAt), SQLText.date(state.deletion?.deletedAt),
        ]
    }

    /// The columns from the latest observation of the CloneSet, in ``ProjectionColumns/instanceObservation`` order.
    static func observation(_ workload: WorkloadObservation, ref: InstanceRef, at: Date) -> [String?] {
        [
            ref.namespace, ref.name, SQLText.int(workload.replicas), SQLText.int(workload.readyReplicas),
            workload.updateRevision, SQLText.date(at),
        ]
    }
}

/// Column lists of the query tables, in the order the row builders fill them.
enum ProjectionColumns {
    static let flows = [
        "id", "namespace", "instance", "action", "phase", "paused", "finished", "mode", "batches", "batch_size", "canary",
        "batch_interval_seconds", "startup_timeout_seconds", "pull_out_wait_seconds", "no_pull_in", "current_batch",
        "finished_batches", "finished_replicas", "failed_replicas", "replicas", "available_replicas", "updated_replicas",
        "updated_ready_replicas", "update_revision", "current_replicas", "target_replicas", "app_id", "group_id",
        "app_name", "image", "rollback_to", "failure_reason", "created_at", "started_at", "updated_at", "finished_at",
        "version",
    ]
    static let flowBatches = [
        "flow_id", "batch", "size", "canary", "surge", "phase", "removal", "failed_replicas", "failure_reason",
        "started_at", "pulled_in_at", "baked_at", "pulled_out_at", "finished_at",
    ]
    static let flowPods = [
        "flow_id", "batch", "pod_name", "ordinal", "role", "phase", "pull_in_status", "ip", "port", "pod_phase",
        "containers_ready", "ready", "gate", "failure_reason", "gone", "pulled_in", "pulled_out",
    ]
    static let instanceState = [
        "namespace", "name", "active_flow_id", "active_action", "last_flow_id", "last_successful_flow_id",
        "current_image", "app_id", "group_id", "app_name", "flows", "version", "deletion_requested_at", "deleted_at",
    ]
    static let instanceObservation = [
        "namespace", "name", "replicas", "available_replicas", "update_revision", "observed_at",
    ]
    /// Timestamp columns, read back as ISO-8601 text.
    static let timestamps: Set<String> = [
        "created_at", "started_at", "updated_at", "finished_at", "pulled_in_at", "baked_at", "pulled_out_at", "observed_at",
        "deletion_requested_at", "deleted_at",
    ]

    /// A select list for `columns`, with timestamps rendered by ``SQLText/isoColumn(_:)``.
    static func selectList(_ columns: [String], alias: String) -> String {
        columns.map { column in
            self.timestamps.contains(column) ? SQLText.isoColumn("\(alias).\(column)") : "\(alias).\(column)"
        }.joined(separator: ", ")
    }
}
