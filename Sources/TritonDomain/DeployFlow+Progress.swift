import Foundation

extension DeployFlow {
    /// Applies `initial` and then every automatic transition it makes possible, one step at a time, until
    /// the flow waits for something (an observation, a timer, a person). Returns `initial` followed by
    /// the transitions. A paused flow records facts but makes no transition.
    static func settle(_ initial: [Event], on state: State, at: Date) -> [Event] {
        var events = initial
        var current = state
        for event in initial { Self.apply(event, to: &current) }
        // Every step moves the flow forward, so this ends; the bound only guards against a bug.
        for _ in 0..<10_000 {
            let step = Self.nextStep(current, at: at)
            if step.isEmpty { break }
            events += step
            for event in step { Self.apply(event, to: &current) }
        }
        return events
    }

    /// The next automatic transition, or `[]` when the flow waits.
    static func nextStep(_ state: State, at: Date) -> [Event] {
        guard let spec = state.spec, !state.phase.isTerminal else { return [] }
        let assignments = Self.assignments(state, spec, at: at)
        if !assignments.isEmpty { return assignments }
        guard !state.paused else { return [] }
        switch state.phase {
        case .pending, .initializing:
            guard let workload = state.workload else { return [] }
            if !workload.exists, spec.action != .create {
                return Self.abort(state, "\(spec.instance) does not exist; \(spec.action.rawValue) needs it", at: at)
            }
            if state.phase == .pending { return [.flowInitializing(FlowInitializing(at: at))] }
            guard state.workloadPrepared, workload.exists, Self.surgeRemoved(state, spec) else { return [] }
            return [.batchStarted(BatchStarted(batch: 1, at: at))]
        case .batchStarted, .batchFinished:
            if state.workload?.exists == false {
                return Self.abort(state, "\(spec.instance) no longer exists", at: at)
            }
            guard let batch = state.current else { return [] }
            return state.phase == .batchStarted
                ? Self.batchStep(state, spec, batch, at: at) : Self.betweenBatches(state, spec, batch, at: at)
        case .success, .failed, .aborted, .canceled:
            return []
        }
    }

    /// New pods of the target revision that are nobody's yet join the running batch, in order of first
    /// observation, up to its size.
    private static func assignments(_ state: State, _ spec: Spec, at: Date) -> [Event] {
        guard state.phase == .batchStarted, let batch = state.current, batch.surge > 0, !batch.phase.isFailure
        else { return [] }
        let room = batch.surge - batch.liveAddedPods.count
        guard room > 0 else { return [] }
        let existing = Set(spec.existingPods)
        let taken = Set(state.batches.flatMap { $0.pods.map(\.name) })
        return state.pods
            .filter { $0.isUpdated && !$0.terminating && !existing.contains($0.name) && !taken.contains($0.name) }
            .prefix(room)
            .map { .podAssigned(PodAssigned(pod: $0.name, batch: batch.number, at: at)) }
    }

    private static func batchStep(_ state: State, _ spec: Spec, _ batch: BatchState, at: Date) -> [Event] {
        if batch.surge > 0, batch.phase != .baked {
            return Self.bringUpStep(state, spec, batch, at: at)
        }
        let n = batch.number
        switch batch.removal {
        case .none, .done:
            guard Self.surgeRemoved(state, spec) else { return [] }
            return [.batchFinished(BatchFinished(batch: n, at: at))]
        case .notStarted:
            return [.pullOutStarted(PullOutStarted(batch: n, pods: batch.removedPods.map(\.name), at: at))]
        case .pullingOut:
            guard batch.removedPods.allSatisfy({ $0.gone || $0.gate == .false }) else { return [] }
            return [Self.schedule(.pullOutWait, batch: n, after: spec.strategy.pullOutWaitSeconds, state, at: at)]
        case .waiting:
            guard batch.pullOutWaitElapsed else { return [] }
            return [.deletionRequested(DeletionRequested(batch: n, pods: batch.removedPods.map(\.name), at: at))]
        case .deleting:
            guard batch.removedPods.allSatisfy(\.gone) else { return [] }
            let baked: [Event] =
                batch.phase == .baked
                ? [] : [.batchPhaseChanged(BatchPhaseChanged(batch: n, from: batch.phase, to: .baked, at: at))]
            return baked + [.batchFinished(BatchFinished(batch: n, at: at))]
        }
    }

    /// Pending → Smoking → Smoked → Baking → Baked for the batch's new pods, or SmokeFailed / BakeFailed.
    private static func bringUpStep(_ state: State, _ spec: Spec, _ batch: BatchState, at: Date) -> [Event] {
        let n = batch.number
        func change(_ to: BatchPhase) -> Event {
            .batchPhaseChanged(BatchPhaseChanged(batch: n, from: batch.phase, to: to, at: at))
        }
        if let failed = batch.liveAddedPods.first(where: { $0.failureReason != nil }), let why = failed.failureReason {
            let to: BatchPhase = batch.phase == .baking ? .bakeFailed : .smokeFailed
            return Self.fail(state, batch, to: to, reason: "pod \(failed.name): \(why)", at: at)
        }
        if batch.startupTimedOut, batch.phase.rank < BatchPhase.smoked.rank {
            let seconds = spec.strategy.startupTimeoutSeconds
            return Self.fail(
                state, batch, to: .smokeFailed,
                reason: "startup timeout: the batch's pods were not ContainersReady within \(seconds)s", at: at)
        }
        let level = Self.bringUpLevel(batch)
        switch batch.phase {
        case .pending:
            if level.rank >= BatchPhase.smoking.rank { return [change(.smoking)] }
            return Self.startupTimer(state, spec, batch, at: at)
        case .smoking:
            if level.rank >= BatchPhase.smoked.rank {
                let timers = state.pendingTimers.filter { $0.kind == .startupTimeout && $0.batch == n }
                return [change(.smoked)] + timers.map { .timerCanceled(TimerCanceled(id: $0.id, at: at)) }
            }
            return Self.startupTimer(state, spec, batch, at: at)
        case .smoked:
            return Self.stopsAtSmoked(state, spec, batch) ? [] : [change(.baking)]
        case .baking:
            return level == .baked ? [change(.baked)] : []
        case .baked, .smokeFailed, .bakeFailed:
            return []
        }
    }

