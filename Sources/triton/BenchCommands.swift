import ArgumentParser
import Foundation
import TritonBenchmarks

/// `triton bench …`: the benchmarks of the `TritonBenchmarks` target, each printing its figures (text,
/// or JSON with `--output json`) and its progress on standard error.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks that print their figures.",
        subcommands: [BenchStore.self, BenchSeals.self, BenchReports.self, BenchSim.self, BenchEngine.self, BenchFigures.self]
    )
}

struct BenchStore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Append and read throughput of the event log, against plain INSERTs on the same server."
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Seconds per measured case.")
    var seconds: Double = 5

    @Option(help: "Events to read back for the global-read figure.")
    var readEvents: Int = 200_000

    func validate() throws {
        guard self.seconds > 0 else { throw ValidationError("--seconds: must be greater than 0") }
        guard self.readEvents > 0 else { throw ValidationError("--read-events: must be greater than 0") }
    }

    func run() async throws {
        let output = self.output
        let report = try await StoreBenchmark.run(
            .init(url: try self.database.resolvedURL(), seconds: self.seconds, readEvents: self.readEvents)
        ) { line in output.progress(line) }
        if self.output.isJSON { try self.output.printJSON(report) } else { print(report) }
    }
}

struct BenchSeals: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seals",
        abstract: "Sealing cost per event and verify throughput (in memory, the database, a bundle) over --events events."
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Events to seal and verify.")
    var events: Int = 1_000_000

    @Option(help: "A seal after this many events (in memory).")
    var sealEvery: Int = 1000

    func validate() throws {
        guard self.events >= 100 else { throw ValidationError("--events: must be at least 100") }
        guard self.sealEvery > 0 else { throw ValidationError("--seal-every: must be greater than 0") }
    }

    func run() async throws {
        let output = self.output
        let report = try await SealBenchmark.run(
            .init(url: try self.database.resolvedURL(), events: self.events, sealEvery: self.sealEvery)
        ) { line in output.progress(line) }
        if self.output.isJSON { try self.output.printJSON(report) } else { print(report) }
    }
}

struct BenchReports: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reports",
        abstract: "Period report generation over --releases releases (copies of two real ones), from the log."
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Releases in the period.")
    var releases: Int = 10_000

    func validate() throws {
        guard self.releases >= 2 else { throw ValidationError("--releases: must be at least 2") }
    }

    func run() async throws {
        let output = self.output
        let report = try await ReportBenchmark.run(.init(url: try self.database.resolvedURL(), releases: self.releases)) { line in output.progress(line) }
        if self.output.isJSON { try self.output.printJSON(report) } else { print(report) }
    }
}

struct BenchSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "List/get/patch latency and watch throughput of the simulated cluster at scale."
    )

    @OptionGroup var output: OutputOptions

    @Option(help: "CloneSets to create.")
    var cloneSets: Int = 500

    @Option(help: "Pods per CloneSet.")
    var podsPerCloneSet: Int = 20

    @Option(help: "Concurrent pod watchers.")
    var watchers: Int = 4

    @Option(help: "Requests measured per kind.")
    var samples: Int = 500

    func validate() throws {
        guard self.cloneSets > 0, self.podsPerCloneSet > 0 else { throw ValidationError("--clone-sets and --pods-per-clone-set: must be greater than 0") }
        guard self.watchers >= 0 else { throw ValidationError("--watchers: must not be negative") }
        guard self.samples > 0 else { throw ValidationError("--samples: must be greater than 0") }
    }

    func run() async throws {
        let output = self.output
        let report = try await SimBenchmark.run(
            cloneSets: self.cloneSets, podsPerCloneSet: self.podsPerCloneSet, watchers: self.watchers, samples: self.samples
        ) { line in output.progress(line) }
        if self.output.isJSON { try self.output.printJSON(report) } else { print(report) }
    }
}

struct BenchEngine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Flows completed per second, intent-to-event latency, projection lag and peak memory, with many concurrent flows."
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Concurrent flows per case, comma-separated.")
    var flows: String = "100,1000"

    @Option(help: "Pods per flow (a create in two auto batches).")
    var pods: Int = 10

    @Option(help: "Simulated seconds per real second.")
    var timeScale: Double = 50

    @Option(help: "Milliseconds between runner ticks.")
    var tickMs: Int = 50

    @Option(help: "Give up on a case after this many seconds.")
    var timeout: Double = 900

    var counts: [Int?] { commaSeparatedCounts(self.flows) }

    func validate() throws {
        // Every entry must be a number: "100,1k" is refused, not run as "100".
        guard !self.counts.isEmpty, self.counts.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--flows: give positive numbers, comma-separated (got '\(self.flows)')")
        }
        guard self.pods > 0 else { throw ValidationError("--pods: must be greater than 0") }
        guard self.timeScale > 0 else { throw ValidationError("--time-scale: must be greater than 0") }
        guard self.tickMs > 0 else { throw ValidationError("--tick-ms: must be greater than 0") }
    }

    func run() async throws {
        let output = self.output
        let options = EngineBenchmark.Options(
            url: try self.database.resolvedURL(), flows: self.counts.compactMap { $0 }, podsPerFlow: self.pods, timeScale: self.timeScale,
            tickMs: self.tickMs, timeout: self.timeout
        )
        let report = try await EngineBenchmark.run(options) { line in output.progress(line) }
        if self.output.isJSON { try self.output.printJSON(report) } else { print(report) }
    }
}

struct BenchFigures: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "figures",
        abstract: "Triton's append rate by writer count, global read + decode and fold, as ops/bench-peers.sh compares them with peers'."
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Writer counts, comma-separated; each writer appends one event at a time to its own stream.")
    var writers: String = "1,2,4,8"

    @Option(help: "Seconds per append case.")
    var seconds: Double = 5

    @Option(help: "Flow streams written for the read and fold figures.")
    var streams: Int = 1000

    @Option(help: "Events per flow stream.")
    var eventsPerStream: Int = 100

    var counts: [Int?] { commaSeparatedCounts(self.writers) }

    func validate() throws {
        guard !self.counts.isEmpty, self.counts.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 0) <= 64 }) else {
            throw ValidationError("--writers: give numbers from 1 to 64, comma-separated (got '\(self.writers)')")
        }
        guard self.seconds > 0 else { throw ValidationError("--seconds: must be greater than 0") }
        guard self.streams > 0 else { throw ValidationError("--streams: must be greater than 0") }
        guard self.eventsPerStream >= 2 else { throw ValidationError("--events-per-stream: must be at least 2") }
    }

    func run() async throws {
        let output = self.output
        let options = PeerBenchmark.Options(
            url: try self.database.resolvedURL(), writers: self.counts.compactMap { $0 }, seconds: self.seconds, streams: self.streams,
            eventsPerStream: self.eventsPerStream
        )
        let report = try await PeerBenchmark.run(options) { line in output.progress(line) }
        if self.output.isJSON { try self.output.printJSON(report) } else { print(report) }
    }
}

/// The entries of a comma-separated option as numbers, `nil` for an entry that is not one (so that
/// validation refuses it instead of dropping it).
func commaSeparatedCounts(_ text: String) -> [Int?] {
    text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
}
