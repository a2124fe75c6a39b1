import ArgumentParser

@main
struct Triton: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "triton",
        abstract: "Triton: batch releases onto Kubernetes CloneSets, recorded in an append-only event log.",
        subcommands: []
    )
}
