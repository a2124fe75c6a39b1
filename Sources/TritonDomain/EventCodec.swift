import Foundation

/// The JSON form of events: sorted keys, dates as ISO-8601 UTC with milliseconds
/// (`2025-01-31T12:00:00.250Z`). Times are kept to the millisecond.
public enum EventJSON {
    /// A JSON encoder with the event conventions.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(ISO8601Milliseconds.string(from: date))
        }
        return encoder
    }

    /// A JSON decoder with the event conventions.
    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = ISO8601Milliseconds.date(from: text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "expected an ISO-8601 UTC time, got \"\(text)\""
                )
            }
            return date
        }
        return decoder
    }
}

/// An event type name that no payload has.
public struct UnknownEventType: Error, Sendable, Hashable {
    public var type: String
    public init(type: String) { self.type = type }
}

/// ISO-8601 UTC timestamps with milliseconds, formatted and parsed without a calendar or locale.
public enum ISO8601Milliseconds {
    /// `yyyy-MM-ddTHH:mm:ss.SSSZ`, rounded to the millisecond.
    public static func string(from date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let (seconds, ms) = Self.floorDivMod(millis, 1000)
        let (days, secondOfDay) = Self.floorDivMod(seconds, 86_400)
        let (year, month, day) = Self.civil(fromDays: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay % 3600 / 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(ms, 3))Z"
    }

    /// Parses `yyyy-MM-ddTHH:mm:ss[.fraction]Z` (or `+00:00`); `nil` for anything else.
    public static func date(from text: String) -> Date? {
        var body = Substring(text)
        if body.hasSuffix("Z") {
            body = body.dropLast()
        } else if body.hasSuffix("+00:00") {
            body = body.dropLast(6)
        } else {
            return nil
        }
        let parts = body.split(separator: "T", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let dateParts = parts[0].split(separator: "-", omittingEmptySubsequences: false)
        let timeAndFraction = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        guard dateParts.count == 3, (1...2).contains(timeAndFraction.count) else { return nil }
        let timeParts = timeAndFraction[0].split(separator: ":", omittingEmptySubsequences: false)
        guard timeParts.count == 3,
            let year = Int64(dateParts[0]), let month = Int64(dateParts[1]), let day = Int64(dateParts[2]),
            let hour = Int64(timeParts[0]), let minute = Int64(timeParts[1]), let second = Int64(timeParts[2]),
            (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute),
            (0...60).contains(second)
        else { return nil }
        var millis: Int64 = 0
        if timeAndFraction.count == 2 {
            let digits = timeAndFraction[1]
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let _ = Int64(digits) else { return nil }
            let three = String((digits + "000").prefix(3))
            guard let value = Int64(three) else { return nil }
            millis = value
        }
        let days = Self.days(fromCivil: year, month, day)
        let total = ((days * 86_400 + hour * 3600 + minute * 60 + second) * 1000) + millis
        return Date(timeIntervalSince1970: Double(total) / 1000)
    }

    private static func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a >= 0 ? a / b : -((-a + b - 1) / b)
        return (q, a - q * b)
    }

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian, days since 1970-01-01).
    private static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension DeployFlow.Event: Codable, TaggedEvent {
    /// Every payload type, for decoding by type name.
    public static let payloadTypes: [any EventPayload.Type] = [
        DeployFlow.FlowCreated.self, DeployFlow.FlowInitializing.self, DeployFlow.WorkloadObserved.self,
        DeployFlow.PodObserved.self, DeployFlow.PodAssigned.self, DeployFlow.BatchStarted.self,
        DeployFlow.BatchPhaseChanged.self, DeployFlow.PullOutStarted.self, DeployFlow.DeletionRequested.self,
        DeployFlow.BatchFinished.self, DeployFlow.TimerScheduled.self, DeployFlow.TimerFired.self,
        DeployFlow.TimerCanceled.self, DeployFlow.MutationApplied.self, DeployFlow.Paused.self,
        DeployFlow.Resumed.self, DeployFlow.NextRequested.self, DeployFlow.ContinueRequested.self,
        DeployFlow.Canceled.self, DeployFlow.FlowSucceeded.self, DeployFlow.FlowFailed.self,
        DeployFlow.FlowAborted.self, DeployFlow.EmergencyDeclared.self, DeployFlow.EmergencyReviewed.self,
    ]

    /// The payload of the event.
    public var payload: any DeployFlowEventPayload {
        switch self {
        case .flowCreated(let p): p
        case .flowInitializing(let p): p
        case .workloadObserved(let p): p
        case .podObserved(let p): p
        case .podAssigned(let p): p
        case .batchStarted(let p): p
        case .batchPhaseChanged(let p): p
        case .pullOutStarted(let p): p
        case .deletionRequested(let p): p
        case .batchFinished(let p): p
        case .timerScheduled(let p): p
        case .timerFired(let p): p
        case .timerCanceled(let p): p
        case .mutationApplied(let p): p
        case .paused(let p): p
        case .resumed(let p): p
        case .nextRequested(let p): p
        case .continueRequested(let p): p
        case .canceled(let p): p
        case .flowSucceeded(let p): p
        case .flowFailed(let p): p
        case .flowAborted(let p): p
        case .emergencyDeclared(let p): p
        case .emergencyReviewed(let p): p
        }
    }

    public var erasedPayload: any EventPayload { self.payload }

    public static func wrap(_ payload: any EventPayload) -> DeployFlow.Event? {
        (payload as? any DeployFlowEventPayload)?.event
    }

    /// Decodes `{"type": …, "data": {…}}`.
    public init(from decoder: any Decoder) throws { self = try Self.decodeTagged(from: decoder) }

    /// Encodes `{"type": …, "data": {…}}`.
    public func encode(to encoder: any Encoder) throws { try self.encodeTagged(to: encoder) }
}

