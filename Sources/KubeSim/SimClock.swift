import Foundation
import Synchronization

/// The time source of a simulated cluster. Simulated time is measured in seconds from the start of
/// the cluster; controller timings (image pulls, start-up, grace periods) run on it.
public protocol SimClock: Sendable {
    /// Simulated seconds since the cluster started.
    func now() -> Double
    /// The wall-clock date of a simulated instant, written into timestamps.
    func date(at simTime: Double) -> Date
    /// The simulated instant of a wall-clock date (the inverse of ``date(at:)``).
    func simTime(of date: Date) -> Double
    /// How long to really wait for simulated time to reach `simTime`; `nil` when the clock only moves
    /// when told to (a manual clock).
    func realDelay(until simTime: Double) -> Duration?
}

/// Wall-clock time sped up by a factor: one real second is `timeScale` simulated seconds.
/// Timestamps on objects are real wall-clock dates.
public struct ScaledClock: SimClock {
    public let timeScale: Double
    private let start: ContinuousClock.Instant
    private let startDate: Date

    /// - Parameter timeScale: Simulated seconds per real second. Defaults to `1`.
    public init(timeScale: Double = 1) {
        self.timeScale = max(timeScale, 0.000_001)
        self.start = .now
        self.startDate = Date()
    }

    public func now() -> Double {
        let elapsed = ContinuousClock.now - self.start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return seconds * self.timeScale
    }

    public func date(at simTime: Double) -> Date {
        self.startDate.addingTimeInterval(simTime / self.timeScale)
    }

    public func simTime(of date: Date) -> Double {
        date.timeIntervalSince(self.startDate) * self.timeScale
    }

    public func realDelay(until simTime: Double) -> Duration? {
        let delta = max(0, simTime - self.now()) / self.timeScale
        return .nanoseconds(Int64(min(delta, 3600) * 1e9))
    }
}

/// A clock that moves only when a test advances it (through ``SimulatedCluster/advance(by:)``),
/// so controller behaviour is deterministic. Dates start at `startDate`.
public final class ManualClock: SimClock {
    private let current: Mutex<Double>
    private let startDate: Date

    /// - Parameter startDate: The date of simulated time zero. Defaults to 2025-01-01T00:00:00Z.
    public init(startDate: Date = Date(timeIntervalSince1970: 1_735_689_600)) {
        self.current = Mutex(0)
        self.startDate = startDate
    }

    public func now() -> Double { self.current.withLock { $0 } }

    public func date(at simTime: Double) -> Date { self.startDate.addingTimeInterval(simTime) }

    public func simTime(of date: Date) -> Double { date.timeIntervalSince(self.startDate) }

    public func realDelay(until simTime: Double) -> Duration? { nil }

    /// Moves the clock to `simTime` (never backwards).
    public func set(_ simTime: Double) {
        self.current.withLock { $0 = max($0, simTime) }
    }
}

/// A small, seedable random number generator (SplitMix64), so runs with the same `--seed` produce
/// the same names and timings.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { self.state = seed }

    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Kubernetes' "safe" alphabet for generated name suffixes (no vowels, no confusable digits).
    static let nameAlphabet: [Character] = Array("bcdfghjklmnpqrstvwxz2456789")

    mutating func nameSuffix(length: Int = 5) -> String {
        String((0..<length).map { _ in Self.nameAlphabet[Int(self.next() % UInt64(Self.nameAlphabet.count))] })
    }

    mutating func uuid() -> String {
        let a = self.next()
        let b = self.next()
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            bytes[i] = UInt8(truncatingIfNeeded: a >> (8 * i))
            bytes[i + 8] = UInt8(truncatingIfNeeded: b >> (8 * i))
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        return hex[0..<4].joined() + "-" + hex[4..<6].joined() + "-" + hex[6..<8].joined() + "-" + hex[8..<10].joined()
            + "-" + hex[10..<16].joined()
    }

    /// A factor in `[1 - jitter, 1 + jitter]`.
    mutating func jitter(_ jitter: Double) -> Double {
        guard jitter > 0 else { return 1 }
        let unit = Double(self.next() >> 11) / Double(1 << 53)
        return 1 - jitter + 2 * jitter * unit
    }
}
