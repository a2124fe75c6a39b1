import ArgumentParser
import Foundation
import PostgresStore
import TritonDomain
import TritonEngine
import TritonProjections

struct Flow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Release with DeployFlows and follow them (the Triton status shape with --output json).",
        subcommands: [
            FlowCreate.self, FlowUpdate.self, FlowRollback.self, FlowScale.self, FlowRestart.self,
            FlowList.self, FlowGet.self, FlowWatch.self,
            FlowNext.self, FlowContinue.self, FlowPause.self, FlowResume.self, FlowCancel.self,
        ]
    )
}

struct FlowList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List flows, newest first.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Only flows in this namespace.")
    var namespace: String?

    @Option(help: "Only flows of this instance.")
    var instance: String?

    func run() async throws {
        let store = try self.database.makeStore()
        defer { store.shutdown() }
        try await store.migrate()
        _ = try await FlowProjector(store: store).catchUp()
        let flows = try await FlowQueries(store: store).list(FlowFilter(namespace: self.namespace, instanceName: self.instance))
        if self.output.isJSON {
            print(String(decoding: try FlowStatus.makeEncoder().encode(flows), as: UTF8.self))
            return
        }
        print("NAMESPACE".padding(toLength: 12, withPad: " ", startingAt: 0) + "FLOW".padding(toLength: 36, withPad: " ", startingAt: 0)
            + "ACTION      PHASE          BATCHES  REPLICAS")
        for flow in flows {
            print(
                flow.namespace.padding(toLength: 12, withPad: " ", startingAt: 0) + flow.name.padding(toLength: 36, withPad: " ", startingAt: 0)
                    + flow.action.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + (flow.phase + (flow.paused ? " (paused)" : "")).padding(toLength: 15, withPad: " ", startingAt: 0)
                    + "\(flow.finishedBatches)/\(flow.batches)".padding(toLength: 9, withPad: " ", startingAt: 0)
                    + "\(flow.finishedReplicas)"
            )
        }
    }
}

struct FlowGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "One flow with its batches and pods.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The flow id.")
    var id: String

    func run() async throws {
        let store = try self.database.makeStore()
        defer { store.shutdown() }
        try await store.migrate()
        _ = try await FlowProjector(store: store).catchUp()
        guard let flow = try await FlowQueries(store: store).status(id: FlowID(self.id)) else {
            throw ValidationError("id: no flow named '\(self.id)'")
        }
        if self.output.isJSON {
            print(String(decoding: try FlowStatus.makeEncoder().encode(flow), as: UTF8.self))
            return
        }
        print("flow \(flow.name) in \(flow.namespace): \(flow.action) of \(flow.instanceName), phase \(flow.phase)\(flow.paused ? " (paused)" : "")")
        print("batches \(flow.finishedBatches)/\(flow.batches), replicas finished \(flow.finishedReplicas), failed \(flow.failedReplicas), mode \(flow.mode)")
        for batch in flow.conditions {
            let pods = batch.pods.map { "\($0.name) \($0.phase)\($0.pullInStatus.isEmpty ? "" : " " + $0.pullInStatus)" }
            print("  batch \(batch.batch)\(batch.canary ? " (canary)" : ""): \(batch.phase), \(batch.batchSize) pods: \(pods.joined(separator: ", "))")
        }
    }
}
