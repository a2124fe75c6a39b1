import EventStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PostgresStore
import Testing
import TritonAPI
import TritonProjections
import TritonReports
import TritonTesting

extension RESTTests {
    /// Where tests leave what a person looks at (screenshots, reports): `.build/test-output/`.
    static var testOutput: URL {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let folder = root.appendingPathComponent(".build/test-output/reports")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test("A period report over a normal, a canceled, a failed and an emergency release: each shown as it was; compliance records; CSV, HTML (screenshot in headless Chromium) and PDF (pdftotext) with the same release ids")
    func periodReportAndComplianceRecords() async throws {
        let h = try await APIHarness()
        defer { h.store.shutdown() }
        let start = Date()
        try await h.run { client in
            func call(_ method: HTTPRequest.Method, _ path: String, _ token: String, _ body: String? = nil) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(uri: path, method: method, headers: APIHarness.headers(token), body: body.map { ByteBuffer(string: $0) }) {
                    ($0.status, try APIHarness.json($0))
                }
            }
            func raw(_ path: String) async throws -> (HTTPResponse.Status, Data, String?) {
                try await client.execute(uri: path, method: .get, headers: APIHarness.headers("viewer-token-1")) {
                    ($0.status, Data($0.body.readableBytesView), $0.headers[.contentType])
                }
            }
            let flows = "/api/v1/namespaces/prod/deployflows"
            func finish(_ name: String) async throws -> [String: Any] {
                try await APIHarness.waitFor(client, name) { $0["finished"] as? Bool == true }
            }
            // A plain create (auto: nothing waits for a decision), then the canary update dave asks and anna approves.
            let (_, created) = try await call(.post, flows, "deployer-token-1", APIHarness.createBody)
            let create = try #require(created["name"] as? String)
            _ = try await finish(create)
            try await Task.sleep(for: .milliseconds(300))
            let (_, updated) = try await call(.post, flows, "deployer-token-1", APIHarness.updateBody("shop/checkout:v2"))
            let normal = try #require(updated["name"] as? String)
            while true {
                let flow = try await APIHarness.waitFor(client, normal) { $0["finished"] as? Bool == true || $0["waiting"] != nil }
                if flow["finished"] as? Bool == true { break }
                let (status, body) = try await call(.post, "\(flows)/\(normal)/next", "approver-token-1", #"{"reason": "looks good"}"#)
                #expect(status == .ok, "\(body)")
            }
            // Canceled by lena.
            try await Task.sleep(for: .milliseconds(300))
            let (_, third) = try await call(.post, flows, "deployer-token-1", APIHarness.updateBody("shop/checkout:v3"))
            let canceled = try #require(third["name"] as? String)
            _ = try await APIHarness.waitFor(client, canceled) { APIHarness.batchPhase($0, 1) == "Smoked" }
            _ = try await call(.post, "\(flows)/\(canceled)/cancel", "lead-token-1", #"{"reason": "wrong build"}"#)
            _ = try await finish(canceled)
            // An emergency: root passes the canary of his own release, not reviewed.
            try await Task.sleep(for: .milliseconds(300))
            let (_, fourth) = try await call(.post, flows, "admin-token-1", APIHarness.updateBody("shop/checkout:v4"))
            let emergency = try #require(fourth["name"] as? String)
            _ = try await APIHarness.waitFor(client, emergency) { APIHarness.batchPhase($0, 1) == "Smoked" }
            let (passed, flagged) = try await call(
                .post, "\(flows)/\(emergency)/next", "admin-token-1", #"{"reason": "checkout down", "emergency": "payments outage"}"#
            )
            #expect(passed == .ok, "\(flagged)")
            // A create that fails: its image cannot be pulled.
            let failing = APIHarness.createBody.replacingOccurrences(of: "checkout", with: "web").replacingOccurrences(of: "shop/web:v1", with: "shop/web:v1-image-pull-failure")
            let (_, fifth) = try await call(.post, flows, "deployer-token-1", failing)
            let failed = try #require(fifth["name"] as? String)
            #expect(try await finish(failed)["phase"] as? String == "Failed")

            // The compliance record of the approved release.
            let (recordStatus, recordData, _) = try await raw("/api/v1/deployflows/\(normal)/compliance")
            #expect(recordStatus == .ok)
            let record = try FlowStatus.makeDecoder().decode(ComplianceRecord.self, from: recordData)
            #expect(record.release.fromImage == "shop/checkout:v1" && record.release.toImage == "shop/checkout:v2")
            #expect(record.author?.actor == "dave" && record.segregationOfDuties.verdict == "segregated" && record.segregationOfDuties.approvers == ["anna"])
            #expect(record.approvals.first?.canary == true && record.approvals.allSatisfy { $0.actor == "anna" && $0.reason == "looks good" })
            #expect(record.batches.count == record.strategy.plan.count && record.batches.allSatisfy { $0.phase == "Baked" && $0.totalSeconds != nil })
            #expect(record.outcome.phase == "Success" && record.completeness.complete && record.exceptions.isEmpty, "\(record.exceptions) \(record.completeness)")
            #expect(record.integrity.events > 10 && record.integrity.lastPosition > record.integrity.firstPosition)
            let emergencyRecord = try FlowStatus.makeDecoder().decode(ComplianceRecord.self, from: try await raw("/api/v1/deployflows/\(emergency)/compliance").1)
            #expect(emergencyRecord.emergency?.status == "awaiting review" && emergencyRecord.segregationOfDuties.verdict == "emergency")
            #expect(emergencyRecord.exceptions.contains { $0.contains("emergency change declared by root") })

            // The period's report.
            let period = "from=\(ReportText.time(start.addingTimeInterval(-1)))&to=\(ReportText.time(Date().addingTimeInterval(1)))&namespace=prod"
                .replacingOccurrences(of: "+", with: "%2B")
            let (reportStatus, reportData, _) = try await raw("/api/v1/reports?\(period)")
            #expect(reportStatus == .ok, "\(String(decoding: reportData, as: UTF8.self))")
            let report = try FlowStatus.makeDecoder().decode(PeriodReport.self, from: reportData)
            let ids = [create, normal, canceled, emergency, failed]
            #expect(report.releases.map(\.flow) == ids, "\(report.releases.map(\.flow))")
            #expect(report.summary.failed == [failed] && report.summary.canceled == [canceled])
            #expect(report.summary.emergencies == [emergency] && report.summary.emergenciesAwaitingReview == [emergency])
            #expect(report.summary.selfApprovals.isEmpty && report.summary.approvalLatencyMedianSeconds != nil)
            #expect(report.releases.map(\.segregationOfDuties) == ["no-approval", "segregated", "no-approval", "emergency", "no-approval"], "\(report.releases.map(\.segregationOfDuties))")
            #expect(report.releases.first { $0.flow == canceled }?.outcome == "Canceled")
            #expect(report.summary.changeFailureRate.map { abs($0 - 1.0 / 3) < 0.001 } == true, "1 failed of 3 deployments that ran to an end")
            let (_, byAnna, _) = try await raw("/api/v1/reports?\(period)&actor=anna")
            #expect(try FlowStatus.makeDecoder().decode(PeriodReport.self, from: byAnna).releases.map(\.flow) == [normal], "anna approved one release")

            let (csvStatus, csv, csvType) = try await raw("/api/v1/reports?\(period)&format=csv")
            let lines = String(decoding: csv, as: UTF8.self).split(separator: "\r\n")
            #expect(csvStatus == .ok && csvType?.hasPrefix("text/csv") == true && lines.count == 6 && lines[0].hasPrefix("flow,namespace"))
            let (_, html, htmlType) = try await raw("/api/v1/reports?\(period)&format=html")
            #expect(htmlType?.hasPrefix("text/html") == true)
            let page = String(decoding: html, as: UTF8.self)
            #expect(ids.allSatisfy(page.contains) && page.contains("payments outage") == false && page.contains("Awaiting review"))
            let folder = Self.testOutput
            let htmlFile = folder.appendingPathComponent("period-report.html")
            try html.write(to: htmlFile)
            try Data(ReportHTML.record(record).utf8).write(to: folder.appendingPathComponent("compliance-record.html"))
            let shot = try await TestTools.run(
                "chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--screenshot=\(folder.appendingPathComponent("period-report.png").path)", "--window-size=1280,1400", htmlFile.absoluteString]
            )
            #expect(shot.status == 0 && FileManager.default.fileExists(atPath: folder.appendingPathComponent("period-report.png").path), "\(shot.output)")
            _ = try await TestTools.run(
                "chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--screenshot=\(folder.appendingPathComponent("compliance-record.png").path)", "--window-size=1280,1800", folder.appendingPathComponent("compliance-record.html").absoluteString]
            )

            let (pdfStatus, pdf, pdfType) = try await raw("/api/v1/reports?\(period)&format=pdf")
            #expect(pdfStatus == .ok && pdfType == "application/pdf" && pdf.starts(with: Array("%PDF".utf8)))
            let pdfFile = folder.appendingPathComponent("period-report.pdf")
            try pdf.write(to: pdfFile)
            let text = try await TestTools.run("pdftotext", ["-layout", pdfFile.path, "-"])
            #expect(text.status == 0 && ids.allSatisfy(text.output.contains), "\(text.output.prefix(2000))")

            // Bad input names the field.
            let (badFormat, badBody, _) = try await raw("/api/v1/reports?format=docx")
            #expect(badFormat == .badRequest && String(decoding: badBody, as: UTF8.self).contains("\"format\""))
            let (badTime, badTimeBody, _) = try await raw("/api/v1/reports?from=yesterday")
            #expect(badTime == .badRequest && String(decoding: badTimeBody, as: UTF8.self).contains("\"from\""))
        }
    }
}

/// Runs a tool of the machine (chromium, pdftotext) and returns its exit status and standard output.
/// The blocking reads and the wait run on a thread of their own: on one of the two threads of the
/// concurrency pool, a headless Chromium of several seconds stalled every other test of the process
/// (the full suite's SSE and follower tests then timed out).
enum TestTools {
    static func run(_ tool: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading
        return await withCheckedContinuation { continuation in
            Thread {
                let data = output.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
            }.start()
        }
    }
}
