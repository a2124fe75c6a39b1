import EventStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PostgresStore
import TritonDomain
import TritonEngine
import TritonJSON
import TritonProjections

extension TritonAPI {
    /// deployer for everything; passing a canary batch that is not in traffic yet needs approver.
    func authorize(_ command: DeployFlow.Command.Kind, _ state: DeployFlow.State, _ context: APIContext) throws {
        try Self.authorize(command, state, user: context.user)
    }

    static func authorize(_ command: DeployFlow.Command.Kind, _ state: DeployFlow.State, user: APIUser) throws {
        switch command {
        case .next, .continueTo:
            if Self.passesCanary(command, state) {
                try user.require(.approver, for: "next/continue on the canary batch")
            } else if !user.has(.approver) {
                try user.require(.deployer, for: "next/continue")
            }
        default:
            try user.require(.deployer, for: "controlling a flow")
        }
    }

    /// Whether the command would pull a canary batch into traffic: `next` while the canary waits for it,
    /// or `continue` to any batch at or past a canary not pulled in yet (continuing pulls it in without
    /// stopping) — whether the flow runs, waits or is paused now.
    static func passesCanary(_ command: DeployFlow.Command.Kind, _ state: DeployFlow.State) -> Bool {
        guard let canary = state.batches.first(where: { $0.canary && $0.pulledInAt == nil }) else { return false }
        switch command {
        case .next:
            if case .pullIn(let number)? = DeployFlow.waitingStep(state) { return number == canary.number }
            return false
        case .continueTo(let batch):
            return batch >= canary.number
        default:
            return false
        }
    }
}
