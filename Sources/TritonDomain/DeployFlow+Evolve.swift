import Foundation

extension DeployFlow {
    /// Applies one event to the state. Total and deterministic: it reads nothing but its arguments.
    public static func evolve(_ state: State, _ event: Event) -> State {
        var state = state
        Self.apply(event, to: &state)
        return state
    }

    /// ``evolve(_:_:)`` in place: a state held once is changed without copying its batches and pods.
    public static func apply(_ event: Event, to state: inout State) {
        switch event {
        case .flowCreated(let e):
            state = Self.created(e)
            state.updatedAt = e.at
            return
        case .flowInitializing(let e):
            state.phase = .initializing
            state.updatedAt = e.at
        case .workloadObserved(let e):
            state.workload = e.workload
            state.updatedAt = e.at
        case .podObserved(let e):
            Self.record(e.pod, in: &state)
            state.updatedAt = e.at
        case .podAssigned(let e):
            let observation = state.pod(named: e.pod)
            state.withBatch(e.batch) { batch in
                var pod = BatchPod(name: e.pod, role: .added)
                if let observation { pod.apply(observation) }
                pod.pulledIn = batch.phase == .baking || batch.phase == .baked
                batch.pods.append(pod)
            }
            state.updatedAt = e.at
        case .batchStarted(let e):
            state.currentBatch = e.batch
            state.phase = .batchStarted
            state.startedAt = state.startedAt ?? e.at
            state.withBatch(e.batch) { batch in
                batch.phase = .pending
                batch.startedAt = e.at
            }
            state.updatedAt = e.at
        case .batchPhaseChanged(let e):
            state.withBatch(e.batch) { batch in
                batch.phase = e.to
                switch e.to {
                case .baking:
                    batch.pulledInAt = e.at
                    for index in batch.pods.indices where batch.pods[index].role == .added {
                        batch.pods[index].pulledIn = true
                    }
                case .baked:
                    batch.bakedAt = e.at
                case .smokeFailed, .bakeFailed:
                    batch.failureReason = e.reason
                case .pending, .smoking, .smoked:
                    break
                }
            }
            state.updatedAt = e.at
        case .pullOutStarted(let e):
            state.withBatch(e.batch) { batch in
                batch.removal = .pullingOut
                batch.pulledOutAt = e.at
                for index in batch.pods.indices where batch.pods[index].role == .removed {
                    batch.pods[index].pulledOut = true
                }
            }
            state.updatedAt = e.at
        case .deletionRequested(let e):
            state.withBatch(e.batch) { $0.removal = .deleting }
            state.updatedAt = e.at
        case .batchFinished(let e):
            state.phase = .batchFinished
            state.withBatch(e.batch) { batch in
                batch.finishedAt = e.at
                if batch.removal != .none { batch.removal = .done }
            }
            state.updatedAt = e.at
        case .timerScheduled(let e):
            state.pendingTimers.append(PendingTimer(id: e.id, kind: e.kind, batch: e.batch, dueAt: e.dueAt))
            state.timerSequence += 1
            if e.kind == .pullOutWait { state.withBatch(e.batch) { $0.removal = .waiting } }
            state.updatedAt = e.at
        case .timerFired(let e):
            if let timer = state.pendingTimer(e.id) {
                state.pendingTimers.removeAll { $0.id == e.id }
                state.withBatch(timer.batch) { batch in
                    switch timer.kind {
                    case .startupTimeout: batch.startupTimedOut = true
                    case .batchInterval: batch.intervalElapsed = true
                    case .pullOutWait: batch.pullOutWaitElapsed = true
                    }
                }
            }
            state.updatedAt = e.at
        case .timerCanceled(let e):
            state.pendingTimers.removeAll { $0.id == e.id }
            state.updatedAt = e.at
        case .mutationApplied(let e):
            state.appliedMutations.insert(e.key)
            if e.kind == .prepareWorkload { state.workloadPrepared = true }
            state.updatedAt = e.at
        case .paused(let e):
            state.paused = true
            state.updatedAt = e.at
        case .resumed(let e):
            state.paused = false
            state.updatedAt = e.at
        case .nextRequested(let e):
            state.updatedAt = e.at
        case .continueRequested(let e):
            state.continueTarget = e.batch
            state.updatedAt = e.at
        case .canceled(let e):
            state.phase = .canceled
            state.finishedAt = e.at
            state.updatedAt = e.at
        case .flowSucceeded(let e):
            state.phase = .success
            state.finishedAt = e.at
            state.updatedAt = e.at
        case .flowFailed(let e):
            state.phase = .failed
            state.failureReason = e.reason
            state.finishedAt = e.at
            state.updatedAt = e.at
        case .flowAborted(let e):
            state.phase = .aborted
            state.failureReason = e.reason
            state.finishedAt = e.at
            state.updatedAt = e.at
        case .emergencyDeclared(let e):
            if state.emergency == nil {
                state.emergency = Emergency(rules: [e.rule], justification: e.justification, declaredBy: e.by, declaredAt: e.at)
            } else if !state.emergency!.rules.contains(e.rule) {
                state.emergency!.rules.append(e.rule)
            }
        case .emergencyReviewed(let e):
            state.emergency?.reviewedBy = e.by
            state.emergency?.reviewNote = e.note
            state.emergency?.reviewedAt = e.at
        }
    }

    private static func created(_ e: FlowCreated) -> State {
        var state = State()
        state.spec = Spec(
            flowID: e.flowID, instance: e.instance, action: e.action, appSpec: e.appSpec, strategy: e.strategy,
            currentReplicas: e.currentReplicas, targetReplicas: e.targetReplicas, existingPods: e.existingPods,
            podsToRemove: e.podsToRemove, rollbackTo: e.rollbackTo
        )
        state.plan = e.plan
        state.createdAt = e.at
        var removals = e.podsToRemove[...]
        state.batches = e.plan.batches.map { planned in
            let removed = e.action.removesPods ? Array(removals.prefix(planned.size)) : []
            removals = removals.dropFirst(removed.count)
            var batch = BatchState(
                number: planned.number, size: planned.size, canary: planned.canary,
                surge: e.action == .scaleIn ? 0 : planned.size, removal: removed.isEmpty ? .none : .notStarted
            )
            batch.pods = removed.map { BatchPod(name: $0, role: .removed) }
            return batch
        }
        return state
    }

    private static func record(_ observation: PodObservation, in state: inout State) {
        if observation.gone {
            state.pods.removeAll { $0.name == observation.name }
        } else if let index = state.pods.firstIndex(where: { $0.name == observation.name }) {
            state.pods[index] = observation
        } else {
            state.pods.append(observation)
        }
        for b in state.batches.indices {
            for p in state.batches[b].pods.indices where state.batches[b].pods[p].name == observation.name {
                state.batches[b].pods[p].apply(observation)
            }
        }
    }
}

extension DeployFlow.State {
    mutating func withBatch(_ number: Int, _ body: (inout DeployFlow.BatchState) -> Void) {
        guard number >= 1, number <= self.batches.count else { return }
        body(&self.batches[number - 1])
    }

    func batch(_ number: Int) -> DeployFlow.BatchState? {
        number >= 1 && number <= self.batches.count ? self.batches[number - 1] : nil
    }
}
