import EventStore
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KubeClient
import NIOCore
import PostgresStore
import Testing
import TritonAPI
import TritonDomain
import TritonEngine
import TritonGRPC
import TritonProjections
import TritonTesting

/// A Server-Sent Events reader over a real connection (libcurl, as the Kubernetes client streams
/// watches): frames as they arrive, until the caller stops iterating (which closes the connection).
struct SSEReader {
    struct Frame {
        var id: Int64?
        var event: String
        var data: String
    }

    let http = CurlHTTPClient()

    func frames(_ url: String, token: String, lastEventID: Int64? = nil) -> AsyncThrowingStream<Frame, any Error> {
        var headers: [(name: String, value: String)] = [("Authorization", "Bearer \(token)"), ("Accept", "text/event-stream")]
        if let lastEventID { headers.append(("Last-Event-ID", String(lastEventID))) }
        let transfer = self.http.stream("GET", url, headers: headers)
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var buffer = ""
                    for try await event in transfer {
                        switch event {
                        case .head(let status, _):
                            guard status == 200 else { throw SSEFailure(description: "HTTP \(status)") }
                        case .body(let data):
                            buffer += String(decoding: data, as: UTF8.self)
                            while let end = buffer.range(of: "\n\n") {
                                let block = buffer[..<end.lowerBound]
                                buffer = String(buffer[end.upperBound...])
                                var frame = Frame(id: nil, event: "message", data: "")
                                for line in block.split(separator: "\n") {
                                    if line.hasPrefix("id: ") { frame.id = Int64(line.dropFirst(4)) }
                                    if line.hasPrefix("event: ") { frame.event = String(line.dropFirst(7)) }
                                    if line.hasPrefix("data: ") { frame.data = String(line.dropFirst(6)) }
                                }
                                // A comment (the server's keep-alive) is no frame.
                                if block.split(separator: "\n").allSatisfy({ $0.hasPrefix(":") }) { continue }
                                continuation.yield(frame)
                            }
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The ids of the first `count` frames of `url` (fewer when `timeout` passes first).
    /// The bound is generous: the full suite runs ~70 suites at once on 2 cores, and the in-process
    /// simulated clusters of other tests can keep this process's two concurrency threads busy for long.
    func ids(_ url: String, token: String, lastEventID: Int64?, count: Int, timeout: Duration = .seconds(80)) async throws -> [Int64] {
        try await withThrowingTaskGroup(of: [Int64]?.self) { group in
            group.addTask {
                var ids: [Int64] = []
                for try await frame in self.frames(url, token: token, lastEventID: lastEventID) {
                    if let id = frame.id { ids.append(id) }
                    if ids.count == count { break }
                }
                return ids
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let ids = result { return ids }
                Issue.record("\(url): no \(count) frames within \(timeout)")
                return []
            }
            return []
        }
    }

    struct SSEFailure: Error, CustomStringConvertible {
        var description: String
    }
}

extension RESTTests {
    @Test("GET /api/v1/events: cut after event k while 8 writers append, resumed with Last-Event-ID, the client gets k+1 onwards; nothing missed, nothing repeated")
    func logEventsResumeExactly() async throws {
        let h = try await APIHarness()
        defer { h.store.shutdown() }
        try await h.run { client in
            let port = try #require(client.port)
            let base = "http://127.0.0.1:\(port)/api/v1/events"
            let reader = SSEReader()
            defer { reader.http.shutdown() }
            // A marker to resume after, then 8 writers × 40 single-event appends.
            let marker = try await h.store.append(
                to: StreamID("sse-marker-\(UUID().uuidString)"), expectedVersion: .noStream, events: [NewEvent(type: "Marker", data: "{}", metadata: "{}")]
            )
            let writers = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<8 {
                        group.addTask {
                            for index in 0..<40 {
                                _ = try await h.store.append(
                                    to: StreamID("sse-writer-\(writer)"), expectedVersion: index == 0 ? .noStream : .exact(Int64(index)),
                                    events: [NewEvent(type: "Written", data: "{\"index\": \(index)}", metadata: "{\"actor\": \"w\(writer)\"}")]
                                )
                                if index % 8 == 0 { try await Task.sleep(for: .milliseconds(Int.random(in: 1...15))) }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            // The first connection, cut after 100 events; the second resumes after the last id it saw and
            // reads until every writer's event is in.
            let markerPosition = try #require(marker.positions.last)
            var received = try await reader.ids(base, token: "viewer-token-1", lastEventID: markerPosition.position, count: 100)
            let cut = try #require(received.last)
            received += try await reader.ids(base, token: "viewer-token-1", lastEventID: cut, count: 220)
            try await writers.value
            // Exactly the log's order after the marker: no gap at the cut, no repeat.
            let log = try await h.store.readAll(after: markerPosition, limit: 10_000).map(\.logPosition.position)
            #expect(received == Array(log.prefix(320)), "received \(received.count), the log has \(log.count)")
            #expect(Set(received).count == received.count)

            // A position no event has is refused, naming the header.
            try await client.execute(
                uri: "/api/v1/events", method: .get,
                headers: { var headers = APIHarness.headers("viewer-token-1"); headers[HTTPField.Name("Last-Event-ID")!] = "x"; return headers }()
            ) {
                #expect($0.status == .badRequest)
                let field = try APIHarness.json($0)["field"] as? String
                #expect(field == "Last-Event-ID")
            }
            try await client.execute(uri: "/api/v1/events?lastEventId=999999999", method: .get, headers: APIHarness.headers("viewer-token-1")) {
                #expect($0.status == .badRequest)
            }
            try await client.execute(uri: "/api/v1/events", method: .get, headers: APIHarness.headers(nil)) { #expect($0.status == .unauthorized) }
        }
    }

    @Test("a flow's watch: id is the global position of its state; after Last-Event-ID a state comes only when the flow moves past it")
    func flowWatchResumes() async throws {
        let h = try await APIHarness()
        defer { h.store.shutdown() }
        try await h.run { client in
            let port = try #require(client.port)
            let reader = SSEReader()
            defer { reader.http.shutdown() }
            let name = try await APIHarness.createFlow(
                client,
                """
                {"applicationSpec":{"instanceName":"watched","image":"shop/watched:v1","replicas":2},
                 "updateStrategy":{"batchSize":1,"mode":"manual"}}
                """
            )
            let waiting = try await APIHarness.waitFor(client, name) { $0["waiting"] != nil }
            let position = try #require(waiting["position"] as? Int)
            let url = "http://127.0.0.1:\(port)/api/v1/namespaces/prod/deployflows/\(name)/watch"

            // A first connection gets the state now, its id the position the reply carries.
            for try await frame in reader.frames(url, token: "viewer-token-1") {
                #expect(frame.id == Int64(position))
                let status = try FlowStatus.makeDecoder().decode(FlowStatus.self, from: Data(frame.data.utf8))
                #expect(status.position == Int64(position) && status.waiting != nil && status.allowedActions == [])
                break
            }
            // Resumed at that id: nothing until the flow moves; then the newer state.
            let resumed = Task {
                var frames: [SSEReader.Frame] = []
                for try await frame in reader.frames(url, token: "viewer-token-1", lastEventID: Int64(position)) {
                    frames.append(frame)
                    break
                }
                return frames
            }
            try await Task.sleep(for: .milliseconds(500))
            try await client.execute(
                uri: "/api/v1/namespaces/prod/deployflows/\(name)/next", method: .post, headers: APIHarness.headers("approver-token-1", reason: "go"),
                body: ByteBuffer(string: "{}")
            ) { #expect($0.status == .ok) }
            let frames = try await resumed.value
            let next = try #require(frames.first)
            #expect((next.id ?? 0) > Int64(position))
            let status = try FlowStatus.makeDecoder().decode(FlowStatus.self, from: Data(next.data.utf8))
            #expect(status.position == next.id && status.lastIntent?.actor == "anna")
        }
    }

    @Test("gRPC Watch: cut after reply k, resumed with resumeAfter = its position, the replies go on at k+1 — one per flow event, none missed or repeated — while 8 writers append")
    func grpcWatchResumesExactly() async throws {
        let h = try await APIHarness()
        defer { h.store.shutdown() }
        try await h.runWithGRPC { client, grpcPort in
            let name = try await APIHarness.createFlow(
                client,
                """
                {"applicationSpec":{"instanceName":"resumed","image":"shop/resumed:v1","replicas":4},
                 "updateStrategy":{"batchSize":1,"mode":"manual"}}
                """
            )
            let id = FlowID(name)
            // Noise on other streams from 8 writers, and someone who passes every stop, while the watches run.
            let noise = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<8 {
                        group.addTask {
                            var version: Int64 = 0
                            while !Task.isCancelled {
                                _ = try await h.store.append(
                                    to: StreamID("grpc-noise-\(writer)-\(id.rawValue)"), expectedVersion: version == 0 ? .noStream : .exact(version),
                                    events: [NewEvent(type: "Noise", data: "{}", metadata: "{}")]
                                )
                                version += 1
                                try await Task.sleep(for: .milliseconds(Int.random(in: 5...25)))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            defer { noise.cancel() }
            let driver = Task {
                while !Task.isCancelled {
                    let flow = try await APIHarness.waitFor(client, name) { $0["waiting"] != nil || $0["finished"] as? Bool == true }
                    if flow["finished"] as? Bool == true { return }
                    try await client.execute(
                        uri: "/api/v1/namespaces/prod/deployflows/\(name)/next", method: .post, headers: APIHarness.headers("lead-token-1", reason: "go"),
                        body: ByteBuffer(string: "{}")
                    ) { _ in }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            defer { driver.cancel() }
            try await APIHarness.withFlowsClient(port: grpcPort) { flows in
                var request = Deployflow_WatchRequest()
                request.deploy.namespace = "prod"
                request.deploy.name = name
                let metadata: Metadata = ["authorization": "Bearer viewer-token-1"]
                // The first watch: the flow now, then one reply per event; cut after 6.
                let first = try await flows.watch(request, metadata: metadata) { response in
                    var positions: [Int64] = []
                    for try await reply in response.messages {
                        positions.append(reply.position)
                        if positions.count == 6 { break }
                    }
                    return positions
                }
                try #require(first.count == 6)
                request.resumeAfter = try #require(first.last)
                let second = try await flows.watch(request, metadata: metadata) { response in
                    var replies: [(Int64, String)] = []
                    for try await reply in response.messages { replies.append((reply.position, reply.deploy.phase)) }
                    return replies
                }
                #expect(second.last?.1 == "Success", "the resumed watch follows the flow to its end")
                let events = try await h.store.readStream(Streams.flow(id))
                let after = events.drop { $0.position != first[0] }.dropFirst().map(\.position)
                #expect(Array(first.dropFirst()) + second.map(\.0) == Array(after), "one reply per flow event after the first, in order")
            }
        }
    }

    @Test("the open-source tutorial's create (mode auto, canary 1): the canary stops at Smoked out of traffic until someone passes it; then auto runs to Success")
    func tutorialCanaryStopsInAutoMode() async throws {
        let h = try await APIHarness()
        defer { h.store.shutdown() }
        try await h.run { client in
            let body = """
                {"applicationSpec":{"appID":12122,"groupID":10010,"appName":"deploy-demo-hello","instanceName":"12122-sample-10010",
                 "template":{"spec":{"containers":[{"name":"12122-sample-10010-container","image":"nginx:latest","ports":[{"containerPort":80}]}]}},
                 "replicas":3},"updateStrategy":{"batchSize":1,"canary":1,"mode":"auto"}}
                """
            let name = try await APIHarness.createFlow(client, body)
            let smoked = try await APIHarness.waitFor(client, name) { ($0["waiting"] as? [String: Any])?["step"] as? String == "pullIn" }
            #expect(APIHarness.batchPhase(smoked, 1) == "Smoked" && smoked["mode"] as? String == "auto")
            let pods = ((smoked["conditions"] as? [[String: Any]])?.first?["pods"] as? [[String: Any]]) ?? []
            #expect(pods.count == 1 && pods.allSatisfy { $0["pullInStatus"] as? String == "" }, "the canary takes no traffic: \(pods)")
            // It stays there: nothing moves on by itself.
            try await Task.sleep(for: .seconds(1))
            let still = try await APIHarness.waitFor(client, name) { _ in true }
            #expect(APIHarness.batchPhase(still, 1) == "Smoked" && (still["conditions"] as? [Any])?.count == 1)
            try await client.execute(
                uri: "/api/v1/namespaces/prod/deployflows/\(name)/next", method: .post, headers: APIHarness.headers("approver-token-1", reason: "canary ok"),
                body: ByteBuffer(string: "{}")
            ) { #expect($0.status == .ok) }
            let done = try await APIHarness.waitFor(client, name) { $0["finished"] as? Bool == true }
            #expect(done["phase"] as? String == "Success" && done["finishedBatches"] as? Int == 3)
        }
    }

    @Test("POST …/releases?dryRun=true: the planner's batches and the image before and after, nothing written; a bad field is named; a viewer may not")
    func releaseDryRun() async throws {
        let h = try await APIHarness()
        defer { h.store.shutdown() }
        try await h.run { client in
            let path = "/api/v1/namespaces/prod/releases?dryRun=true"
            let body = """
                {"action":"create","instance":"preview","image":"shop/preview:v1","replicas":10,
                 "strategy":{"canary":1,"batchSize":3,"mode":"manual"}}
                """
            let before = try await h.store.readAll(after: .start, limit: 100_000).count
            let preview = try await client.execute(uri: path, method: .post, headers: APIHarness.headers("deployer-token-1"), body: ByteBuffer(string: body)) {
                #expect($0.status == .ok)
                return try APIHarness.json($0)
            }
            #expect(preview["dryRun"] as? Bool == true)
            let plan = ((preview["deploy"] as? [String: Any])?["plan"] as? [[String: Any]]) ?? []
            #expect(plan.map { $0["size"] as? Int } == [1, 3, 3, 3] && plan.map { $0["canary"] as? Bool } == [true, false, false, false])
            #expect((preview["from"] as? [String: Any])?["replicas"] as? Int == 0 && (preview["from"] as? [String: Any])?["image"] == nil)
            #expect((preview["to"] as? [String: Any])?["image"] as? String == "shop/preview:v1")
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await h.store.readAll(after: .start, limit: 100_000).count == before, "a dry run writes nothing")

            let bad = body.replacingOccurrences(of: "\"batchSize\":3", with: "\"batchSize\":0")
            try await client.execute(uri: path, method: .post, headers: APIHarness.headers("deployer-token-1"), body: ByteBuffer(string: bad)) {
                #expect($0.status == .unprocessableContent)
                let field = try APIHarness.json($0)["field"] as? String
                #expect(field == "strategy.batchSize")
            }
            try await client.execute(uri: "/api/v1/namespaces/prod/releases?dryRun=maybe", method: .post, headers: APIHarness.headers("deployer-token-1"), body: ByteBuffer(string: body)) {
                #expect($0.status == .badRequest)
                let field = try APIHarness.json($0)["field"] as? String
                #expect(field == "dryRun")
            }
            try await client.execute(uri: path, method: .post, headers: APIHarness.headers("viewer-token-1"), body: ByteBuffer(string: body)) {
                #expect($0.status == .forbidden)
            }
            #expect(try await h.store.readAll(after: .start, limit: 100_000).count == before)
        }
    }

    @Test("the web UI's files: public, typed, cached by ETag, no CDN; / leads to /ui/; an unknown file is 404")
    func webUIFiles() async throws {
        let h = try await APIHarness()
        defer { h.store.shutdown() }
        try await h.run { client in
            let index = try await client.execute(uri: "/ui/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("default-src 'self'") == true)
                return String(buffer: response.body)
            }
            #expect(index.contains("<script type=\"module\" src=\"/ui/js/app.js\"></script>"))
            #expect(!index.contains("http://") && !index.contains("https://"), "no file comes from elsewhere")
            let etag: String? = try await client.execute(uri: "/ui/js/app.js", method: .get) { response in
                #expect(response.status == .ok && response.headers[.contentType] == "text/javascript; charset=utf-8")
                return response.headers[.eTag]
            }
            var headers = HTTPFields()
            #expect(etag != nil)
            headers[.ifNoneMatch] = etag
            try await client.execute(uri: "/ui/js/app.js", method: .get, headers: headers) { #expect($0.status == .notModified) }
            try await client.execute(uri: "/ui/app.css", method: .get) { #expect($0.headers[.contentType] == "text/css; charset=utf-8") }
            try await client.execute(uri: "/ui/js/nothing.js", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status.code / 100 == 3 && response.headers[.location] == "/ui/")
            }
        }
    }
}
