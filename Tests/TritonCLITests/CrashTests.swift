import Foundation
import KubeClient
import Testing
import TritonJSON

/// Scenarios 7 and 8: the cluster (`triton sim`) outlives the engine (`triton serve` on
/// `--server`), which is killed with SIGKILL at random moments; several engines share one log.
@Suite("Crash safety and several engines on one log", .serialized, .timeLimit(.minutes(5)))
struct CrashTests {
    struct Cluster {
        let sim: BackgroundProcess
        let url: String

        static func start(_ w: ServeTests.Workspace) async throws -> Cluster {
            let sim = try BackgroundProcess(["sim", "--port", "0", "--time-scale", "20", "--seed", "11"], log: w.log("sim.log"))
            let marker = "simulated cluster listening on http://127.0.0.1:"
            try await sim.waitFor(marker)
            let line = try #require(sim.output.split(separator: "\n").first { $0.contains(marker) })
            let port = try #require(line.components(separatedBy: marker).last?.prefix { $0.isNumber })
            return Cluster(sim: sim, url: "http://127.0.0.1:\(port)")
        }

        /// Pods the CloneSet controller created and deleted for `cloneSet`, from the cluster's events.
        func podChurn(_ cloneSet: String) async throws -> (created: Int, deleted: Int) {
            let client = KubeClient(configuration: .init(server: self.url))
            defer { client.shutdown() }
            let events = try await client.listAll(Event.self, namespace: "default").items
                .filter { $0.involvedObject["name"]?.stringValue == cloneSet }
            func count(_ reason: String) -> Int {
                Set(events.filter { $0.reason == reason }.compactMap(\.message)).count
            }
            return (count("SuccessfulCreate"), count("SuccessfulDelete"))
        }

        func livePods(_ cloneSet: String) async throws -> [Pod] {
            let client = KubeClient(configuration: .init(server: self.url))
            defer { client.shutdown() }
            return try await client.pods(namespace: "default").filter {
                ($0.metadata.name ?? "").hasPrefix(cloneSet + "-") && $0.metadata.deletionTimestamp == nil
            }
        }
    }

    static func serve(_ w: ServeTests.Workspace, _ cluster: Cluster, log: String) async throws -> BackgroundProcess {
        let serve = try BackgroundProcess(
            [
                "serve", "--database-url", try CLITests.databaseURL(), "--schema", w.schema, "--server", cluster.url,
                "--tick-ms", "50", "--http-port", "0", "--grpc-port", "0", "--kube-qps", "1000", "--kube-burst", "1000", "--state-file", w.stateFile + ".\(log)",
            ],
            environment: ["TRITON_CONFIG": w.configFile], log: w.log(log)
        )
        try await serve.waitFor("triton serve running")
        return serve
    }

    static func cli(_ w: ServeTests.Workspace, _ cluster: Cluster, _ arguments: [String]) async throws -> CLITests.Result {
        // Flow commands go to the API of the serve started last (its context); operator commands to the log.
        try await CLITests.triton(
            arguments + (arguments[0] == "audit" ? ["--database-url", try CLITests.databaseURL(), "--schema", w.schema] : []),
            environment: ["TRITON_SERVE_STATE": w.stateFile, "TRITON_ACTOR": "release-bot", "TRITON_CONFIG": w.configFile]
        )
    }

