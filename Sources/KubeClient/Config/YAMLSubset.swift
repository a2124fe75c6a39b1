import TritonJSON

/// A reader for the YAML subset real kubeconfig files use, producing a ``JSONValue``.
///
/// Supported: block mappings and sequences (including sequences at the same indentation as their key),
/// plain, single- and double-quoted scalars (also spanning lines), flow sequences and mappings, literal
/// (`|`) and folded (`>`) block scalars with chomping indicators, comments, a leading `---`, and the
/// YAML 1.2 core schema for plain scalars (null, booleans, integers, floats). Anchors, aliases, tags,
/// complex keys and multiple documents are rejected with an error naming the line.
enum YAMLSubset {
    struct ParseError: Error, Equatable {
        var line: Int
        var message: String
    }

    static func parse(_ text: String) throws(ParseError) -> JSONValue {
        var parser = Parser(text: text)
        return try parser.parseDocument()
    }
}

extension YAMLSubset {
    struct Line {
        var number: Int
        var indent: Int
        /// The line without its indentation (comments still present).
        var content: Substring
        var raw: Substring
        var isBlank: Bool
    }

    struct Parser {
        var lines: [Line]
        var index = 0

        init(text: String) {
            var lines: [Line] = []
            let rawLines = text.split(separator: "\n", omittingEmptySubsequences: false)
            for (offset, rawLine) in rawLines.enumerated() {
                let raw = rawLine.last == "\r" ? rawLine.dropLast() : rawLine
                let indent = raw.prefix(while: { $0 == " " }).count
                let content = raw.dropFirst(indent)
                let trimmed = content.drop(while: { $0 == " " || $0 == "\t" })
                let blank = trimmed.isEmpty || trimmed.first == "#"
                lines.append(Line(number: offset + 1, indent: indent, content: content, raw: raw, isBlank: blank))
            }
            self.lines = lines
        }

        // MARK: - Document

        mutating func parseDocument() throws(ParseError) -> JSONValue {
            self.skipBlank()
            while self.index < self.lines.count, self.lines[self.index].content.hasPrefix("%") {
                self.index += 1
                self.skipBlank()
            }
            if self.index < self.lines.count, Self.isMarker(self.lines[self.index].content, "---") {
                let rest = self.lines[self.index].content.dropFirst(3)
                if Self.stripComment(rest).isEmpty {
                    self.index += 1
                } else {
                    self.lines[self.index].content = rest.drop(while: { $0 == " " })
                    self.lines[self.index].indent += 4
                }
            }
            self.skipBlank()
            guard self.index < self.lines.count else { return .null }
            let value = try self.parseNode(minIndent: 0)
            self.skipBlank()
            if self.index < self.lines.count {
                let line = self.lines[self.index]
                if Self.isMarker(line.content, "...") { return value }
                if Self.isMarker(line.content, "---") {
                    throw ParseError(line: line.number, message: "multiple YAML documents are not supported")
                }
                throw ParseError(line: line.number, message: "unexpected content (check the indentation)")
            }
            return value
        }

        static func isMarker(_ content: Substring, _ marker: String) -> Bool {
            guard content.hasPrefix(marker) else { return false }
            let rest = content.dropFirst(marker.count)
            return rest.isEmpty || rest.first == " " || rest.first == "\t"
        }

        mutating func skipBlank() {
            while self.index < self.lines.count, self.lines[self.index].isBlank { self.index += 1 }
        }

        // MARK: - Block nodes

        /// Parses the node starting at the current (non-blank) line, whose indentation must be at least `minIndent`.
        mutating func parseNode(minIndent: Int) throws(ParseError) -> JSONValue {
            self.skipBlank()
            guard self.index < self.lines.count else { return .null }
            let line = self.lines[self.index]
            guard line.indent >= minIndent else { return .null }
            if line.content.first == "\t" {
                throw ParseError(line: line.number, message: "tabs are not allowed for indentation")
            }
            if Self.isSequenceEntry(line.content) {
                return try self.parseSequence(indent: line.indent)
            }
            if try Self.splitKey(line.content, line: line.number) != nil {
                return try self.parseMapping(indent: line.indent)
            }
            self.index += 1
            return try self.parseInlineValue(line.content, line: line, parentIndent: line.indent - 1)
        }

        static func isSequenceEntry(_ content: Substring) -> Bool {
            content == "-" || content.hasPrefix("- ") || content.hasPrefix("-\t")
        }

        mutating func parseSequence(indent: Int) throws(ParseError) -> JSONValue {
            var items: [JSONValue] = []
            while true {
                self.skipBlank()
                guard self.index < self.lines.count else { break }
                let line = self.lines[self.index]
                guard line.indent == indent, Self.isSequenceEntry(line.content) else {
                    if line.indent > indent {
                        throw ParseError(line: line.number, message: "bad indentation in a sequence")
                    }
                    break
                }
                let afterDash = line.content.dropFirst()
                let spaces = afterDash.prefix(while: { $0 == " " }).count
                let rest = afterDash.dropFirst(spaces)
                if Self.stripComment(rest).isEmpty {
                    self.index += 1
                    self.skipBlank()
                    if self.index < self.lines.count, self.lines[self.index].indent > indent {
                        items.append(try self.parseNode(minIndent: indent + 1))
                    } else {
                        items.append(.null)
                    }
                } else {
                    // Re-read the rest of this line as a node indented to where it starts.
                    self.lines[self.index].indent = indent + 1 + spaces
                    self.lines[self.index].content = rest
                    items.append(try self.parseNode(minIndent: indent + 1))
                }
            }
            return .array(items)
        }

