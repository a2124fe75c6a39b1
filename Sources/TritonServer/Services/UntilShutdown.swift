import ServiceLifecycle

/// Runs `body` until the graceful shutdown cancels it. With `retrying`, a failure (the database went
/// away, an event that cannot be projected) does not stop the server and every release with it: it is
/// reported and the body runs again after a pause (1 s, doubling up to 30 s; back to 1 s after a run of
/// a minute or more).
func runUntilShutdown(
    _ name: String, retrying: Bool, output: TritonServer.Output, _ body: @escaping @Sendable () async throws -> Void
) async throws {
    do {
        try await cancelWhenGracefulShutdown {
            guard retrying else { return try await body() }
            var pause: Duration = .seconds(1)
            while true {
                let started = ContinuousClock.now
                do {
                    try await body()
                    return
                } catch let error where !(error is CancellationError) && !Task.isCancelled {
                    if ContinuousClock.now - started >= .seconds(60) { pause = .seconds(1) }
                    output.problem("\(name) failed: \(String(reflecting: error)); trying again in \(pause)")
                    try await Task.sleep(for: pause)
                    pause = min(pause * 2, .seconds(30))
                }
            }
        }
    } catch is CancellationError {
        // Stopped by the shutdown, as asked.
    }
}
