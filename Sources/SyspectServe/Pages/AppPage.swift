import Foundation
import SyspectCore
import SyspectReport

/// One application's page (`/apps/{app}`, or `/apps/{app}/{workload}` for one workload): the
/// report's syscall grid and verdict bars, then per workload the counts, the exploration, the
/// static bound, the downloads, the per-call table with the probes behind each verdict, and the
/// sub-feature, pseudo-file and impact tables where the store has them. `detail` is what
/// GET /api/v1/apps/{app}[/{workload}] answers.
enum AppPage {
    static func render(_ detail: AppDetail, oneWorkload: Bool, sourceNote: String) -> String {
        let runs = detail.workloads.map { reportedRun($0) }
        var body: [Markup] = [
            el("h1", [], [.text(detail.app)] + (oneWorkload ? [el("span", [("class", "muted")], text: " / " + (detail.workloads.first?.workload ?? ""))] : [])),
            el("p", [("class", "summary")], [
                .text("\(detail.workloads.count) measurement\(detail.workloads.count == 1 ? "" : "s"): "),
            ] + detail.workloads.enumerated().flatMap { index, w -> [Markup] in
                (index > 0 ? [.text(", ")] : []) + [el("a", [("href", "#w\(index)")], text: "\(w.workload) (\(w.source.rawValue))")]
            } + (oneWorkload ? [.text(" · "), el("a", [("href", PageLayout.appPath(detail.app))], text: "every workload")] : [])),
            HTMLReport.legend(),
        ]
        // The bars without static bars: the page states each workload's bound in words (the API
        // gives its size and whose analysis, not the sets the report's bars are drawn from).
        body += [HTMLReport.gridSection(runs), HTMLReport.barSection(detail.workloads.map { reportedRun($0, staticShading: false) })].compactMap { $0 }
        body += detail.workloads.enumerated().map { workloadSection($1, id: "w\($0)") }
        let api = "/api/v1/apps/" + SiteQueries.escape(detail.app) + (oneWorkload ? "/" + SiteQueries.escape(detail.workloads.first?.workload ?? "") : "")
        return PageLayout.page(title: detail.app, active: "", sourceNote: sourceNote, body: body, api: api)
    }

    /// The report's value for one workload, so the report's own grid and bars draw it: verdicts
    /// from the call table, census-only calls from the grid and, with `staticShading`, the
    /// grid's static-only boxes (the only static calls the grid draws differently).
    static func reportedRun(_ w: WorkloadDetail, staticShading: Bool = true) -> ReportedRun {
        let verdicts = Dictionary(uniqueKeysWithValues: w.calls.map { ($0.number, $0.verdict) })
        let staticOnly = Set(w.grid.filter(\.staticOnly).map(\.number))
        let measurement = Measurement(app: w.app, workload: w.workload, kind: w.kind, verdicts: verdicts,
                                      staticBinary: staticShading && !staticOnly.isEmpty ? staticOnly : nil, source: w.sourceDetail)
        return ReportedRun(measurement: measurement, tracedOnly: Set(w.grid.filter { $0.status == BoxStatus.traced.rawValue }.map(\.number)))
    }

