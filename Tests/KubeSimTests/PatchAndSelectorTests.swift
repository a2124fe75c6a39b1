import KubeSim
import Testing
import TritonJSON

@Suite("Patches, selectors and JSON")
struct PatchAndSelectorTests {
    let cluster = Fixtures.manualCluster()

    func configMap(_ data: JSONValue) throws -> JSONValue {
        try self.cluster.create(.configMaps, ["metadata": ["name": "cm"], "data": data])
    }

    @Test("merge patch: null removes, lists replace")
    func mergePatch() throws {
        _ = try self.configMap(["a": "1", "b": "2"])
        let patched = try self.cluster.patch(.configMaps, name: "cm", type: .merge, ["data": ["a": nil, "c": "3"]])
        #expect(patched["data"] == ["b": "2", "c": "3"])
    }

    @Test("strategic merge: finalizers merge as a set, ownerReferences by uid, $retainKeys, $setElementOrder")
    func strategicDirectives() throws {
        _ = try self.configMap(["a": "1"])
        var patched = try self.cluster.patch(.configMaps, name: "cm", type: .strategic, ["metadata": ["finalizers": ["x"]]])
        patched = try self.cluster.patch(.configMaps, name: "cm", type: .strategic, ["metadata": ["finalizers": ["y", "x"]]])
        #expect(patched[path: ["metadata", "finalizers"]] == ["x", "y"])
        patched = try self.cluster.patch(
            .configMaps, name: "cm", type: .strategic, ["metadata": ["$deleteFromPrimitiveList/finalizers": ["x"]]])
        #expect(patched[path: ["metadata", "finalizers"]] == ["y"])
        patched = try self.cluster.patch(.configMaps, name: "cm", type: .strategic, ["data": ["$retainKeys": ["b"], "b": "2"]])
        #expect(patched["data"] == ["b": "2"])
        try self.cluster.create(
            .services, ["metadata": ["name": "s"], "spec": ["ports": [["name": "a", "port": 80], ["name": "b", "port": 81]]]])
        let reordered = try self.cluster.patch(
            .services, name: "s", type: .strategic,
            ["spec": ["$setElementOrder/ports": [["port": 81], ["port": 80]], "ports": [["port": 80, "name": "http"]]]])
        #expect(reordered[path: ["spec", "ports"]]?.arrayValue?.map { $0["port"] } == [81, 80])
        #expect(reordered[path: ["spec", "ports"]]?.arrayValue?.last?["name"] == "http")
    }

    @Test("JSON patch: add, remove, replace, move, copy, escaped pointers")
    func jsonPatch() throws {
        _ = try self.configMap(["a/b": "1", "t~": "2"])
        let patched = try self.cluster.patch(
            .configMaps, name: "cm", type: .json,
            [
                ["op": "replace", "path": "/data/a~1b", "value": "9"],
                ["op": "copy", "from": "/data/t~0", "path": "/data/copy"],
                ["op": "move", "from": "/data/t~0", "path": "/data/moved"],
                ["op": "add", "path": "/metadata/labels", "value": ["l": "1"]],
                ["op": "remove", "path": "/metadata/labels/l"],
            ])
        #expect(patched["data"] == ["a/b": "9", "copy": "2", "moved": "2"])
        #expect(throws: KubeAPIError.self) {
            try self.cluster.patch(.configMaps, name: "cm", type: .json, [["op": "remove", "path": "/data/nope"]])
        }
    }

    @Test("label selectors in every form")
    func labelSelectors() throws {
        let labels = ["app": "web", "tier": "front", "env": "prod"]
        let cases: [(String, Bool)] = [
            ("app=web", true), ("app==web", true), ("app!=web", false), ("tier in (front,back)", true),
            ("tier notin (front)", false), ("env", true), ("!env", false), ("missing!=x", true),
            ("app=web,tier=back", false), ("", true),
        ]
        for (text, expected) in cases {
            #expect(try LabelSelector.parse(text).matches(labels) == expected, "\(text)")
        }
        let object = try LabelSelector(
            object: ["matchLabels": ["app": "web"], "matchExpressions": [["key": "env", "operator": "In", "values": ["prod"]]]])
        #expect(object.matches(labels))
        #expect(object.description == "app=web,env in (prod)")
    }

    @Test("label-selected lists follow label changes, deletions and set-based selectors (the label index)")
    func labelIndexFollowsWrites() throws {
        func names(_ selector: String) throws -> [String] {
            try self.cluster.list(.configMaps, labelSelector: selector).map(\.name)
        }
        for (name, tier) in [("a", "front"), ("b", "front"), ("c", "back")] {
            try self.cluster.create(.configMaps, ["metadata": ["name": .string(name), "labels": ["app": "web", "tier": .string(tier)]]])
        }
        #expect(try names("app=web,tier=front") == ["a", "b"])
        #expect(try names("tier in (back)") == ["c"])
        #expect(try names("app=web,tier notin (front)") == ["c"])
        #expect(try names("tier=middle").isEmpty)
        _ = try self.cluster.patch(.configMaps, name: "b", type: .merge, ["metadata": ["labels": ["tier": "back"]]])
        #expect(try names("tier=front") == ["a"])
        #expect(try names("tier=back") == ["b", "c"])
        _ = try self.cluster.patch(.configMaps, name: "a", type: .merge, ["metadata": ["labels": ["tier": nil]]])
        #expect(try names("tier=front").isEmpty)
        #expect(try names("app=web") == ["a", "b", "c"])
        try self.cluster.delete(.configMaps, name: "c")
        #expect(try names("tier=back") == ["b"])
        try self.cluster.create(.configMaps, ["metadata": ["name": "c", "labels": ["tier": "front"]]])
        #expect(try names("tier=front") == ["c"])
        #expect(try names("app=web") == ["a", "b"])
    }

    @Test("JSON round-trips unknown fields, integers and escapes")
    func jsonRoundTrip() throws {
        let text = #"{"a":[1,2.5,-3,1e3,true,null],"s":"q\"\\\n\u00e9\ud83d\ude00","o":{}}"#
        let value = try JSONValue.parse(text)
        #expect(value["a"] == [1, 2.5, -3, 1000.0, true, nil])
        #expect(value["s"] == "q\"\\\né😀")
        #expect(try JSONValue.parse(value.serialized()).serialized() == value.serialized())
        #expect(throws: JSONParseError.self) { try JSONValue.parse("{\"a\":}") }
    }
}
