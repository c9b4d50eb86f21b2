import SyspectCore
import SyspectPlan
import SyspectReport

/// The compare page (`/compare?apps=redis,nginx`): two or more applications side by side, each
/// with its workloads of the chosen kind combined as a plan combines them. The report's grids
/// next to each other, the counts, and one row per call any of them traced. `comparison` is
/// what GET /api/v1/compare answers for the same apps and workload.
enum ComparePage {
    /// What the form shows chosen.
    struct Form {
        var apps: [String]
        var workload: WorkloadSelection
        /// Only the calls whose verdicts differ between the applications.
        var onlyDiffering: Bool
    }

    static func render(_ comparison: Comparison?, form: Form, appNames: [String], problem: String? = nil, sourceNote: String) -> String {
        var body: [Markup] = [el("h1", text: "Compare applications"), formMarkup(form, appNames: appNames)]
        if let problem { body.append(el("p", [("class", "problem"), ("role", "alert")], text: problem)) }
        if let comparison { body += results(comparison, onlyDiffering: form.onlyDiffering) }
        let api = comparison.map { "/api/v1/compare" + PageLayout.query([("apps", $0.apps.joined(separator: ",")), ("workload", $0.workload.rawValue)]) }
        return PageLayout.page(title: comparison.map { "Compare " + $0.apps.joined(separator: ", ") } ?? "Compare",
                               active: "/compare", sourceNote: sourceNote, body: body, api: api)
    }

    static func formMarkup(_ form: Form, appNames: [String]) -> Markup {
        el("form", [("class", "planform"), ("action", "/compare"), ("method", "get")], [
            el("fieldset", [], [
                el("legend", text: "Applications (two or more)"),
                el("div", [("class", "applist")], appNames.map { name in
                    el("label", [], [el("input", [("type", "checkbox"), ("name", "apps"), ("value", name)] + (form.apps.contains(name) ? [("checked", "checked")] : [])), .text(name)])
                }),
            ]),
            workloadSelect(form.workload),
            el("label", [], [.text("Rows"), el("select", [("name", "only")], [
                el("option", [("value", "")] + (form.onlyDiffering ? [] : [("selected", "selected")]), text: "every traced call"),
                el("option", [("value", "differ")] + (form.onlyDiffering ? [("selected", "selected")] : []), text: "only where they differ"),
            ])]),
            el("button", [("type", "submit")], text: "Compare"),
        ])
    }

    /// The workload-kind choice shared with the plan form.
    static func workloadSelect(_ chosen: WorkloadSelection) -> Markup {
        el("label", [], [.text("Workloads"), el("select", [("name", "workload")], WorkloadSelection.allCases.map { w in
            el("option", [("value", w.rawValue)] + (w == chosen ? [("selected", "selected")] : []), text: w.rawValue)
        })])
    }

    static func results(_ c: Comparison, onlyDiffering: Bool) -> [Markup] {
        let runs = c.apps.map { app in
            let verdicts = Dictionary(uniqueKeysWithValues: c.rows.compactMap { row in row.verdicts[app].map { (row.number, $0) } })
            return ReportedRun(measurement: Measurement(app: app, workload: "\(c.workload.rawValue) workloads combined",
                                                        kind: c.workload == .suite ? .suite : .benchmark, verdicts: verdicts, source: "combined"))
        }
        let counts = PageLayout.table(
            id: "compare-counts", header: ["Application", "Traced", "Required", "Stub", "Fake", "Either"],
            rows: c.apps.map { app in
                let n = c.counts[app]
                return [el("a", [("href", PageLayout.appPath(app))], text: app)]
                    + [n?.traced, n?.required, n?.stub, n?.fake, n?.either].map { .text($0.map(String.init) ?? "–") }
            }, numeric: Set(1...5))
        let rows = c.rows.filter { !onlyDiffering || differs($0, apps: c.apps) }
        let table = PageLayout.table(
            id: "compare-calls", header: ["Nr", "Name"] + c.apps,
            rows: rows.map { row in [PageLayout.number(row.number), el("code", text: row.name)] + c.apps.map { PageLayout.verdictTag(row.verdicts[$0]) } },
            numeric: [0], rowAttributes: rows.map { row in [("class", "call" + (differs(row, apps: c.apps) ? " differs" : "")), ("data-nr", String(row.number))] })
        var out: [Markup] = [
            el("p", [("class", "summary")], text: "\(c.apps.count) applications, \(c.workload.rawValue) workloads (an application must pass each of its workloads); \(c.rows.count) calls traced by any, \(c.rows.filter { differs($0, apps: c.apps) }.count) where they differ."),
            counts, HTMLReport.legend(),
        ]
        out += [HTMLReport.gridSection(runs)].compactMap { $0 }
        out += [el("h2", text: "Per call" + (onlyDiffering ? " (only where they differ)" : "")),
                el("p", [("class", "caption")], text: "– : not traced by that application."), table]
        return out
    }

    /// The applications do not all have the same verdict (or one does not trace the call).
    static func differs(_ row: CompareRow, apps: [String]) -> Bool {
        Set(apps.map { row.verdicts[$0]?.rawValue ?? "" }).count > 1
    }
}