    static func workloadSection(_ w: WorkloadDetail, id: String) -> Markup {
        var children: [Markup] = [
            el("h2", [], [.text("\(w.app) / \(w.workload) "), el("span", [("class", "muted")], text: "(\(w.kind.rawValue), \(w.source.rawValue))")]),
            el("p", [("class", "caption")], text: "Source: \(w.sourceDetail)"),
            countsTable(w.counts),
        ]
        if let e = w.exploration {
            let span = e.finishedAt == nil ? "unfinished (run explore again to resume)" : "finished"
            children.append(el("p", [("class", "exploration")], text:
                "Explored here: \(e.probes) probes (pass \(e.passed), fail \(e.failed), error \(e.errors)), strategy \(e.strategy), "
                + "\(seconds(e.wallSeconds)) wall, started \(timestamp(e.startedAt)), \(span)."))
        }
        if let bound = w.staticBound {
            let outside = bound.tracedOutside.map { SyscallTable.displayName(of: $0) }
            children.append(el("p", [("class", "staticbound")], text:
                "Static analysis upper bound (\(bound.source)): \(bound.count) calls; "
                + (outside.isEmpty ? "every traced call is inside it." : "traced calls outside it: \(outside.joined(separator: ", ")) (an analysis or tracing error).")))
        }
        children.append(el("ul", [("class", "downloads"), ("aria-label", "Downloads")], w.downloads.map { link in
            el("li", [], [el("a", [("href", link.href), ("data-format", link.format)], text: link.label)])
        }))
        children.append(el("h3", text: "System calls"))
        children.append(callTable(w.calls))
        if !w.features.isEmpty {
            children.append(el("h3", text: "Sub-features"))
            children.append(PageLayout.table(
                header: ["System call", "Argument", "Sub-feature", "Calls", "Failures", "Verdict"],
                rows: w.features.map { f in
                    [.text(f.syscallName), .text(f.argument), el("code", text: f.name), PageLayout.number(f.calls), PageLayout.number(f.failures),
                     f.verdict.map(PageLayout.verdictTag) ?? .text("not probed")]
                }, numeric: [3, 4], rowAttributes: w.features.map { _ in [("class", "feature")] }))
        }
        if !w.files.isEmpty {
            children.append(el("h3", text: "Pseudo-files"))
            func passes(_ value: Bool?) -> Markup { .text(value.map { $0 ? "passes" : "fails" } ?? "not probed") }
            children.append(PageLayout.table(
                header: ["Path", "Calls", "Failures", "Absent (ENOENT)", "Stubbed (ENOSYS)"],
                rows: w.files.map { f in
                    [el("code", text: f.path), .text(f.calls.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")),
                     PageLayout.number(f.failures), passes(f.absentPasses), passes(f.stubPasses)]
                }, numeric: [2], rowAttributes: w.files.map { _ in [("class", "file")] }))
        }
        if !w.impact.isEmpty {
            children.append(el("h3", text: "Impact of stubbing and faking"))
            children.append(PageLayout.table(
                header: ["System call", "Mode", "Flagged", "Performance", "FDs", "Memory", "Measures (baseline → with it, p)"],
                rows: w.impact.map { i in
                    [.text("\(i.name) (\(i.syscall))"), .text(i.mode), .text(i.flagged ? "yes" : "no"),
                     .text(change(i.performance)), .text(change(i.fileDescriptors)), .text(change(i.memory)),
                     .text(i.comparisons.map { c in
                         "\(c.measure.rawValue) \(short(c.baselineMean)) → \(short(c.policyMean))" + (c.pValue.map { ", p \(short($0))" } ?? "") + (c.flagged ? " (flagged)" : "")
                     }.joined(separator: "; "))]
                }, numeric: [3, 4, 5], rowAttributes: w.impact.map { _ in [("class", "impact")] }))
        }
        return el("section", [("id", id), ("class", "workload"), ("data-workload", w.workload), ("data-source", w.source.rawValue)], children)
    }

    static func countsTable(_ c: VerdictCounts) -> Markup {
        el("table", [("class", "counts")], [
            el("tr", [], ["traced", "required", "stub", "fake", "either"].map { el("th", [("scope", "col")], text: $0) }),
            el("tr", [], [c.traced, c.required, c.stub, c.fake, c.either].map { el("td", [("class", "num")], text: String($0)) }),
        ])
    }

    /// Every traced call with its verdict and, for syspect's measurements, the probes whose
    /// policy stubbed or faked it (folded: `<details>` needs no script).
    static func callTable(_ calls: [CallRow]) -> Markup {
        PageLayout.table(
            header: ["Nr", "Name", "Verdict", "Probe evidence"],
            rows: calls.map { call in [PageLayout.number(call.number), el("code", text: call.name), PageLayout.verdictTag(call.verdict), evidence(call.evidence)] },
            numeric: [0], rowAttributes: calls.map { [("class", "call"), ("data-nr", String($0.number)), ("data-verdict", $0.verdict.rawValue)] })
    }

    static func evidence(_ probes: [ProbeEvidence]) -> Markup {
        guard !probes.isEmpty else { return el("span", [("class", "muted")], text: "published verdict (no probes stored)") }
        let passed = probes.filter { $0.outcome == .pass }.count, failed = probes.filter { $0.outcome == .fail }.count
        let errors = probes.count - passed - failed
        return el("details", [], [
            el("summary", text: "\(probes.count) probe\(probes.count == 1 ? "" : "s"): \(passed) pass, \(failed) fail" + (errors > 0 ? ", \(errors) error" : "")),
            el("ul", [], probes.map { p in
                el("li", [], [el("code", text: p.policy), .text(" #\(p.replica) "), el("strong", text: p.outcome.rawValue),
                              .text(" in \(seconds(p.seconds))" + (p.reason.isEmpty ? "" : ": " + p.reason))])
            }),
        ])
    }

    /// "+15%", "-3%", "–" (no impact beyond the noise).
    static func change(_ value: Double?) -> String {
        guard let value else { return "–" }
        let percent = Int((value * 100).rounded())
        return (percent > 0 ? "+" : "") + "\(percent)%"
    }

    static func short(_ value: Double) -> String { String(format: abs(value) >= 100 || value == value.rounded() ? "%.0f" : "%.3g", value) }

    static func seconds(_ value: Double) -> String { String(format: "%.1f s", value) }

    static func timestamp(_ date: Date) -> String { date.ISO8601Format() }
}
