import TritonJSON

extension YAMLSubset {
    /// Reads quoted scalars and flow collections from one (possibly joined) line of text.
    struct Scanner {
        static let endOfInput = "unexpected end of input"

        var text: Substring
        var line: Int

        init(text: Substring, line: Int) {
            self.text = text
            self.line = line
        }

        var rest: Substring { self.text }

        func error(_ message: String) -> ParseError { ParseError(line: self.line, message: message) }

        mutating func skipSpaces() {
            self.text = self.text.drop(while: { $0 == " " || $0 == "\t" })
        }

        mutating func doubleQuoted() throws(ParseError) -> String {
            self.text = self.text.dropFirst()
            var result = ""
            while let character = self.text.first {
                self.text = self.text.dropFirst()
                switch character {
                case "\"":
                    return result
                case "\\":
                    guard let escape = self.text.first else { throw self.error(Self.endOfInput) }
                    self.text = self.text.dropFirst()
                    switch escape {
                    case "n": result.append("\n")
                    case "t": result.append("\t")
                    case "r": result.append("\r")
                    case "0": result.append("\0")
                    case "\\": result.append("\\")
                    case "\"": result.append("\"")
                    case "/": result.append("/")
                    case " ": result.append(" ")
                    case "e": result.append("\u{1B}")
                    case "x", "u", "U":
                        let length = escape == "x" ? 2 : (escape == "u" ? 4 : 8)
                        let digits = self.text.prefix(length)
                        guard digits.count == length, let code = UInt32(digits, radix: 16),
                            let scalar = Unicode.Scalar(code)
                        else { throw self.error("bad escape in a double-quoted string") }
                        result.unicodeScalars.append(scalar)
                        self.text = self.text.dropFirst(length)
                    default:
                        throw self.error("unknown escape `\\\(escape)` in a double-quoted string")
                    }
                default:
                    result.append(character)
                }
            }
            throw self.error(Self.endOfInput)
        }

        mutating func singleQuoted() throws(ParseError) -> String {
            self.text = self.text.dropFirst()
            var result = ""
            while let character = self.text.first {
                self.text = self.text.dropFirst()
                if character == "'" {
                    if self.text.first == "'" {
                        result.append("'")
                        self.text = self.text.dropFirst()
                    } else {
                        return result
                    }
                } else {
                    result.append(character)
                }
            }
            throw self.error(Self.endOfInput)
        }

        mutating func flowValue() throws(ParseError) -> JSONValue {
            self.skipSpaces()
            guard let first = self.text.first else { throw self.error(Self.endOfInput) }
            switch first {
            case "[":
                self.text = self.text.dropFirst()
                var items: [JSONValue] = []
                while true {
                    self.skipSpaces()
                    guard let next = self.text.first else { throw self.error(Self.endOfInput) }
                    if next == "]" {
                        self.text = self.text.dropFirst()
                        return .array(items)
                    }
                    items.append(try self.flowValue())
                    self.skipSpaces()
                    guard let separator = self.text.first else { throw self.error(Self.endOfInput) }
                    if separator == "," {
                        self.text = self.text.dropFirst()
                    } else if separator != "]" {
                        throw self.error("expected `,` or `]` in a flow sequence")
                    }
                }
            case "{":
                self.text = self.text.dropFirst()
                var members: [String: JSONValue] = [:]
                while true {
                    self.skipSpaces()
                    guard let next = self.text.first else { throw self.error(Self.endOfInput) }
                    if next == "}" {
                        self.text = self.text.dropFirst()
                        return .object(members)
                    }
                    guard let key = try self.flowValue().scalarText else {
                        throw self.error("flow mapping keys must be scalars")
                    }
                    self.skipSpaces()
                    guard self.text.first == ":" else { throw self.error("expected `:` in a flow mapping") }
                    self.text = self.text.dropFirst()
                    members[key] = try self.flowValue()
                    self.skipSpaces()
                    guard let separator = self.text.first else { throw self.error(Self.endOfInput) }
                    if separator == "," {
                        self.text = self.text.dropFirst()
                    } else if separator != "}" {
                        throw self.error("expected `,` or `}` in a flow mapping")
                    }
                }
            case "\"":
                return .string(try self.doubleQuoted())
            case "'":
                return .string(try self.singleQuoted())
            default:
                var plain = ""
                while let character = self.text.first, !",]}".contains(character) {
                    if character == ":" {
                        let after = self.text.dropFirst().first
                        if after == nil || after == " " || after == "," || after == "]" || after == "}" { break }
                    }
                    plain.append(character)
                    self.text = self.text.dropFirst()
                }
                if self.text.isEmpty { throw self.error(Self.endOfInput) }
                return Parser.resolvePlain(plain.trimmingSpaces())
            }
        }
    }
}
