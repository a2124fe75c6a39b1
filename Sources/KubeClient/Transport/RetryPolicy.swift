/// When and how long to retry a failed request.
///
/// Retried: connection failures where the request never reached the server (any method), `429` (the server
/// rejected the request before running it; any method), and `5xx`, timeouts and other transport failures on
/// idempotent methods (`GET`, `HEAD`, `PUT`, `DELETE`). The delay is exponential with jitter, or the
/// server's `Retry-After` when it sent one.
public struct RetryPolicy: Sendable, Hashable {
    /// Retries after the first attempt; `0` disables retrying. Defaults to `4`.
    public var maxRetries: Int
    /// The delay before the first retry. Defaults to `200` milliseconds.
    public var initialBackoff: Duration
    /// The longest delay between attempts (also caps `Retry-After`). Defaults to `10` seconds.
    public var maxBackoff: Duration
    /// Growth per attempt. Defaults to `2`.
    public var multiplier: Double
    /// The random fraction of each delay, `0...1`. Defaults to `0.5` (a delay `d` becomes `d·(0.5…1.0)`).
    public var jitter: Double

    /// Creates a policy.
    public init(
        maxRetries: Int = 4,
        initialBackoff: Duration = .milliseconds(200),
        maxBackoff: Duration = .seconds(10),
        multiplier: Double = 2,
        jitter: Double = 0.5
    ) {
        self.maxRetries = maxRetries
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// Never retry.
    public static let none = RetryPolicy(maxRetries: 0)

    /// Whether a failure of `method` with `error` should be retried (ignoring the attempt count).
    public func isRetryable(_ error: KubeError, method: String) -> Bool {
        let idempotent = ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"].contains(method)
        switch error.code {
        case .connectionFailed, .tooManyRequests:
            return true
        case .internalError, .serviceUnavailable, .serverTimeout, .requestTimedOut, .transport:
            return idempotent
        default:
            return false
        }
    }

    /// The delay before retry number `attempt` (1-based), honouring `retryAfter` when given.
    public func delay(attempt: Int, retryAfter: Duration? = nil, random: Double = Double.random(in: 0...1)) -> Duration {
        if let retryAfter { return min(retryAfter, self.maxBackoff) }
        let maximum = self.maxBackoff.seconds
        var seconds = self.initialBackoff.seconds
        for _ in 1..<max(1, attempt) where seconds < maximum {
            seconds *= self.multiplier
        }
        let factor = 1 - self.jitter + self.jitter * min(max(random, 0), 1)
        return .seconds(min(seconds, maximum) * factor)
    }
}

extension Duration {
    var seconds: Double {
        Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18
    }
}
