import EventStore
import Foundation
import Testing
import TritonSeals

@Suite("Seal leaves")
struct SealLeafTests {
    static let event = RecordedEvent(
        logPosition: LogPosition(transaction: 900, position: 42), streamID: StreamID("flow-checkout-abc12"), version: 3,
        type: "NextRequested", data: #"{"batch": 1}"#, metadata: #"{"actor": "anna", "reason": "canary healthy"}"#,
        recordedAt: Date(timeIntervalSince1970: 1_765_000_000.123), hash: "unused"
    )

    @Test func everyFieldTheLeafCommitsToChangesItsHash() {
        let leaf = SealLeaf(Self.event, actor: "anna")
        #expect(leaf.position == 42 && leaf.timeMillis == 1_765_000_000_123)
        var changes: [(String, RecordedEvent, String)] = []
        func changed(_ name: String, actor: String = "anna", _ edit: (inout RecordedEvent) -> Void) {
            var event = Self.event
            edit(&event)
            changes.append((name, event, actor))
        }
        changed("position") { $0.logPosition.position = 43 }
        changed("stream") { $0.streamID = StreamID("flow-checkout-abc13") }
        changed("version") { $0.version = 4 }
        changed("type") { $0.type = "ContinueRequested" }
        changed("time") { $0.recordedAt = $0.recordedAt.addingTimeInterval(0.001) }
        changed("actor", actor: "root") { _ in }
        changed("payload") { $0.data = #"{"batch": 2}"# }
        changed("reason") { $0.metadata = #"{"actor": "anna", "reason": "looks fine"}"# }
        var hashes: Set<[UInt8]> = [leaf.hash]
        for (name, event, actor) in changes {
            let other = SealLeaf(event, actor: actor)
            #expect(other.hash != leaf.hash, "\(name)")
            hashes.insert(other.hash)
        }
        #expect(hashes.count == changes.count + 1)
        // The transaction id is not part of the leaf: it is where the database put the event, not what it is.
        var moved = Self.event
        moved.logPosition.transaction = 901
        #expect(SealLeaf(moved, actor: "anna").hash == leaf.hash)
    }

    @Test func fieldsAreLengthPrefixedSoBoundariesCannotShift() {
        var one = SealLeaf(Self.event, actor: "anna")
        var two = one
        one.stream = "ab"
        one.type = "c"
        two.stream = "a"
        two.type = "bc"
        #expect(one.hash != two.hash)
    }
}
