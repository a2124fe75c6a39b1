import Foundation
import Testing

/// Open mode (no tokens file) is for the local demo: `serve` says loudly that it is open, and will not
/// serve an open API on an address other machines reach unless told `--insecure-open`.
@Suite("triton serve in open mode", .timeLimit(.minutes(2)))
struct OpenModeTests {
    @Test func refusesAnOpenAPIOnANonLoopbackAddress() async throws {
        let refused = try await CLITests.triton([
            "serve", "--database-url", try CLITests.databaseURL(), "--schema", CLITests.freshSchema(), "--http-host", "0.0.0.0",
            "--http-port", "0", "--grpc-port", "0", "--sim-port", "0",
        ])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--http-host 0.0.0.0: refusing to serve an OPEN API"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--insecure-open"))
    }

    @Test func warnsThatTheAPIIsOpenOnLoopback() async throws {
        let w = try ServeTests.Workspace()
        let serve = try await w.serve()
        #expect(serve.output.contains("WARNING: the API is OPEN (no --tokens-file)"), "\(serve.output)")
        _ = try await serve.stop()
    }
}