/// An event enum whose every case wraps one payload type: stored as the payload's type name and its
/// JSON (`encodedData`), or in one JSON object `{"type": …, "data": {…}}` (`Codable`).
public protocol TaggedEvent: Sendable {
    /// Every payload type, for decoding by type name.
    static var payloadTypes: [any EventPayload.Type] { get }
    /// The payload of the event.
    var erasedPayload: any EventPayload { get }
    /// The event that wraps `payload`, or `nil` when it is not one of this enum's payloads.
    static func wrap(_ payload: any EventPayload) -> Self?
}

private enum TaggedEventKeys: String, CodingKey { case type, data }

extension TaggedEvent {
    /// The stored event type, e.g. `"BatchStarted"`.
    public var typeName: String { type(of: self.erasedPayload).typeName }

    /// The payload as JSON (sorted keys, ISO-8601 millisecond dates): the stored `data`.
    public func encodedData() throws -> Data {
        try EventJSON.makeEncoder().encode(self.erasedPayload)
    }

    /// Rebuilds an event from its stored type name and `data`.
    public static func decode(type: String, data: Data) throws -> Self {
        func open<P: EventPayload>(_: P.Type) throws -> any EventPayload {
            try EventJSON.makeDecoder().decode(P.self, from: data)
        }
        return try Self.wrapping(type: type) { try open($0) }
    }

    /// Decodes `{"type": …, "data": {…}}`.
    public static func decodeTagged(from decoder: any Decoder) throws -> Self {
        let container = try decoder.container(keyedBy: TaggedEventKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        func open<P: EventPayload>(_: P.Type) throws -> any EventPayload {
            try container.decode(P.self, forKey: .data)
        }
        return try Self.wrapping(type: type) { try open($0) }
    }

    /// Encodes `{"type": …, "data": {…}}`.
    public func encodeTagged(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: TaggedEventKeys.self)
        try container.encode(self.typeName, forKey: .type)
        try container.encode(self.erasedPayload, forKey: .data)
    }

    private static func wrapping(
        type: String, _ decode: (any EventPayload.Type) throws -> any EventPayload
    ) throws -> Self {
        guard let payloadType = Self.payloadTypes.first(where: { $0.typeName == type }),
            let event = Self.wrap(try decode(payloadType))
        else { throw UnknownEventType(type: type) }
        return event
    }
}
