import ArgumentParser

@main
struct Triton: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "triton",
        abstract: "Triton: batch releases onto Kubernetes CloneSets, recorded in an append-only event log.",
        subcommands: [Serve.self, Demo.self, Sim.self, Login.self, WhoAmI.self, ContextCommand.self, Flow.self, InstanceCommand.self, Projections.self, Kube.self, Replay.self, TimelineCommand.self, ComplianceCommand.self, ReportCommand.self, Migrate.self, Audit.self, Bench.self]
    )
}
