/// A batch size: a number of pods or a percent of the pods to process (rounded up).
///
/// Decodes from a JSON number (`3`) or string (`"3"`, `"30%"`); encodes a count as a number and a
/// percent as a string.
public enum BatchSize: Sendable, Hashable, Codable, CustomStringConvertible {
    case count(Int)
    case percent(Int)

    /// Parses `"3"` or `"30%"` (surrounding spaces allowed); `nil` when it is neither.
    public init?(parsing text: String) {
        let trimmed = text.trimmingSpaces()
        if trimmed.hasSuffix("%") {
            guard let value = Int(trimmed.dropLast().trimmingSpaces()) else { return nil }
            self = .percent(value)
        } else {
            guard let value = Int(trimmed) else { return nil }
            self = .count(value)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            self = .count(number)
            return
        }
        let text = try container.decode(String.self)
        guard let parsed = BatchSize(parsing: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "batchSize must be a number or a percent like \"30%\", got \"\(text)\""
            )
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .count(let count): try container.encode(count)
        case .percent(let percent): try container.encode("\(percent)%")
        }
    }

    /// `3` or `30%`.
    public var description: String {
        switch self {
        case .count(let count): "\(count)"
        case .percent(let percent): "\(percent)%"
        }
    }

    /// The number of pods per batch out of `total`: a percent rounds up and is at least 1.
    public func pods(of total: Int) -> Int {
        switch self {
        case .count(let count): return count
        case .percent(let percent): return max(1, (total * percent + 99) / 100)
        }
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
