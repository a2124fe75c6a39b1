import Foundation
import KubeSim
import Testing
import TritonJSON

/// Drives the simulated cluster with the installed kubectl, as a user would.
@Suite("kubectl against triton sim", .serialized)
struct KubectlTests {
    static let kubectl = "/usr/bin/kubectl"

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs kubectl with a timeout; output is read to the end.
    static func run(_ port: Int, cacheDir: String, _ arguments: [String], stdin: String? = nil, timeout: Double = 30) async throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.kubectl)
        process.arguments = ["--server", "http://127.0.0.1:\(port)", "--cache-dir", cacheDir, "--request-timeout", "20s"] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                Issue.record("kubectl \(arguments.joined(separator: " ")) timed out")
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.waitUntilExit()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return Output(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    static let manifest = """
        apiVersion: apps.kruise.io/v1alpha1
        kind: CloneSet
        metadata:
          name: web
          namespace: default
        spec:
          replicas: 3
          selector:
            matchLabels:
              app: web
          template:
            metadata:
              labels:
                app: web
              annotations:
                sim.triton.io/startup-seconds: "2"
            spec:
              readinessGates:
              - conditionType: apps.triton.io/ready
              terminationGracePeriodSeconds: 30
              containers:
              - name: app
                image: reg/web:v1
                lifecycle:
                  preStop:
                    exec:
                      command: ["/bin/sh", "-c", "/gracefully_shutdown"]
          updateStrategy:
            type: ReCreate
            maxUnavailable: 0
            maxSurge: 60%
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web
        spec:
          selector:
            app: web
          ports:
          - port: 80
            targetPort: 8080
        """

    /// Polls `body` until it returns true or `seconds` pass.
    static func eventually(_ seconds: Double = 20, _ body: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await body() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await body()
    }

    @Test("apply, wait for pods, pull a pod in, delete a pod, read events, scale")
    func kubectlSession() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.kubectl), "kubectl must be installed at /usr/bin/kubectl")
        let cacheDir = FileManager.default.temporaryDirectory.appendingPathComponent("kubesim-kubectl-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: cacheDir) }
        let cluster = SimulatedCluster(configuration: SimConfiguration(timeScale: 20, seed: 11))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await cluster.run() }
            defer { group.cancelAll() }
            let port = try await cluster.waitUntilListening()
            func k(_ args: String..., stdin: String? = nil) async throws -> Output {
                try await Self.run(port, cacheDir: cacheDir, args, stdin: stdin)
            }

            // apply -f
            let apply = try await k("apply", "-f", "-", stdin: Self.manifest)
            #expect(apply.status == 0, "\(apply.stderr)")
            #expect(apply.stdout.contains("cloneset.apps.kruise.io/web created"))
            #expect(apply.stdout.contains("service/web created"))

            // Wait for 3 running pods whose containers are ready (gate still False).
            let running = try await Self.eventually {
                let out = try await k("get", "pods", "-l", "app=web", "--no-headers")
                let lines = out.stdout.split(separator: "\n").filter { $0.contains("Running") && $0.contains("1/1") }
                return lines.count == 3
            }
            #expect(running)
            let clone = try await k("get", "clone", "web", "-o", "json")
            let cs = try JSONValue.parse(clone.stdout)
            #expect(cs[path: ["status", "replicas"]] == 3)
            #expect(cs[path: ["status", "readyReplicas"]] == 0, "the readiness gate holds pods un-Ready")
            #expect(cs[path: ["status", "updatedReplicas"]] == 3)
            #expect(cs[path: ["status", "labelSelector"]] == "app=web")

            // The short name and the table.
            let table = try await k("get", "clone,pods")
            #expect(table.stdout.contains("cloneset.apps.kruise.io/web"))
            #expect(table.stdout.contains("UPDATED_READY"))

            // Pull one pod in with a strategic merge patch on the status subresource.
            let podsJSON = try JSONValue.parse(try await k("get", "pods", "-l", "app=web", "-o", "json").stdout)
            let names = (podsJSON["items"]?.arrayValue ?? []).map(\.podName).sorted()
            #expect(names.count == 3)
            let first = names[0]
            let patch = try await k(
                "patch", "pod", first, "--subresource=status", "--type=strategic", "-p",
                #"{"status":{"conditions":[{"type":"apps.triton.io/ready","status":"True"}]}}"#)
            #expect(patch.status == 0, "\(patch.stderr)")
            let ready = try await Self.eventually {
                let pod = try JSONValue.parse(try await k("get", "pod", first, "-o", "json").stdout)
                return pod.isReady
            }
            #expect(ready, "the pod is Ready once its gate is True")
            let endpoints = try await Self.eventually {
                let ep = try JSONValue.parse(try await k("get", "endpoints", "web", "-o", "json").stdout)
                let addresses = ep["subsets"]?.arrayValue?.first?["addresses"]?.arrayValue ?? []
                return addresses.count == 1 && addresses.first?[path: ["targetRef", "name"]]?.stringValue == first
            }
            #expect(endpoints, "endpoints list only the Ready pod")
            let status = try await Self.eventually {
                let cs = try JSONValue.parse(try await k("get", "clone", "web", "-o", "json").stdout)
                return cs[path: ["status", "readyReplicas"]] == 1
            }
            #expect(status)

            // A merge patch and a JSON patch on the CloneSet.
            let merge = try await k("patch", "clone", "web", "--type=merge", "-p", #"{"metadata":{"labels":{"tier":"front"}}}"#)
            #expect(merge.status == 0, "\(merge.stderr)")
            let jsonPatch = try await k(
                "patch", "clone", "web", "--type=json", "-p", #"[{"op":"add","path":"/metadata/labels/team","value":"rel"}]"#)
            #expect(jsonPatch.status == 0, "\(jsonPatch.stderr)")
            let labels = try JSONValue.parse(try await k("get", "clone", "web", "-o", "json").stdout)[path: ["metadata", "labels"]]
            #expect(labels?["tier"] == "front" && labels?["team"] == "rel")

            // Delete a pod: it terminates (preStop) and the CloneSet replaces it.
            let victim = names[1]
            let delete = try await k("delete", "pod", victim, "--wait=false")
            #expect(delete.status == 0, "\(delete.stderr)")
            #expect(delete.stdout.contains("pod \"\(victim)\" deleted"))
            let terminating = try await k("get", "pod", victim, "-o", "json")
            if terminating.status == 0 {
                #expect(try JSONValue.parse(terminating.stdout)[path: ["metadata", "deletionTimestamp"]] != nil)
            }
            let gone = try await Self.eventually {
                let out = try await k("get", "pod", victim, "--ignore-not-found", "-o", "name")
                return out.status == 0 && out.stdout.isEmpty
            }
            #expect(gone)
            let replaced = try await Self.eventually {
                let out = try await k("get", "pods", "-l", "app=web", "-o", "name")
                return out.stdout.split(separator: "\n").count == 3 && !out.stdout.contains(victim)
            }
            #expect(replaced)

            // Events, as a real cluster records them.
            let events = try await k("get", "events", "-o", "json")
            let reasons = Set((try JSONValue.parse(events.stdout)["items"]?.arrayValue ?? []).compactMap { $0["reason"]?.stringValue })
            for reason in ["Scheduled", "Pulling", "Pulled", "Created", "Started", "Killing", "SuccessfulCreate"] {
                #expect(reasons.contains(reason), "missing event \(reason)")
            }
            let describe = try await k("describe", "pod", first)
            #expect(describe.status == 0, "\(describe.stderr)")
            #expect(describe.stdout.contains("Successfully assigned default/\(first)"))
            #expect(describe.stdout.contains("apps.triton.io/ready"))

            // scale (the scale subresource) and yaml output.
            let scale = try await k("scale", "clone", "web", "--replicas=5")
            #expect(scale.status == 0, "\(scale.stderr)")
            let scaled = try await Self.eventually {
                let cs = try JSONValue.parse(try await k("get", "clone", "web", "-o", "json").stdout)
                return cs[path: ["status", "replicas"]] == 5
            }
            #expect(scaled)
            let yaml = try await k("get", "clone", "web", "-o", "yaml")
            #expect(yaml.stdout.contains("replicas: 5"))

            // get -w prints changes as they happen.
            let watch = try await k("get", "clone", "web", "-w", "--request-timeout=2s")
            #expect(watch.stdout.contains("web"))

            // Errors come back as Status objects kubectl understands.
            let missing = try await k("get", "pod", "nope")
            #expect(missing.status != 0)
            #expect(missing.stderr.contains("pods \"nope\" not found"))
            let cleanup = try await k("delete", "clone", "web")
            #expect(cleanup.status == 0, "\(cleanup.stderr)")
            let collected = try await Self.eventually {
                try await k("get", "pods", "-l", "app=web", "-o", "name").stdout.isEmpty
            }
            #expect(collected, "pods are garbage-collected with their CloneSet")
        }
    }
}
