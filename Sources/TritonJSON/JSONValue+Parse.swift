/// A JSON text that could not be parsed.
public struct JSONParseError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var offset: Int
    public var description: String { "invalid JSON at offset \(self.offset): \(self.message)" }
}

extension JSONValue {
    /// Parses a JSON text.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSONValue {
        let array = Array(bytes)
        var parser = JSONParser(bytes: array)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.index != array.count {
            throw JSONParseError(message: "unexpected data after the value", offset: parser.index)
        }
        return value
    }

    /// Parses a JSON text given as a string.
    public static func parse(_ string: String) throws(JSONParseError) -> JSONValue {
        try self.parse(Array(string.utf8))
    }
}

private struct JSONParser {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func skipWhitespace() {
        while self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case 0x20, 0x0A, 0x0D, 0x09: self.index += 1
            default: return
            }
        }
    }

    func fail(_ message: String) -> JSONParseError { JSONParseError(message: message, offset: self.index) }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth < 512 else { throw self.fail("nesting too deep") }
        guard self.index < self.bytes.count else { throw self.fail("unexpected end of input") }
        switch self.bytes[self.index] {
        case UInt8(ascii: "{"): return try self.parseObject(depth: depth)
        case UInt8(ascii: "["): return try self.parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try self.parseString())
        case UInt8(ascii: "t"): try self.expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try self.expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try self.expect("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try self.parseNumber()
        default: throw self.fail("unexpected character")
        }
    }

    mutating func expect(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard self.index + count <= self.bytes.count else { throw self.fail("unexpected end of input") }
        let matches = literal.withUTF8Buffer { buffer in
            buffer.elementsEqual(self.bytes[self.index..<(self.index + count)])
        }
        guard matches else { throw self.fail("invalid literal") }
        self.index += count
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        self.index += 1
        var object: [String: JSONValue] = [:]
        self.skipWhitespace()
        if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "}") {
            self.index += 1
            return .object(object)
        }
        while true {
            self.skipWhitespace()
            guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "\"") else {
                throw self.fail("expected a member name")
            }
            let key = try self.parseString()
            self.skipWhitespace()
            guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: ":") else {
                throw self.fail("expected ':'")
            }
            self.index += 1
            self.skipWhitespace()
            object[key] = try self.parseValue(depth: depth + 1)
            self.skipWhitespace()
            guard self.index < self.bytes.count else { throw self.fail("unexpected end of input") }
            if self.bytes[self.index] == UInt8(ascii: ",") {
                self.index += 1
                continue
            }
            if self.bytes[self.index] == UInt8(ascii: "}") {
                self.index += 1
                return .object(object)
            }
            throw self.fail("expected ',' or '}'")
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        self.index += 1
        var array: [JSONValue] = []
        self.skipWhitespace()
        if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "]") {
            self.index += 1
            return .array(array)
        }
        while true {
            self.skipWhitespace()
            array.append(try self.parseValue(depth: depth + 1))
            self.skipWhitespace()
            guard self.index < self.bytes.count else { throw self.fail("unexpected end of input") }
            if self.bytes[self.index] == UInt8(ascii: ",") {
                self.index += 1
                continue
            }
            if self.bytes[self.index] == UInt8(ascii: "]") {
                self.index += 1
                return .array(array)
            }
            throw self.fail("expected ',' or ']'")
        }
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = self.index
        var isInteger = true
        while self.index < self.bytes.count {
            let c = self.bytes[self.index]
            if (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") {
                self.index += 1
            } else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                isInteger = false
                self.index += 1
            } else {
                break
            }
        }
        let text = String(decoding: self.bytes[start..<self.index], as: UTF8.self)
        if isInteger, let i = Int(text) { return .int(i) }
        guard let d = Double(text) else { throw JSONParseError(message: "invalid number", offset: start) }
        return .double(d)
    }

    mutating func parseString() throws(JSONParseError) -> String {
        self.index += 1
        let start = self.index
        // Fast path: no escapes.
        while self.index < self.bytes.count {
            let c = self.bytes[self.index]
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: self.bytes[start..<self.index], as: UTF8.self)
                self.index += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw self.fail("control character in string") }
            self.index += 1
        }
        var buffer = Array(self.bytes[start..<self.index])
        while self.index < self.bytes.count {
            let c = self.bytes[self.index]
            if c == UInt8(ascii: "\"") {
                self.index += 1
                return String(decoding: buffer, as: UTF8.self)
            }
            if c == UInt8(ascii: "\\") {
                self.index += 1
                guard self.index < self.bytes.count else { break }
                let e = self.bytes[self.index]
                self.index += 1
                switch e {
                case UInt8(ascii: "\""): buffer.append(0x22)
                case UInt8(ascii: "\\"): buffer.append(0x5C)
                case UInt8(ascii: "/"): buffer.append(0x2F)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try self.parseHex4()
                    if scalar >= 0xD800 && scalar < 0xDC00,
                        self.index + 1 < self.bytes.count,
                        self.bytes[self.index] == UInt8(ascii: "\\"), self.bytes[self.index + 1] == UInt8(ascii: "u")
                    {
                        self.index += 2
                        let low = try self.parseHex4()
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low &- 0xDC00)
                    }
                    let unicode = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                    buffer.append(contentsOf: Array(String(Character(unicode)).utf8))
                default:
                    throw self.fail("invalid escape")
                }
                continue
            }
            if c < 0x20 { throw self.fail("control character in string") }
            buffer.append(c)
            self.index += 1
        }
        throw self.fail("unterminated string")
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard self.index + 4 <= self.bytes.count else { throw self.fail("invalid \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = self.bytes[self.index]
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw self.fail("invalid \\u escape")
            }
            value = value * 16 + digit
            self.index += 1
        }
        return value
    }
}
