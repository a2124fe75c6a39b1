import Foundation
import TritonSeals
import TritonEngine

/// The readable pages of a compliance record and of a period report: one self-contained HTML document
/// each (inline CSS, no script), printable to PDF as is.
public enum ReportHTML {
    static let style = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;margin:2rem auto;max-width:72rem;padding:0 1rem}
        h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:1.75rem 0 .5rem;border-bottom:1px solid #d0d7de;padding-bottom:.25rem}
        table{border-collapse:collapse;width:100%;margin:.25rem 0}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eaeef2;vertical-align:top}
        th{background:#f6f8fa;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
        .muted{color:#57606a}.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}.warn{color:#9a6700;font-weight:600}
        code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f6f8fa;padding:.1rem .3rem;border-radius:4px;word-break:break-all}
        code.id,.nowrap{white-space:nowrap;word-break:normal}
        dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}dt{color:#57606a}dd{margin:0}
        @page{size:A4 landscape;margin:12mm}
        @media print{body{margin:0;max-width:none;font-size:11px}code{font-size:10px}h2{break-after:avoid}tr{break-inside:avoid}}
        """

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A time for people: `2026-12-07 14:03:12 UTC`.
    static func time(_ date: Date?) -> String {
        guard let date else { return "—" }
        return String(date.formatted(Self.dayAndTime).dropLast()) + " UTC"
    }

    static let dayAndTime = Date.ISO8601FormatStyle(dateTimeSeparator: .space)

    static func seconds(_ value: Double?) -> String {
        guard let value else { return "—" }
        return value < 120 ? String(format: "%.1f s", value) : String(format: "%.1f min", value / 60)
    }

    static func page(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(Self.escape(title))</title><style>\(Self.style)</style></head>
        <body>\(body)</body></html>

        """
    }

    static func table(_ headers: [String], _ rows: [[String]], numeric: Set<Int> = []) -> String {
        let head = headers.map { "<th scope=\"col\">\(Self.escape($0))</th>" }.joined()
        let body = rows.map { row in
            "<tr>" + row.enumerated().map { index, cell in numeric.contains(index) ? "<td class=\"n\">\(cell)</td>" : "<td>\(cell)</td>" }.joined() + "</tr>"
        }.joined(separator: "\n")
        return "<table><thead><tr>\(head)</tr></thead><tbody>\n\(body)\n</tbody></table>"
    }

    static func verdict(_ verdict: String) -> String {
        let css = verdict == "segregated" ? "ok" : verdict == "self-approved" ? "bad" : "warn"
        return "<span class=\"\(css) nowrap\">\(Self.escape(verdict))</span>"
    }

    /// The record of one release.
    public static func record(_ r: ComplianceRecord) -> String {
        let e = Self.escape
        let identity = r.release
        var body = """
            <h1>Release \(e(identity.flow))</h1>
            <p class="muted">Compliance record generated from the event log at \(e(Self.time(r.generatedAt))) (\(e(r.format)))</p>
            <h2>What changed</h2><dl>
            <dt>Action</dt><dd>\(e(identity.action))</dd>
            <dt>Application</dt><dd>\(e(identity.appName)) (app \(identity.appID))</dd>
            <dt>Namespace / CloneSet</dt><dd>\(e(identity.namespace)) / \(e(identity.cloneSet))</dd>
            <dt>Image</dt><dd><code>\(e(identity.fromImage ?? "—"))</code> → <code>\(e(identity.toImage ?? "(unchanged)"))</code></dd>
            <dt>Replicas</dt><dd>\(identity.fromReplicas) → \(identity.toReplicas)</dd>
            <dt>Outcome</dt><dd><span class="\(r.outcome.phase == "Success" ? "ok" : "bad")">\(e(r.outcome.phase))</span>\(r.outcome.failureReason.map { ": " + e($0) } ?? "") — created \(e(Self.time(r.outcome.createdAt))), finished \(e(Self.time(r.outcome.finishedAt))) (\(Self.seconds(r.outcome.durationSeconds)))</dd>
            </dl>
            <h2>Who</h2><dl>
            <dt>Author</dt><dd>\(e(r.author?.actor ?? "—")) at \(e(Self.time(r.author?.at)))\(r.author?.reason.map { " — “" + e($0) + "”" } ?? "")</dd>
            <dt>Segregation of duties</dt><dd>\(Self.verdict(r.segregationOfDuties.verdict)): \(e(r.segregationOfDuties.detail))</dd>
            </dl>
            """
        body += "<h2>Approvals</h2>"
        body +=
            r.approvals.isEmpty
            ? "<p class=\"muted\">None recorded.</p>"
            : Self.table(
                ["By", "At", "Step", "Waited", "Why"],
                r.approvals.map {
                    [e($0.actor), e(Self.time($0.at)), "\(e($0.intent)) batch \($0.batch)\($0.canary ? " (canary)" : "")", Self.seconds($0.waitedSeconds), e($0.reason ?? "")]
                }
            )
        if let emergency = r.emergency {
            body += """
                <h2>Emergency change</h2><dl>
                <dt>Declared</dt><dd>by \(e(emergency.declaredBy)) at \(e(Self.time(emergency.declaredAt))), overriding \(e(emergency.rules.joined(separator: ", ")))</dd>
                <dt>Justification</dt><dd>\(e(emergency.justification))</dd>
                <dt>Review</dt><dd><span class="\(emergency.status == "reviewed" ? "ok" : "bad")">\(e(emergency.status))</span>\(emergency.reviewedBy.map { " by " + e($0) + " at " + e(Self.time(emergency.reviewedAt)) } ?? "")\(emergency.reviewNote.map { " — “" + e($0) + "”" } ?? "")</dd>
                </dl>
                """
        }
        let s = r.strategy
        body += """
            <h2>Strategy in force</h2><dl>
            <dt>Mode</dt><dd>\(e(s.mode))</dd><dt>Plan</dt><dd>\(s.plan.map(String.init).joined(separator: ", ")) pods (canary \(s.canary))</dd>
            <dt>Timings</dt><dd>batch interval \(s.batchIntervalSeconds) s, startup timeout \(s.startupTimeoutSeconds) s, pull-out wait \(s.pullOutWaitSeconds) s\(s.noPullIn ? ", <span class=\"warn\">no pull-in</span>" : "")</dd>
            </dl>
            <h2>Batches</h2>
            """
        body += Self.table(
            ["Batch", "Size", "Phase", "Pods P/R/R/F", "Started", "Smoke", "Bake", "Total"],
            r.batches.map {
                [
                    "\($0.batch)\($0.canary ? " (canary)" : "")", "\($0.size)", e($0.phase) + ($0.failureReason.map { ": " + e($0) } ?? ""),
                    "\($0.pods.pending)/\($0.pods.running)/\($0.pods.ready)/\($0.pods.failed)", e(Self.time($0.startedAt)), Self.seconds($0.smokeSeconds),
                    Self.seconds($0.bakeSeconds), Self.seconds($0.totalSeconds),
                ]
            },
            numeric: [1, 5, 6, 7]
        )
        body += "<h2>Intents</h2>"
        body += Self.table(
            ["Position", "At", "Intent", "By", "Batch", "Why"],
            r.intents.map { ["\($0.position)", e(Self.time($0.at)), e($0.intent), "\(e($0.actor)) <span class=\"muted\">(\(e($0.source)))</span>", $0.batch.map(String.init) ?? "", e($0.reason ?? "")] },
            numeric: [0]
        )
        body += "<h2>Exceptions</h2>"
        body += r.exceptions.isEmpty ? "<p class=\"muted\">None.</p>" : "<ul>" + r.exceptions.map { "<li>\(e($0))</li>" }.joined() + "</ul>"
        let c = r.completeness
        body += """
            <h2>Completeness</h2>
            <p><span class="\(c.complete ? "ok" : "bad")">\(c.complete ? "complete" : "not complete")</span>: \(e(c.detail))</p>
            <h2>Integrity</h2><dl>
            <dt>Events</dt><dd>\(r.integrity.events) in stream <code>\(e(r.integrity.stream))</code>, log positions \(r.integrity.firstPosition)–\(r.integrity.lastPosition)</dd>
            <dt>Last hash</dt><dd><code>\(e(r.integrity.lastHash))</code></dd>
            <dt>Seal</dt><dd>\(r.integrity.seal.map { "seal \($0.sequence) over \($0.treeSize) events, root <code>\(e($0.root))</code>, key <code>\(e($0.keyID))</code>" } ?? "<span class=\"warn\">not sealed yet</span>")</dd>
            <dt>Verify</dt><dd>\(r.integrity.verify.map { "<code>\(e($0))</code>" }.joined(separator: "<br>"))</dd>
            </dl>
            """
        return Self.page(title: "Release \(identity.flow) — compliance record", body: body)
    }

    /// The report of a period.
    public static func report(_ report: PeriodReport) -> String {
        let e = Self.escape
        let f = report.filter
        let s = report.summary
        var scope = "from \(Self.time(f.from)) to \(Self.time(f.to))"
        if let namespace = f.namespace { scope += ", namespace \(namespace)" }
        if let actor = f.actor { scope += ", releases of \(actor)" }
        func list(_ flows: [String]) -> String { flows.isEmpty ? "none" : flows.map(e).joined(separator: ", ") }
        var body = """
            <h1>Change report</h1>
            <p class="muted">\(e(scope)) — generated from the event log at \(e(Self.time(report.generatedAt)))</p>
            <h2>Summary</h2><dl>
            <dt>Releases</dt><dd>\(s.releases) (\(s.byOutcome.sorted { $0.key < $1.key }.map { "\(e($0.key)) \($0.value)" }.joined(separator: ", ")))</dd>
            <dt>Self-approved</dt><dd class="\(s.selfApprovals.isEmpty ? "" : "bad")">\(list(s.selfApprovals))</dd>
            <dt>Emergencies</dt><dd>\(list(s.emergencies))</dd>
            <dt>Awaiting review</dt><dd class="\(s.emergenciesAwaitingReview.isEmpty ? "" : "bad")">\(list(s.emergenciesAwaitingReview))</dd>
            <dt>Failed</dt><dd>\(list(s.failed))</dd>
            <dt>Canceled</dt><dd>\(list(s.canceled))</dd>
            <dt>Approval latency</dt><dd>median \(Self.seconds(s.approvalLatencyMedianSeconds)), p90 \(Self.seconds(s.approvalLatencyP90Seconds)), max \(Self.seconds(s.approvalLatencyMaxSeconds))</dd>
            <dt>Change-failure rate</dt><dd>\(s.changeFailureRate.map { String(format: "%.1f%%", $0 * 100) } ?? "—")</dd>
            </dl>
            <h2>Releases</h2>
            """
        body += Self.table(
            ["Flow", "Where", "Change", "Author", "Approvers", "SoD", "Emergency", "Outcome", "Finished", "Seal"],
            report.releases.map {
                [
                    "<code class=\"id\">\(e($0.flow))</code>", "\(e($0.namespace))/\(e($0.cloneSet))", "\(e($0.action)) \(e($0.fromImage)) → \(e($0.toImage))", e($0.author),
                    e($0.approvers), Self.verdict($0.segregationOfDuties), e($0.emergency), e($0.outcome), "<span class=\"nowrap\">\(e(Self.time($0.finishedAt)))</span>",
                    $0.seal.map(String.init) ?? "—",
                ]
            }
        )
        return Self.page(title: "Change report", body: body)
    }
}
