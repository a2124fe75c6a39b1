import EventStore
import Testing

@Suite("SHA-256")
struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
    ])
    func nistVectors(input: String, digest: String) {
        #expect(SHA256.hash(Array(input.utf8)).hexString == digest)
    }

    @Test func millionAs() {
        var hasher = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { hasher.update(chunk) }
        #expect(hasher.finalize().hexString == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func incrementalEqualsOneShot() {
        let bytes = (0..<300).map { UInt8($0 % 251) }
        var hasher = SHA256()
        hasher.update(bytes[0..<63])
        hasher.update(bytes[63..<64])
        hasher.update(bytes[64...])
        #expect(hasher.finalize() == SHA256.hash(bytes))
    }
}

@Suite("Hash chain verifier")
struct HashChainTests {
    static func chain(_ stream: StreamID, count: Int) -> [HashChain.Link] {
        var previous = HashChain.genesis
        return (1...count).map { version in
            let data = "{\"n\": \(version)}"
            let hash = HashChain.link(previous: previous, stream: stream, version: Int64(version), type: "T", data: data, metadata: "{}")
            defer { previous = hash }
            return HashChain.Link(
                stream: stream, version: Int64(version), type: "T", data: data, metadata: "{}", previousHash: previous.hexString,
                hash: hash.hexString
            )
        }
    }

    @Test func intactChainsVerify() throws {
        var verifier = HashChain.Verifier()
        for link in Self.chain("a", count: 3) + Self.chain("b", count: 2) { try verifier.check(link) }
        #expect(verifier.streams == 2)
        #expect(verifier.events == 5)
    }

    @Test func alteredContentIsNamed() {
        var links = Self.chain("a", count: 4)
        links[2].data = "{\"n\": 99}"
        var verifier = HashChain.Verifier()
        #expect(throws: HashChain.Break(stream: "a", version: 3, reason: "content does not match its hash (the event was altered)")) {
            for link in links { try verifier.check(link) }
        }
    }

    @Test func missingVersionIsNamed() {
        var links = Self.chain("a", count: 4)
        links.remove(at: 1)
        var verifier = HashChain.Verifier()
        #expect(throws: HashChain.Break(stream: "a", version: 2, reason: "version 2 is missing")) {
            for link in links { try verifier.check(link) }
        }
    }

    @Test func rehashedEventBreaksTheNextLink() {
        var links = Self.chain("a", count: 3)
        links[1].data = "{\"n\": 7}"
        links[1].hash = HashChain.link(
            previous: Self.decodeHex(links[0].hash), stream: "a", version: 2, type: "T",
            data: links[1].data, metadata: "{}"
        ).hexString
        var verifier = HashChain.Verifier()
        #expect(throws: HashChain.Break(stream: "a", version: 3, reason: "previous-hash does not match the event before it")) {
            for link in links { try verifier.check(link) }
        }
    }

    static func decodeHex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }
}
