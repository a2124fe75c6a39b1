import Foundation
import Hummingbird
import NIOCore
import TritonJSON

/// Streams a watch: one JSON object per line (`{"type":"ADDED","object":{…}}`) in a chunked
/// response, with optional bookmarks and a timeout. A resourceVersion older than the kept history
/// ends the stream with an `ERROR` event carrying a `410 Expired` Status, as the real server does.
struct WatchResponder {
    let cluster: SimulatedCluster

    func watch(_ type: ResourceType, namespace: String?, query: QueryParameters, table: Bool) throws -> Response {
        let filter = try KubeResponder.filter(type, namespace: namespace, query: query)
        let store = self.cluster.store
        let configuration = self.cluster.configuration
        let rvText = query["resourceVersion"] ?? ""
        let fromRevision: Int?
        if rvText.isEmpty || rvText == "0" {
            fromRevision = nil
        } else if let rv = Int(rvText) {
            fromRevision = rv
        } else {
            throw KubeAPIError.badRequest("invalid resource version: \(rvText)")
        }
        let bookmarks = query.bool("allowWatchBookmarks")
        var timeout = configuration.maxWatchDuration
        if let seconds = query.int("timeoutSeconds"), seconds > 0 { timeout = .seconds(seconds) }
        let includeObject = query["includeObject"]
        let headers: HTTPFields = [.contentType: "application/json"]

        let result = Result { () throws(KubeAPIError) in try store.watch(filter, from: fromRevision) }
        let id: Int
        let stream: AsyncStream<WatchItem>
        switch result {
        case .success(let subscription):
            (id, stream) = subscription
        case .failure(let error):
            guard error.code == 410 else { throw error }
            var line = JSONValue.object(["type": "ERROR", "object": error.status]).serialized()
            line.append(0x0A)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: line)))
        }
        let bookmarkInterval = configuration.bookmarkInterval
        let watchTimeout = timeout
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try? await Task.sleep(for: watchTimeout)
                        store.stopWatch(type, id)
                    }
                    if bookmarks {
                        group.addTask {
                            while !Task.isCancelled {
                                try await Task.sleep(for: bookmarkInterval)
                                store.bookmark(type, id)
                            }
                        }
                    }
                    var first = true
                    for await item in stream {
                        let line = Self.encode(item, type: type, table: table, includeObject: includeObject, withHeaders: first)
                        first = false
                        do {
                            try await writer.write(ByteBuffer(bytes: line))
                        } catch {
                            store.stopWatch(type, id)
                            throw error
                        }
                    }
                    group.cancelAll()
                }
                try await writer.finish(nil)
            })
    }

    static func encode(_ item: WatchItem, type: ResourceType, table: Bool, includeObject: String?, withHeaders: Bool) -> [UInt8] {
        var line: [UInt8] = []
        switch item {
        case .bookmark(let revision):
            let object: JSONValue = [
                "kind": .string(type.kind), "apiVersion": .string(type.apiVersion),
                "metadata": ["resourceVersion": .string(String(revision))],
            ]
            line = JSONValue.object(["type": "BOOKMARK", "object": object]).serialized()
        case .change(let eventType, let change):
            if table {
                let object = TableConverter.table(
                    type, [change.object], includeObject: includeObject,
                    listMeta: ["resourceVersion": .string(change.object.resourceVersion)], now: Date(), withHeaders: withHeaders)
                line = JSONValue.object(["type": .string(eventType.rawValue), "object": object]).serialized()
            } else {
                line.reserveCapacity(change.encodedObject.count + 40)
                line.append(contentsOf: Array("{\"type\":\"\(eventType.rawValue)\",\"object\":".utf8))
                line.append(contentsOf: change.encodedObject)
                line.append(UInt8(ascii: "}"))
            }
        }
        line.append(0x0A)
        return line
    }
}