    /// How far all of the batch's new pods got: Baked (all Ready), Smoked (all ContainersReady), Smoking
    /// (all Running) or Pending (not all there, or not all Running).
    static func bringUpLevel(_ batch: BatchState) -> BatchPhase {
        let pods = batch.liveAddedPods
        guard pods.count >= batch.surge, !pods.isEmpty else { return .pending }
        if pods.allSatisfy(\.ready) { return .baked }
        if pods.allSatisfy(\.containersReady) { return .smoked }
        if pods.allSatisfy({ $0.phase == .running }) { return .smoking }
        return .pending
    }

    /// Update / rollback: the CloneSet is at the flow's replica count (no surge is active). The first
    /// batch starts, and a Baked batch finishes, only then: the batch arithmetic (`replicas` = N + batch
    /// size) assumes N active pods. Without it, a batch started at once after the previous one (auto mode
    /// without interval, a quick `next`) raises `replicas` while the old pods are still there and the
    /// CloneSet surges beyond N + batch size; and a flow started after a failed one (whose surge pods
    /// are still there) never gets all of its batch's pods. Other actions: always true.
    static func surgeRemoved(_ state: State, _ spec: Spec) -> Bool {
        switch spec.action {
        case .update, .rollback:
            guard let workload = state.workload, workload.exists else { return false }
            return workload.replicas <= spec.targetReplicas
        case .create, .scaleOut, .scaleIn, .restart:
            return true
        }
    }

    /// A canary batch stops at Smoked, out of traffic, for a decision — in auto mode too, as the
    /// article's and the open-source Triton's canary does — unless `noPullIn` skips the gate or a
    /// `continue` covers the batch. Auto mode runs on by itself after the canary is pulled in.
    static func stopsAtSmoked(_ state: State, _ spec: Spec, _ batch: BatchState) -> Bool {
        !spec.strategy.noPullIn && batch.canary && (state.continueTarget ?? 0) < batch.number
    }

    private static func betweenBatches(_ state: State, _ spec: Spec, _ batch: BatchState, at: Date) -> [Event] {
        guard batch.number < state.plan.count else {
            guard Self.targetReached(state, spec) else { return [] }
            return [.flowSucceeded(FlowSucceeded(at: at))] + Self.cancelAllTimers(state, at: at)
        }
        switch spec.strategy.mode {
        case .auto:
            if batch.intervalElapsed { return [.batchStarted(BatchStarted(batch: batch.number + 1, at: at))] }
            guard !state.pendingTimers.contains(where: { $0.kind == .batchInterval && $0.batch == batch.number })
            else { return [] }
            return [
                Self.schedule(.batchInterval, batch: batch.number, after: spec.strategy.batchIntervalSeconds, state, at: at)
            ]
        case .manual:
            guard (state.continueTarget ?? 0) > batch.number else { return [] }
            return [.batchStarted(BatchStarted(batch: batch.number + 1, at: at))]
        }
    }

    /// Update / rollback: the old revision is gone (every replica is updated). Other actions are done when
    /// their last batch finished.
    private static func targetReached(_ state: State, _ spec: Spec) -> Bool {
        switch spec.action {
        case .update, .rollback:
            guard let workload = state.workload else { return false }
            return workload.exists && workload.replicas == spec.targetReplicas
                && workload.updatedReplicas == spec.targetReplicas
        case .create, .scaleOut, .scaleIn, .restart:
            return true
        }
    }

    private static func startupTimer(_ state: State, _ spec: Spec, _ batch: BatchState, at: Date) -> [Event] {
        let seconds = spec.strategy.startupTimeoutSeconds
        guard seconds > 0, !batch.startupTimedOut,
            !state.pendingTimers.contains(where: { $0.kind == .startupTimeout && $0.batch == batch.number })
        else { return [] }
        return [Self.schedule(.startupTimeout, batch: batch.number, after: seconds, state, at: at)]
    }

    private static func schedule(_ kind: TimerKind, batch: Int, after seconds: Int, _ state: State, at: Date) -> Event {
        let id = "\(kind.rawValue)-\(batch)-\(state.timerSequence + 1)"
        let due = at.addingTimeInterval(TimeInterval(seconds))
        return .timerScheduled(TimerScheduled(id: id, kind: kind, batch: batch, dueAt: due, at: at))
    }

    private static func fail(_ state: State, _ batch: BatchState, to: BatchPhase, reason: String, at: Date) -> [Event] {
        [
            .batchPhaseChanged(BatchPhaseChanged(batch: batch.number, from: batch.phase, to: to, reason: reason, at: at)),
            .flowFailed(FlowFailed(batch: batch.number, reason: "batch \(batch.number) \(to.rawValue): \(reason)", at: at)),
        ] + Self.cancelAllTimers(state, at: at)
    }

    private static func abort(_ state: State, _ reason: String, at: Date) -> [Event] {
        [.flowAborted(FlowAborted(reason: reason, at: at))] + Self.cancelAllTimers(state, at: at)
    }

    static func cancelAllTimers(_ state: State, at: Date) -> [Event] {
        state.pendingTimers.map { .timerCanceled(TimerCanceled(id: $0.id, at: at)) }
    }
}
