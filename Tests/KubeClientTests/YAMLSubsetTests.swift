import Testing
import TritonJSON

@testable import KubeClient

@Suite("YAML subset")
struct YAMLSubsetTests {
    @Test func blockMappingsAndSequences() throws {
        let yaml = """
            # comment
            ---
            apiVersion: v1
            clusters:
            - cluster:
                server: https://1.2.3.4:6443   # trailing comment
                insecure-skip-tls-verify: true
              name: prod
            -   name: "quoted # not a comment"
                cluster: {}
            list:
              - a
              - - nested
                - seq
              -
                key: value
            empty:
            number: 42
            float: 1.5
            nulls: ~
            """
        let value = try YAMLSubset.parse(yaml)
        #expect(value["apiVersion"] == "v1")
        #expect(value["clusters"]?[0]?["name"] == "prod")
        #expect(value["clusters"]?[0]?[path: ["cluster", "server"]] == "https://1.2.3.4:6443")
        #expect(value["clusters"]?[0]?[path: ["cluster", "insecure-skip-tls-verify"]] == true)
        #expect(value["clusters"]?[1]?["name"] == "quoted # not a comment")
        #expect(value["clusters"]?[1]?["cluster"] == .object([:]))
        #expect(value["list"] == ["a", ["nested", "seq"], ["key": "value"]])
        #expect(value["empty"] == .null)
        #expect(value["number"] == 42)
        #expect(value["float"] == 1.5)
        #expect(value["nulls"] == .null)
    }

    @Test func quotedScalars() throws {
        let yaml = #"""
            a: "tab\tnew\nline \u00e9 \"q\""
            b: 'it''s # here'
            c: "folded
              across lines"
            d: "123"
            e: 'true'
            f: plain text with: colon-less
            g: http://x:80/path
            """#
        let value = try YAMLSubset.parse(yaml)
        #expect(value["a"] == "tab\tnew\nline é \"q\"")
        #expect(value["b"] == "it's # here")
        #expect(value["c"] == "folded across lines")
        #expect(value["d"] == "123")
        #expect(value["e"] == "true")
        #expect(value["g"] == "http://x:80/path")
    }

    @Test func blockScalars() throws {
        let yaml = """
            literal: |
              line one
                indented
              line three

            folded: >-
              one
              two

              three
            keep: |+
              x

            strip: |-
              y
            after: done
            """
        let value = try YAMLSubset.parse(yaml)
        #expect(value["literal"] == "line one\n  indented\nline three\n")
        #expect(value["folded"] == "one two\nthree")
        #expect(value["keep"] == "x\n\n")
        #expect(value["strip"] == "y")
        #expect(value["after"] == "done")
    }

    @Test func flowCollections() throws {
        let value = try YAMLSubset.parse(#"args: ["--region", eu-west-1, 'x']"# + "\nenv: null\nmap: {a: 1, \"b\": [true, ~]}\n")
        #expect(value["args"] == ["--region", "eu-west-1", "x"])
        #expect(value["env"] == .null)
        #expect(value["map"] == ["a": 1, "b": [true, nil]])
    }

    @Test(arguments: [
        ("a: 1\n  b: 2\n", 2),
        ("a: &anchor 1\n", 1),
        ("a: 1\na: 2\n", 2),
        ("a: \"unterminated\n", 1),
        ("a: 1\n---\nb: 2\n", 2),
        ("? complex\n", 1),
    ])
    func rejectsWhatItDoesNotSupport(yaml: String, line: Int) throws {
        let error = #expect(throws: YAMLSubset.ParseError.self) { try YAMLSubset.parse(yaml) }
        #expect(error?.line == line)
    }
}