        mutating func parseMapping(indent: Int) throws(ParseError) -> JSONValue {
            var members: [String: JSONValue] = [:]
            while true {
                self.skipBlank()
                guard self.index < self.lines.count else { break }
                let line = self.lines[self.index]
                guard line.indent == indent else {
                    if line.indent > indent {
                        throw ParseError(line: line.number, message: "bad indentation in a mapping")
                    }
                    break
                }
                if Self.isSequenceEntry(line.content) { break }
                guard let (key, rest) = try Self.splitKey(line.content, line: line.number) else {
                    throw ParseError(line: line.number, message: "expected `key: value`")
                }
                if members[key] != nil {
                    throw ParseError(line: line.number, message: "duplicate key `\(key)`")
                }
                self.index += 1
                let value = Self.stripComment(rest)
                if value.isEmpty {
                    self.skipBlank()
                    if self.index < self.lines.count {
                        let next = self.lines[self.index]
                        if next.indent > indent {
                            members[key] = try self.parseNode(minIndent: indent + 1)
                            continue
                        }
                        if next.indent == indent, Self.isSequenceEntry(next.content) {
                            members[key] = try self.parseSequence(indent: indent)
                            continue
                        }
                    }
                    members[key] = .null
                } else {
                    members[key] = try self.parseInlineValue(rest, line: line, parentIndent: indent)
                }
            }
            return .object(members)
        }

        // MARK: - Helpers

        /// Splits `key: rest` when the line is a mapping entry; `nil` when it is not.
        static func splitKey(_ content: Substring, line: Int) throws(ParseError) -> (String, Substring)? {
            guard let first = content.first else { return nil }
            if first == "\"" || first == "'" {
                var scanner = Scanner(text: content, line: line)
                guard let key = try? (first == "\"" ? scanner.doubleQuoted() : scanner.singleQuoted()) else {
                    return nil
                }
                let rest = scanner.rest.drop(while: { $0 == " " })
                guard rest.first == ":" else { return nil }
                let value = rest.dropFirst()
                guard value.isEmpty || value.first == " " || value.first == "\t" else { return nil }
                return (key, value)
            }
            if first == "[" || first == "{" || first == "#" { return nil }
            if first == "?" && (content.count == 1 || content.dropFirst().first == " ") {
                throw ParseError(line: line, message: "complex mapping keys are not supported")
            }
            var position = content.startIndex
            while position < content.endIndex {
                let character = content[position]
                if character == "#", position > content.startIndex,
                    content[content.index(before: position)] == " "
                {
                    return nil
                }
                if character == ":" {
                    let after = content.index(after: position)
                    if after == content.endIndex || content[after] == " " || content[after] == "\t" {
                        let key = content[content.startIndex..<position].trimmingSpaces()
                        return (key, content[after...])
                    }
                }
                position = content.index(after: position)
            }
            return nil
        }

        /// Removes a trailing ` # comment` from plain text and trims spaces.
        static func stripComment(_ text: Substring) -> String {
            var result = text
            var position = text.startIndex
            while position < text.endIndex {
                if text[position] == "#",
                    position == text.startIndex || text[text.index(before: position)] == " "
                        || text[text.index(before: position)] == "\t"
                {
                    result = text[text.startIndex..<position]
                    break
                }
                position = text.index(after: position)
            }
            return result.trimmingSpaces()
        }

        /// The YAML 1.2 core schema for plain scalars.
        static func resolvePlain(_ text: String) -> JSONValue {
            switch text {
            case "", "~", "null", "Null", "NULL": return .null
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
            case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
            case ".nan", ".NaN", ".NAN": return .double(.nan)
            default: break
            }
            if text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-" || $0 == "+") }),
                let value = Int(text.hasPrefix("+") ? String(text.dropFirst()) : text)
            {
                return .int(value)
            }
            if text.hasPrefix("0x"), let value = Int(text.dropFirst(2), radix: 16) { return .int(value) }
            if text.hasPrefix("0o"), let value = Int(text.dropFirst(2), radix: 8) { return .int(value) }
            let floatCharacters = Set("0123456789.eE+-")
            if text.contains(where: \.isNumber), text.allSatisfy({ floatCharacters.contains($0) }),
                text.first != "e", text.first != "E", let value = Double(text)
            {
                return .double(value)
            }
            return .string(text)
        }
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(self.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}

extension String {
    func trimmingSpaces() -> String { self[...].trimmingSpaces() }
}
