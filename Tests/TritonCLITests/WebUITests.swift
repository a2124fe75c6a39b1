import Foundation
import Testing

/// The web UI in a real browser: headless Chromium through chromedriver and Selenium
/// (`ops/ui-browser-test.sh` → `Tests/ui/canary_ui.py`) performs the article's canary release against
/// `triton serve` and a standalone `triton sim`, kills and restarts `serve` mid-release, and checks
/// the page catches up by itself. Screenshots go to `.build/test-output/ui`.
@Suite("The web UI in headless Chromium", .timeLimit(.minutes(6)))
struct WebUITests {
    static let output = ManifestTests.root.appendingPathComponent(".build/test-output/ui")

    @Test("the canary release through the page: the form's previewed plan, the canary Smoked with its tiles, next twice, serve killed and back, continue, Success; a viewer sees no button")
    func canaryReleaseInTheBrowser() async throws {
        try? FileManager.default.removeItem(at: Self.output)
        let result = try await CLITests.run(
            URL(fileURLWithPath: "/bin/bash"),
            [
                ManifestTests.root.appendingPathComponent("ops/ui-browser-test.sh").path, CLITests.binary.path,
                try CLITests.databaseURL(), CLITests.freshSchema(), Self.output.path,
            ]
        )
        #expect(result.status == 0, "\(result.stdout.suffix(4000))\n\(result.stderr.suffix(4000))")
        #expect(result.stdout.hasSuffix("[ui] ok\n"), "\(result.stdout.suffix(2000))")
        for name in ["release-form", "flow-canary-smoked", "flow-mid-release", "flow-mid-release-phone", "fleet"] {
            let data = try Data(contentsOf: Self.output.appendingPathComponent("\(name).png"))
            #expect(data.starts(with: [0x89, 0x50, 0x4E, 0x47]) && data.count > 10_000, "\(name).png is not a screenshot")
        }
    }
}
