import Synchronization

/// A token bucket: `burst` requests at once, then `qps` per second. Pure; time is passed in.
///
/// `reserve` always succeeds and returns how long the caller must wait, so waiters queue up in order
/// (client-go's `tokenBucketRateLimiter` behaves the same way).
struct TokenBucket: Sendable, Hashable {
    var qps: Double
    var burst: Int
    private(set) var tokens: Double
    private(set) var last: Duration?

    init(qps: Double, burst: Int) {
        self.qps = qps
        self.burst = max(1, burst)
        self.tokens = Double(max(1, burst))
    }

    /// Takes a token at time `now` (any monotonic offset); returns the wait before the request may go.
    mutating func reserve(now: Duration) -> Duration {
        guard self.qps > 0 else { return .zero }
        if let last = self.last {
            let elapsed = (now - last).seconds
            self.tokens = min(Double(self.burst), self.tokens + max(0, elapsed) * self.qps)
        }
        self.last = now
        self.tokens -= 1
        if self.tokens >= 0 { return .zero }
        return .seconds(-self.tokens / self.qps)
    }
}

/// The client-side rate limiter: a ``TokenBucket`` behind a `Mutex`, sleeping outside the lock.
final class RateLimiter: Sendable {
    private let bucket: Mutex<TokenBucket>
    private let origin = ContinuousClock.now

    init(qps: Double, burst: Int) {
        self.bucket = Mutex(TokenBucket(qps: qps, burst: burst))
    }

    func acquire() async throws {
        let now = ContinuousClock.now - self.origin
        let wait = self.bucket.withLock { $0.reserve(now: now) }
        if wait > .zero { try await Task.sleep(for: wait) }
    }
}
