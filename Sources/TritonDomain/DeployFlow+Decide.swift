import Foundation

extension DeployFlow {
    /// Decides the events of a command: the command's own fact (if anything changed) followed by every
    /// transition it causes (see `settle`).
    ///
    /// Intents on a finished flow are rejected; observations and timers reaching a finished flow produce
    /// no events.
    public static func decide(_ command: Command, _ state: State) throws(DomainRejection) -> [Event] {
        let at = command.metadata.time
        switch command.kind {
        case .create(let create):
            if let spec = state.spec {
                throw DomainRejection(.alreadyExists, field: "flowID", "flow \(spec.flowID) already exists")
            }
            return Self.settle([.flowCreated(try Self.validate(create, at: at))], on: state, at: at)

        case .pause:
            try Self.requireRunning(state)
            guard !state.paused else { throw DomainRejection(.paused, "the flow is already paused") }
            let timers = state.pendingTimers.filter { $0.kind == .startupTimeout }
            return [.paused(Paused(at: at))] + timers.map { .timerCanceled(TimerCanceled(id: $0.id, at: at)) }

        case .resume:
            try Self.requireRunning(state)
            guard state.paused else { throw DomainRejection(.notPaused, "the flow is not paused") }
            return Self.settle([.resumed(Resumed(at: at))], on: state, at: at)

        case .cancel:
            try Self.requireRunning(state)
            return [.canceled(Canceled(at: at))] + Self.cancelAllTimers(state, at: at)

        case .next:
            try Self.requireRunning(state)
            guard !state.paused else { throw DomainRejection(.paused, "the flow is paused; resume it first") }
            switch Self.waitingStep(state) {
            case .pullIn(let batch):
                return Self.settle(
                    [
                        .nextRequested(NextRequested(batch: batch, step: .pullIn, at: at)),
                        .batchPhaseChanged(BatchPhaseChanged(batch: batch, from: .smoked, to: .baking, at: at)),
                    ], on: state, at: at)
            case .startBatch(let batch):
                return Self.settle(
                    [
                        .nextRequested(NextRequested(batch: batch, step: .startBatch, at: at)),
                        .batchStarted(BatchStarted(batch: batch, at: at)),
                    ], on: state, at: at)
            case nil:
                throw DomainRejection(.nothingToAdvance, "nothing is waiting for next: \(Self.progressSummary(state))")
            }

        case .continueTo(let batch):
            try Self.requireRunning(state)
            guard let target = state.batch(batch) else {
                throw DomainRejection(
                    .invalidBatch, field: "batch", "batch \(batch) is beyond the plan of \(state.plan.count) batches"
                )
            }
            guard !target.isFinished else {
                throw DomainRejection(.invalidBatch, field: "batch", "batch \(batch) is already finished")
            }
            return Self.settle([.continueRequested(ContinueRequested(batch: batch, at: at))], on: state, at: at)

        case .observePod(let pod):
            try Self.requireCreated(state)
            guard !state.isFinished else { return [] }
            if pod.gone {
                let inBatch = state.batches.contains { $0.pods.contains { $0.name == pod.name && !$0.gone } }
                guard state.pod(named: pod.name) != nil || inBatch else { return [] }
            } else if state.pod(named: pod.name) == pod {
                return []
            }
            return Self.settle([.podObserved(PodObserved(pod: pod, at: at))], on: state, at: at)

        case .observeWorkload(let workload):
            try Self.requireCreated(state)
            guard !state.isFinished, state.workload != workload else { return [] }
            return Self.settle([.workloadObserved(WorkloadObserved(workload: workload, at: at))], on: state, at: at)

        case .timerFired(let id):
            try Self.requireCreated(state)
            guard !state.isFinished, state.pendingTimer(id) != nil else { return [] }
            return Self.settle([.timerFired(TimerFired(id: id, at: at))], on: state, at: at)

        case .declareEmergency(let rule, let justification, let by):
            try Self.requireRunning(state)
            guard !justification.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw DomainRejection(.invalidField, field: "emergency", "an emergency change needs a justification")
            }
            if let emergency = state.emergency, emergency.rules.contains(rule) { return [] }
            return [.emergencyDeclared(EmergencyDeclared(rule: rule, justification: justification, by: by, at: at))]

        case .reviewEmergency(let by, let note):
            try Self.requireCreated(state)
            guard let emergency = state.emergency else {
                throw DomainRejection(.notEmergency, "the flow is not an emergency change; there is nothing to review")
            }
            guard !emergency.isReviewed else {
                throw DomainRejection(
                    .alreadyReviewed, "the emergency change was reviewed by \(emergency.reviewedBy ?? "someone") already"
                )
            }
            guard !note.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw DomainRejection(.invalidField, field: "reason", "a review needs a note (the reason)")
            }
            return [.emergencyReviewed(EmergencyReviewed(by: by, note: note, at: at))]

        case .mutationApplied(let key, let kind, let resourceVersion):
            try Self.requireRunning(state)
            guard !state.appliedMutations.contains(key) else { return [] }
            let applied = MutationApplied(key: key, kind: kind, resourceVersion: resourceVersion, at: at)
            return Self.settle([.mutationApplied(applied)], on: state, at: at)
        }
    }

    /// What a `next` would do now, if anything waits for it.
    public enum WaitingStep: Sendable, Hashable {
        /// The Smoked canary batch waits to be pulled in.
        case pullIn(batch: Int)
        /// The next batch waits to be started.
        case startBatch(batch: Int)
    }

    /// What waits for `next` in this state (a canary at Smoked in either mode; each batch in manual
    /// mode), or `nil`.
    public static func waitingStep(_ state: State) -> WaitingStep? {
        guard let spec = state.spec, !state.phase.isTerminal, !state.paused, let batch = state.current else {
            return nil
        }
        if state.phase == .batchStarted, batch.phase == .smoked, Self.stopsAtSmoked(state, spec, batch) {
            return .pullIn(batch: batch.number)
        }
        if state.phase == .batchFinished, batch.number < state.plan.count, spec.strategy.mode == .manual,
            (state.continueTarget ?? 0) <= batch.number
        {
            return .startBatch(batch: batch.number + 1)
        }
        return nil
    }

    // MARK: - Private Methods -

    private static func requireCreated(_ state: State) throws(DomainRejection) {
        guard state.isCreated else { throw DomainRejection(.notCreated, "the flow has not been created") }
    }

    private static func requireRunning(_ state: State) throws(DomainRejection) {
        try Self.requireCreated(state)
        guard !state.phase.isTerminal else {
            throw DomainRejection(.flowFinished, "the flow is finished (\(state.phase.rawValue))")
        }
    }

    private static func progressSummary(_ state: State) -> String {
        if let batch = state.current {
            if state.phase == .batchFinished {
                return batch.number == state.plan.count
                    ? "the last batch is finished and the flow is completing"
                    : "batch \(batch.number) is finished and the next batch starts by itself"
            }
            return "batch \(batch.number) is \(batch.phase.rawValue)"
        }
        return "the flow is \(state.phase.rawValue)"
    }
}
