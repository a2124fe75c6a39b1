import EventStore
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PostgresStore
import Testing
import TritonAPI
import TritonDomain
import TritonEngine
import TritonGRPC
import TritonProjections
import TritonTesting

extension RESTTests {
    @Test("Looking back over REST, gRPC and the CLI: a flow as of a position and a time, its replay, the namespace's timeline (JSON, JSON lines, CSV), its compliance record and the period's report; bad input names the field")
    func lookingBack() async throws {
        let h = try await APIHarness()
        defer { h.store.shutdown() }
        try await h.runWithGRPC { client, grpcPort in
            func get(_ path: String) async throws -> (HTTPResponse.Status, Data) {
                try await client.execute(uri: path, method: .get, headers: APIHarness.headers("viewer-token-1")) { ($0.status, Data($0.body.readableBytesView)) }
            }
            func json(_ data: Data) -> [String: Any] { (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:] }
            let name = try await APIHarness.createFlow(client)
            _ = try await APIHarness.waitFor(client, name) { $0["phase"] as? String == "Success" }
            let id = FlowID(name)
            let events = try await h.store.readStream(Streams.flow(id))
            let third = events[2]

            // As of the third event: the fold cut there, and where it stopped.
            let (status, body) = try await get("/api/v1/deployflows/\(name)?asOf=\(third.position)")
            #expect(status == .ok)
            let past = try FlowStatus.makeDecoder().decode(FlowStatus.self, from: body)
            let expected = FlowStatus(record: try FlowRecord(id: id, recorded: Array(events.prefix(3))))
            #expect(past.asOf?.position == third.position && past.asOf?.version == 3 && past.phase == expected.phase && past.conditions == expected.conditions)
            #expect(past.allowedActions == nil, "nothing may be done to a past state")
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            // Milliseconds in the text, microseconds in the log: a millisecond after the sixth event includes it.
            let time = formatter.string(from: events[5].recordedAt.addingTimeInterval(0.001))
            let (byTime, byTimeBody) = try await get("/api/v1/deployflows/\(name)?asOf=\(time)")
            let stopped = try FlowStatus.makeDecoder().decode(FlowStatus.self, from: byTimeBody).asOf
            #expect(byTime == .ok && stopped.map { $0.recordedAt <= events[5].recordedAt.addingTimeInterval(0.001) && $0.version >= 6 } == true, "\(String(describing: stopped))")
            let (bad, badBody) = try await get("/api/v1/deployflows/\(name)?asOf=yesterday")
            #expect(bad == .badRequest && json(badBody)["field"] as? String == "asOf")
            let (before, beforeBody) = try await get("/api/v1/deployflows/\(name)?asOf=\(events[0].position - 1)")
            #expect(before == .notFound && json(beforeBody)["field"] as? String == "asOf")

            // The instance as of the flow's third event: the create running, nothing released yet.
            let (instanceStatus, instanceBody) = try await get("/api/v1/namespaces/prod/instances/checkout?asOf=\(third.position)")
            let instance = try FlowStatus.makeDecoder().decode(InstanceAsOf.self, from: instanceBody)
            #expect(instanceStatus == .ok && instance.activeFlow == name && instance.currentImage == nil && instance.releases.map(\.outcome) == [nil])
            let (_, nowBody) = try await get("/api/v1/namespaces/prod/instances/checkout?asOf=\(events.last!.position + 1000)")
            let now = try FlowStatus.makeDecoder().decode(InstanceAsOf.self, from: nowBody)
            #expect(now.activeFlow == nil && now.currentImage == "shop/checkout:v1" && now.releases.map(\.outcome) == ["Success"])
            let (badInstance, _) = try await get("/api/v1/namespaces/prod/instances/checkout?asOf=tomorrow")
            #expect(badInstance == .badRequest)

            // The same over gRPC: the flow as it was and where it stopped.
            try await APIHarness.withFlowsClient(port: grpcPort) { flows in
                var request = Deployflow_DeployMetaRequest()
                request.deploy.namespace = "prod"
                request.deploy.name = name
                request.asOf = String(third.position)
                let reply = try await flows.get(request, metadata: ["authorization": "Bearer viewer-token-1"])
                #expect(reply.stoppedAt.position == third.position && reply.stoppedAt.version == 3 && reply.deploy.phase == expected.phase)
                #expect(reply.deploy.allowedActions.isEmpty)
                request.asOf = "soon"
                do {
                    _ = try await flows.get(request, metadata: ["authorization": "Bearer viewer-token-1"])
                    Issue.record("a bad asOf was accepted")
                } catch let error as RPCError {
                    #expect(error.code == .invalidArgument && error.message.hasPrefix("asOf:"), "\(error)")
                }
            }

            // The replay equals the projection (once the projector has caught up).
            var replay: FlowReplay?
            for _ in 0..<100 {
                replay = try FlowStatus.makeDecoder().decode(FlowReplay.self, from: try await get("/api/v1/deployflows/\(name)/replay").1)
                if replay?.projection?.matches == true { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(replay?.projection?.matches == true && replay?.steps.count == events.count, "\(String(describing: replay?.projection))")
            let (early, earlyBody) = try await get("/api/v1/namespaces/prod/deployflows/\(name)/replay?at=\(third.position)")
            let earlyReplay = try FlowStatus.makeDecoder().decode(FlowReplay.self, from: earlyBody)
            #expect(early == .ok && earlyReplay.steps.count == 3 && earlyReplay.projection == nil)

            // The timeline in three formats.
            let (_, timelineBody) = try await get("/api/v1/namespaces/prod/timeline")
            let entries = (json(timelineBody)["entries"] as? [[String: Any]]) ?? []
            #expect(entries.count == events.count && entries.compactMap { $0["position"] as? Int } == events.map { Int($0.position) })
            let (_, jsonl) = try await get("/api/v1/namespaces/prod/timeline?format=jsonl")
            #expect(String(decoding: jsonl, as: UTF8.self).split(separator: "\n").count == events.count)
            let (_, csv) = try await get("/api/v1/namespaces/prod/timeline?format=csv&instance=checkout")
            let rows = String(decoding: csv, as: UTF8.self).split(separator: "\r\n")
            #expect(rows.count == events.count + 1 && rows.first == Substring(TimelineEntry.csvHeader))
            let (wrongFormat, wrongBody) = try await get("/api/v1/namespaces/prod/timeline?format=xml")
            #expect(wrongFormat == .badRequest && json(wrongBody)["field"] as? String == "format")
            let (backwards, backwardsBody) = try await get("/api/v1/namespaces/prod/timeline?from=2026-12-07T10:00:00Z&to=2026-12-07T09:00:00Z")
            #expect(backwards == .badRequest && json(backwardsBody)["field"] as? String == "to")

            // The CLI: flow get --as-of, replay, timeline, compliance, report.
            let cli = try CLIRunner(port: try #require(client.port))
            let asOf = try await cli.run(["flow", "get", name, "--as-of", String(third.position)], token: "viewer-token-1")
            #expect(asOf.status == 0 && asOf.stdout.contains("as of log position \(third.position)"), "\(asOf.stdout)\(asOf.stderr)")
            let badAsOf = try await cli.run(["flow", "get", name, "--as-of", "yesterday"], token: "viewer-token-1")
            #expect(badAsOf.status != 0 && badAsOf.stderr.contains("--as-of"), "\(badAsOf.stderr)")
            let instanceAsOf = try await cli.run(["instance", "get", "-n", "prod", "--instance", "checkout", "--as-of", String(third.position)], token: "viewer-token-1")
            #expect(instanceAsOf.status == 0 && instanceAsOf.stdout.contains("active flow: \(name)"), "\(instanceAsOf.stdout)\(instanceAsOf.stderr)")
            let replayed = try await cli.run(["replay", name], token: "viewer-token-1")
            #expect(replayed.status == 0 && replayed.stdout.contains("the final fold equals the projection") && replayed.stdout.contains("FlowCreated"), "\(replayed.stdout)")
            let timeline = try await cli.run(["timeline", "-n", "prod", "--format", "csv"], token: "viewer-token-1")
            #expect(timeline.status == 0 && timeline.stdout.hasPrefix(TimelineEntry.csvHeader), "\(timeline.stdout.prefix(300))")
            let timelineText = try await cli.run(["timeline", "-n", "prod"], token: "viewer-token-1")
            #expect(timelineText.status == 0 && timelineText.stdout.contains("intent") && timelineText.stdout.contains(name))
            let record = try await cli.run(["compliance", name], token: "viewer-token-1")
            #expect(record.status == 0 && record.stdout.contains("segregation of duties: no-approval") && record.stdout.contains("completeness: complete"), "\(record.stdout)")
            let report = try await cli.run(["report", "--format", "csv"], token: "viewer-token-1")
            #expect(report.status == 0 && report.stdout.split(separator: "\r\n").count == 2 && report.stdout.contains(name), "\(report.stdout)\(report.stderr)")
            let reportText = try await cli.run(["report", "-n", "prod", "--from", "2026-01-01T00:00:00Z"], token: "viewer-token-1")
            #expect(reportText.status == 0 && reportText.stdout.contains("releases: 1"), "\(reportText.stdout)\(reportText.stderr)")
        }
    }
}
