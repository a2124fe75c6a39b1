extension DeployFlow {
    /// The CloneSet the flow wants for its current step, for the executor to converge to.
    public struct WorkloadIntent: Sendable, Hashable, Codable {
        /// `spec.replicas`.
        public var replicas: Int
        /// `spec.updateStrategy.partition` (pods kept at the old revision); `nil` = leave it alone
        /// (actions that do not change the revision).
        public var partition: Int?
        /// `spec.updateStrategy.paused`.
        public var paused: Bool
        /// `spec.scaleStrategy.podsToDelete`: pods to delete in the same patch as `replicas`.
        public var podsToDelete: [String]
        /// The `apps.triton.io/ready` condition the flow wants on each pod it cares about (`True` = pulled
        /// in, `False` = pulled out). Pods not listed are left alone.
        public var gates: [String: GateStatus]

        public init(replicas: Int, partition: Int?, paused: Bool, podsToDelete: [String], gates: [String: GateStatus]) {
            self.replicas = replicas
            self.partition = partition
            self.paused = paused
            self.podsToDelete = podsToDelete
            self.gates = gates
        }
    }

    /// The CloneSet intent for the flow's current step, or `nil` when the executor has nothing to do (not
    /// created, still Pending, or finished).
    ///
    /// - Update / rollback (N replicas): Initializing holds everything (`replicas` N, `partition` N);
    ///   while batch k runs, `replicas` = N + its size with `partition` = N − pods of Baked batches, so
    ///   only the batch's new pods are surged; once it is Baked, `replicas` = N and `partition` = N − pods
    ///   of Baked batches, which removes as many old pods.
    /// - Create / scaleOut: `replicas` = current + sizes of the started batches.
    /// - scaleIn: `replicas` drops and `podsToDelete` names the pods once a batch's pull-out wait is over.
    /// - Restart: `replicas` = current + the running batch's surge until its old pods may be deleted; then
    ///   `replicas` = current with `podsToDelete` naming them (one patch), so capacity never drops.
    ///
    /// An update or rollback starts from N pods: while Initializing, pods beyond N that are not Ready (the
    /// failed surge an earlier flow left behind) are named in `podsToDelete`, so the CloneSet removes
    /// exactly those and not healthy ones (with the target template set, a rollback's old pods are the
    /// "updated" ones and `partition` would protect the failed pods instead).
    public static func desiredWorkload(_ state: State) -> WorkloadIntent? {
        guard let spec = state.spec, !state.phase.isTerminal, state.phase != .pending else { return nil }
        let started = state.batches.filter(\.isStarted)
        let bakedPods = state.batches.filter { $0.phase == .baked }.reduce(0) { $0 + $1.size }
        let running = state.current.flatMap { $0.isFinished ? nil : $0 }
        let deleting = started.filter { $0.removal == .deleting || $0.removal == .done }
        var gates: [String: GateStatus] = [:]
        for batch in state.batches {
            for pod in batch.pods where !pod.gone {
                if pod.role == .added, pod.pulledIn { gates[pod.name] = .true }
                if pod.role == .removed, pod.pulledOut { gates[pod.name] = .false }
            }
        }
        var podsToDelete = deleting.flatMap { $0.removedPods.filter { !$0.gone }.map(\.name) }
        let n = spec.targetReplicas
        let c = spec.currentReplicas
        var replicas: Int
        var partition: Int?
        switch spec.action {
        case .update, .rollback:
            let surge = running.map { $0.phase == .baked ? 0 : $0.size } ?? 0
            replicas = n + surge
            partition = n - bakedPods
            podsToDelete += Self.leftoverPods(state, spec)
        case .create:
            replicas = started.reduce(0) { $0 + $1.size }
            partition = 0
        case .scaleOut:
            replicas = c + started.reduce(0) { $0 + $1.size }
        case .scaleIn:
            replicas = c - deleting.reduce(0) { $0 + $1.size }
        case .restart:
            let surging = running.map { $0.removal == .deleting || $0.removal == .done ? 0 : $0.surge } ?? 0
            replicas = c + surging
        }
        return WorkloadIntent(
            replicas: replicas, partition: partition, paused: state.paused, podsToDelete: podsToDelete, gates: gates
        )
    }

    /// Update / rollback while Initializing: the not-Ready pods beyond N (at most the surplus), failing
    /// ones first, in order of first observation.
    static func leftoverPods(_ state: State, _ spec: Spec) -> [String] {
        guard state.phase == .initializing, let workload = state.workload, workload.exists else { return [] }
        let surplus = workload.replicas - spec.targetReplicas
        guard surplus > 0 else { return [] }
        let candidates = state.pods.filter { !$0.gone && !$0.terminating && !$0.ready }
        let ordered = candidates.filter { $0.failureReason != nil } + candidates.filter { $0.failureReason == nil }
        return ordered.prefix(surplus).map(\.name)
    }
}
