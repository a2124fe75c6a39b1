import TritonJSON

/// Values that start on a key's or a dash's line: plain, quoted and block scalars, flow collections,
/// and the YAML 1.2 core schema for plain scalars.
extension YAMLSubset.Parser {
    /// Parses a value that starts on `line` after a key or a dash; continuation lines must be indented
    /// deeper than `parentIndent`.
    mutating func parseInlineValue(
        _ text: Substring,
        line: YAMLSubset.Line,
        parentIndent: Int
    ) throws(YAMLSubset.ParseError) -> JSONValue {
        let text = text.drop(while: { $0 == " " })
        guard let first = text.first else { return .null }
        switch first {
        case "|", ">":
            return .string(try self.parseBlockScalar(header: text, line: line, parentIndent: parentIndent))
        case "&", "*", "!":
            throw YAMLSubset.ParseError(line: line.number, message: "anchors, aliases and tags are not supported")
        case "\"", "'":
            var combined = String(text)
            while true {
                var scanner = YAMLSubset.Scanner(text: combined[...], line: line.number)
                if first == "\"" {
                    if let value = try? scanner.doubleQuoted() {
                        try self.expectEnd(scanner.rest, line: line)
                        return .string(value)
                    }
                } else if let value = try? scanner.singleQuoted() {
                    try self.expectEnd(scanner.rest, line: line)
                    return .string(value)
                }
                guard self.index < self.lines.count, self.lines[self.index].indent > parentIndent
                    || self.lines[self.index].isBlank
                else {
                    throw YAMLSubset.ParseError(line: line.number, message: "unterminated quoted string")
                }
                let next = self.lines[self.index]
                self.index += 1
                let piece = next.content.trimmingSpaces()
                combined += piece.isEmpty ? "\n" : (combined.hasSuffix("\n") ? "" : " ") + piece
            }
        case "[", "{":
            var combined = String(Self.stripComment(text))
            while true {
                var scanner = YAMLSubset.Scanner(text: combined[...], line: line.number)
                do {
                    let value = try scanner.flowValue()
                    try self.expectEnd(scanner.rest, line: line)
                    return value
                } catch let error where error.message == YAMLSubset.Scanner.endOfInput {
                    guard self.index < self.lines.count, self.lines[self.index].indent > parentIndent
                        || self.lines[self.index].isBlank
                    else {
                        throw YAMLSubset.ParseError(line: line.number, message: "unterminated flow collection")
                    }
                    combined += " " + Self.stripComment(self.lines[self.index].content)
                    self.index += 1
                }
            }
        default:
            var pieces = [Self.stripComment(text)]
            while self.index < self.lines.count {
                let next = self.lines[self.index]
                if next.isBlank {
                    // A blank line inside a multi-line plain scalar is a line break; look past it.
                    var lookahead = self.index
                    while lookahead < self.lines.count, self.lines[lookahead].isBlank { lookahead += 1 }
                    guard lookahead < self.lines.count, self.lines[lookahead].indent > parentIndent,
                        self.lines[lookahead].content.first != "#"
                    else { break }
                    pieces.append("\n")
                    self.index = lookahead
                    continue
                }
                guard next.indent > parentIndent else { break }
                if try Self.splitKey(next.content, line: next.number) != nil || Self.isSequenceEntry(next.content) {
                    throw YAMLSubset.ParseError(line: next.number, message: "bad indentation")
                }
                pieces.append(Self.stripComment(next.content))
                self.index += 1
            }
            if pieces.count == 1 { return Self.resolvePlain(pieces[0]) }
            var folded = ""
            for piece in pieces {
                if piece == "\n" {
                    folded += "\n"
                } else {
                    if !folded.isEmpty, !folded.hasSuffix("\n") { folded += " " }
                    folded += piece
                }
            }
            return .string(folded)
        }
    }

    func expectEnd(_ rest: Substring, line: YAMLSubset.Line) throws(YAMLSubset.ParseError) {
        if !Self.stripComment(rest).isEmpty {
            throw YAMLSubset.ParseError(line: line.number, message: "unexpected text after a value")
        }
    }

    mutating func parseBlockScalar(
        header: Substring,
        line: YAMLSubset.Line,
        parentIndent: Int
    ) throws(YAMLSubset.ParseError) -> String {
        let literal = header.first == "|"
        var chomp: Character = " "
        var explicitIndent: Int?
        for character in Self.stripComment(header.dropFirst()) {
            if character == "-" || character == "+" {
                chomp = character
            } else if let digit = character.wholeNumberValue, digit > 0 {
                explicitIndent = digit
            } else {
                throw YAMLSubset.ParseError(line: line.number, message: "bad block scalar header")
            }
        }
        var body: [Substring] = []
        var contentIndent: Int? = explicitIndent.map { max(parentIndent, 0) + $0 }
        while self.index < self.lines.count {
            let next = self.lines[self.index]
            let isEmpty = next.raw.allSatisfy { $0 == " " }
            if isEmpty {
                body.append("")
                self.index += 1
                continue
            }
            if contentIndent == nil {
                guard next.indent > parentIndent else { break }
                contentIndent = next.indent
            }
            guard let indent = contentIndent, next.indent >= indent else { break }
            body.append(next.raw.dropFirst(indent))
            self.index += 1
        }
        var trailingEmpty = 0
        while let last = body.last, last.isEmpty {
            body.removeLast()
            trailingEmpty += 1
        }
        var text = ""
        if literal {
            text = body.joined(separator: "\n")
        } else {
            enum Previous { case none, empty, text, indented }
            var previous = Previous.none
            for piece in body {
                if piece.isEmpty {
                    text += "\n"
                    previous = .empty
                    continue
                }
                let moreIndented = piece.first == " " || piece.first == "\t"
                switch (previous, moreIndented) {
                case (.text, false): text += " "
                case (.text, true), (.indented, _): text += "\n"
                case (.none, _), (.empty, _): break
                }
                text += piece
                previous = moreIndented ? .indented : .text
            }
        }
        switch chomp {
        case "-": return text
        case "+":
            let kept = String(repeating: "\n", count: trailingEmpty)
            return body.isEmpty ? kept : text + "\n" + kept
        default: return body.isEmpty ? "" : text + "\n"
        }
    }
}