    /// Every flow's phase, from `triton flow list --output json`.
    static func phases(_ w: ServeTests.Workspace, _ cluster: Cluster) async throws -> [String: String] {
        let list = try await Self.cli(w, cluster, ["flow", "list", "--output", "json"])
        try #require(list.status == 0, "\(list.stdout)\(list.stderr)")
        let flows = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: flows.compactMap { flow in
            (flow["name"] as? String).map { ($0, flow["phase"] as? String ?? "") }
        })
    }

    @Test("scenario 7: SIGKILL at random points through create + canary update (auto, the canary passed by next) of 3 instances; every flow succeeds, no pod made or removed twice")
    func killedAtRandomPoints() async throws {
        let w = try ServeTests.Workspace()
        let cluster = try await Cluster.start(w)
        defer { cluster.sim.process.terminate() }
        let instances = ["shop-a", "shop-b", "shop-c"]
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        var rounds = 0
        let deadline = ContinuousClock.now + .seconds(240)
        // Up to 25 rounds end with SIGKILL at a random moment (intents are sent to the engine of the round,
        // so some are in flight when it dies); after that one engine runs to the end.
        var survivor: BackgroundProcess?
        while true {
            rounds += 1
            let serve: BackgroundProcess
            if kills < 25 {
                serve = try await Self.serve(w, cluster, log: "serve-\(rounds).log")
            } else {
                if survivor == nil { survivor = try await Self.serve(w, cluster, log: "survivor.log") }
                serve = try #require(survivor)
            }
            let phases = try await Self.phases(w, cluster)
            try #require(ContinuousClock.now < deadline, "flows did not finish in \(rounds) rounds: \(phases)")
            for instance in instances {
                let create = "\(instance)-create", update = "\(instance)-update"
                if phases[create] == nil {
                    let result = try await Self.cli(w, cluster, [
                        "flow", "create", "--instance", instance, "--image", "shop/\(instance):v1", "--replicas", "10",
                        "--batch-size", "10", "--mode", "auto", "--flow-id", create, "--pull-out-wait", "1",
                    ])
                    try #require(result.status == 0, "\(result.stderr)")
                } else if phases[create] == "Success", phases[update] == nil {
                    let result = try await Self.cli(w, cluster, [
                        "flow", "update", "--instance", instance, "--image", "shop/\(instance):v2", "--canary", "1",
                        "--batch-size", "3", "--mode", "auto", "--flow-id", update, "--pull-out-wait", "1",
                    ])
                    try #require(result.status == 0, "\(result.stderr)")
                } else if let phase = phases[update], !["Success", "Failed", "Canceled"].contains(phase) {
                    // Auto mode too stops the canary at Smoked for a decision: pass it (refused, harmlessly,
                    // while the flow is not waiting there).
                    _ = try await Self.cli(w, cluster, ["flow", "next", update, "--reason", "canary ok"])
                }
            }
            if phases.count == 2 * instances.count && phases.values.allSatisfy({ $0 == "Success" }) {
                if survivor == nil { try await serve.stop(SIGTERM) }
                break
            }
            if kills < 25 {
                try await Task.sleep(for: .milliseconds(Int.random(in: 100...1500, using: &generator)))
                try await serve.stop(SIGKILL)
                kills += 1
            } else {
                try await Task.sleep(for: .milliseconds(500))
            }
        }
        if let survivor { try await survivor.stop(SIGTERM) }
        #expect(kills >= 3)
        for instance in instances {
            let churn = try await cluster.podChurn(instance)
            #expect(churn.created == 20, "\(instance): 10 v1 pods then 10 v2 pods, no extra surge (\(churn))")
            #expect(churn.deleted == 10, "\(instance): exactly the 10 v1 pods removed (\(churn))")
            let pods = try await cluster.livePods(instance)
            #expect(pods.count == 10 && pods.allSatisfy(\.isReady), "\(instance): \(pods.map(\.metadata.name))")
        }
        let audit = try await Self.cli(w, cluster, ["audit", "verify"])
        #expect(audit.status == 0, "\(audit.stdout)\(audit.stderr)")
        _ = try await cluster.sim.stop(SIGTERM)
    }

    /// The flows a serve log says it drove.
    static func driven(_ log: String) -> Set<String> {
        Set(log.split(separator: "\n").filter { $0.hasPrefix("driving ") }.flatMap {
            $0.dropFirst("driving ".count).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        })
    }

    @Test("scenario 8: two engines on one log share 50 flows; one is killed; all 50 finish")
    func twoEnginesFiftyFlows() async throws {
        let w = try ServeTests.Workspace()
        let cluster = try await Cluster.start(w)
        let first = try await Self.serve(w, cluster, log: "first.log")
        let second = try await Self.serve(w, cluster, log: "second.log")
        for n in 0..<50 {
            let result = try await Self.cli(w, cluster, [
                "flow", "create", "--instance", "svc-\(n)", "--image", "shop/svc:v1", "--replicas", "2",
                "--batch-size", "1", "--mode", "auto", "--flow-id", "svc-\(n)-create",
            ])
            try #require(result.status == 0, "\(result.stderr)")
        }
        // Both engines drive some of the flows; then the first dies with its flows half done.
        try await first.waitFor("driving ")
        try await second.waitFor("driving ")
        let orphaned = Self.driven(first.output)
        try await first.stop(SIGKILL)
        let deadline = ContinuousClock.now + .seconds(180)
        var phases: [String: String] = [:]
        while ContinuousClock.now < deadline {
            phases = try await Self.phases(w, cluster)
            if phases.count == 50 && phases.values.allSatisfy({ $0 == "Success" }) { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(phases.count == 50)
        #expect(phases.values.filter { $0 == "Success" }.count == 50, "\(phases.filter { $0.value != "Success" })\n\(second.output.suffix(2000))")
        // The second engine took over what the first was driving.
        #expect(!orphaned.isEmpty && orphaned.isSubset(of: Self.driven(second.output)), "\(orphaned)")
        for n in [0, 17, 49] {
            let churn = try await cluster.podChurn("svc-\(n)")
            #expect(churn.created == 2 && churn.deleted == 0, "svc-\(n): \(churn)")
        }
        #expect(try await second.stop(SIGTERM) == 0)
        _ = try await cluster.sim.stop(SIGTERM)
    }
}
