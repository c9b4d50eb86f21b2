import SyspectCore
import SyspectPlan

/// The self-contained HTML report: inline CSS and SVG, no script, no network, no external font.
public enum HTMLReport {
    /// The whole page for `input`. Sections without data are left out.
    public static func render(_ input: ReportInput) -> String {
        let body: [Markup] = [
            el("header", [], [
                el("h1", text: input.title),
                input.sourceNote.isEmpty ? nil : el("p", [("class", "source")], text: input.sourceNote),
                el("p", [("class", "summary")], text: summary(input)),
            ].compactMap { $0 }),
            legend(),
            gridSection(input.runs),
            barSection(input.runs),
            importanceSection(input),
            planSection(input.plan),
            impactSection(input.impact),
            detailSection(id: "subfeatures", title: "Sub-features", itemTitle: "Feature", rows: input.subFeatures),
            detailSection(id: "pseudofiles", title: "Pseudo-files", itemTitle: "Path", rows: input.pseudoFiles),
        ].compactMap { $0 }
        let page = el("html", [("lang", "en")], [
            el("head", [], [
                el("meta", [("charset", "utf-8")]),
                el("meta", [("name", "viewport"), ("content", "width=device-width, initial-scale=1")]),
                el("title", text: input.title),
                el("style", [], [.trusted(styleSheet)]),
            ]),
            el("body", [], body),
        ])
        return "<!DOCTYPE html>\n" + page.rendered + "\n"
    }

    static func summary(_ input: ReportInput) -> String {
        let apps = Set(input.runs.map(\.measurement.app)).count
        return "\(apps) application\(apps == 1 ? "" : "s"), \(input.runs.count) workload run\(input.runs.count == 1 ? "" : "s"). Hover over a box, bar or line for details."
    }

    /// The colour legend shared by the grids and the bars.
    public static func legend() -> Markup {
        el("section", [("id", "legend"), ("class", "legend"), ("aria-label", "Legend")], [
            el("h2", text: "Legend"),
            el("ul", [], BoxStatus.allCases.map { status in
                el("li", [], [
                    el("svg", [("class", "swatch"), ("width", "14"), ("height", "14"), ("aria-hidden", "true")],
                       [el("rect", [("class", "box s-\(status.rawValue)"), ("x", "1"), ("y", "1"), ("width", "12"), ("height", "12")])]),
                    .text(status.label),
                ])
            } + [
                el("li", [], [
                    el("svg", [("class", "swatch"), ("width", "14"), ("height", "14"), ("aria-hidden", "true")],
                       [el("rect", [("class", "box s-untraced static-only"), ("x", "1"), ("y", "1"), ("width", "12"), ("height", "12")])]),
                    .text(Charts.staticOnlyLabel),
                ]),
                el("li", [], [
                    el("svg", [("class", "swatch"), ("width", "14"), ("height", "14"), ("aria-hidden", "true")],
                       [el("rect", [("class", "seg static"), ("x", "1"), ("y", "4"), ("width", "12"), ("height", "6")])]),
                    .text("static analysis (upper bound) from loupedb"),
                ]),
                el("li", [], [
                    el("svg", [("class", "swatch"), ("width", "14"), ("height", "14"), ("aria-hidden", "true")],
                       [el("rect", [("class", "seg static static-syspect"), ("x", "1"), ("y", "4"), ("width", "12"), ("height", "6")])]),
                    .text("static analysis by syspect (this machine's binaries and libraries)"),
                ]),
            ]),
        ])
    }

    static func section(id: String, title: String, caption: String, _ children: [Markup]) -> Markup {
        el("section", [("id", id)], [el("h2", text: title), el("p", [("class", "caption")], text: caption)] + children)
    }

    public static func gridSection(_ runs: [ReportedRun]) -> Markup? {
        guard !runs.isEmpty else { return nil }
        // Several runs of one workload (a store keeps every imported run): name their sources.
        let repeated = Set(Dictionary(grouping: runs, by: \.measurement.id).filter { $0.value.count > 1 }.keys)
        let figures = runs.map { run -> Markup in
            let m = run.measurement
            var caption: [Markup] = [el("strong", text: m.app), .text(" " + m.workload)]
            if repeated.contains(m.id) { caption.append(el("span", [("class", "runsource")], text: " (\(m.source))")) }
            var children = [
                el("figcaption", [("title", m.source)], caption),
                Charts.grid(run),
            ]
            let unknown = (Set(run.measurement.verdicts.keys).union(run.tracedOnly)).filter { SyscallTable.name(of: $0) == nil }.sorted()
            if !unknown.isEmpty {
                children.append(el("p", [("class", "note")], text: "Numbers outside the table: " + unknown.map(String.init).joined(separator: ", ")))
            }
            return el("figure", [("class", "gridfig")], children)
        }
        return section(id: "grids", title: "System calls per application",
                       caption: "Each box is one x86-64 system call, by number (row label + column); its colour is what the workload tolerates (as the paper's Figure 5).",
                       [el("div", [("class", "grids")], figures)])
    }

    public static func barSection(_ runs: [ReportedRun]) -> Markup? {
        guard !runs.isEmpty else { return nil }
        return section(id: "bars", title: "Traced, required, stubbed and faked",
                       caption: "Traced system calls per application and workload, broken down by verdict; thin grey bars: static-analysis counts where the data has them (as the paper's Figure 4).",
                       [Charts.bars(runs)])
    }

    static func importanceSection(_ input: ReportInput) -> Markup? {
        guard !input.importance.isEmpty, input.importanceAppCount > 0 else { return nil }
        let total = Double(input.importanceAppCount)
        func curve(_ count: (SyscallImportance) -> Int) -> [(x: Double, y: Double)] {
            let counts: [Int] = input.importance.map(count).filter { $0 > 0 }.sorted(by: >)
            var points: [(x: Double, y: Double)] = []
            for (rank, n) in counts.enumerated() { points.append((Double(rank + 1), Double(n) / total * 100)) }
            return points
        }
        let required = curve(\.requiredBy), traced = curve(\.tracedBy)
        let chart = Charts.lineChart([
            .init(label: "required (stub/fake explored): \(required.count) calls", cssClass: "c-required", points: required, steps: true),
            .init(label: "traced (naive dynamic): \(traced.count) calls", cssClass: "c-traced", points: traced, steps: true),
        ], xTitle: "system calls, most important first", yTitle: "applications needing it", yMax: 100,
           ariaLabel: "API importance: share of applications that require or trace each system call", yPercent: true)
        let top = input.importance.filter { $0.requiredBy > 0 }.sorted(by: moreRequired).prefix(10)
        let topList = el("p", [("class", "note")], text: "Most required: " + top.map { "\($0.name) (\($0.requiredBy))" }.joined(separator: ", "))
        return section(id: "importance", title: "API importance",
                       caption: "Share of the \(input.importanceAppCount) applications that require each system call, against the share that merely trace it (as the paper's Figure 3).",
                       [chart, topList])
    }

    static func moreRequired(_ a: SyscallImportance, _ b: SyscallImportance) -> Bool {
        a.requiredBy != b.requiredBy ? a.requiredBy > b.requiredBy : a.number < b.number
    }

    public static func planSection(_ plan: PlanFigure?) -> Markup? {
        guard let plan, !plan.curves.isEmpty else { return nil }
        let classes = ["c-ours", "c-greedy", "c-naive", "c-other", "c-static"]
        let series = plan.curves.enumerated().map { index, curve in
            Charts.Series(label: curve.label, cssClass: classes[min(index, classes.count - 1)],
                          points: curve.points.map { (Double($0.syscalls), Double($0.apps)) }, steps: true)
        }
        let chart = Charts.lineChart(series, xTitle: "system calls implemented", yTitle: "applications supported",
                                     yMax: Double(plan.appCount), ariaLabel: "Support plan curves for \(plan.os)")
        return section(id: "plan", title: "Support plan for \(plan.os)",
                       caption: "Applications supported (of \(plan.appCount); \(plan.initialApps) before any step) against system calls implemented, for each plan (as the paper's Figure 2).",
                       [chart])
    }

    public static func impactSection(_ rows: [ImpactRow]) -> Markup? {
        guard !rows.isEmpty else { return nil }
        func change(_ value: Double?) -> String {
            guard let value else { return "–" }
            let percent = (value * 100).rounded()
            return (percent > 0 ? "+" : "") + fmt(percent) + "%"
        }
        let header = el("tr", [], ["Application", "System call", "Mode", "Performance", "FDs", "Memory", "Explanation"].map { el("th", text: $0) })
        let body = rows.map { row in
            el("tr", [], [
                el("td", text: row.app), el("td", text: "\(SyscallTable.displayName(of: row.syscall)) (\(row.syscall))"),
                el("td", text: row.mode.rawValue), el("td", [("class", "num")], text: change(row.performance)),
                el("td", [("class", "num")], text: change(row.fileDescriptors)), el("td", [("class", "num")], text: change(row.memory)),
                el("td", text: row.note),
            ])
        }
        return section(id: "impact", title: "Impact of stubbing and faking",
                       caption: "Change in the workload's metric and resource usage when the call is stubbed or faked; – means no impact beyond the noise (as the paper's Table 2).",
                       [el("table", [], [el("thead", [], [header]), el("tbody", [], body)])])
    }

    public static func detailSection(id: String, title: String, itemTitle: String, rows: [DetailRow]) -> Markup? {
        guard !rows.isEmpty else { return nil }
        let header = el("tr", [], (["Application"] + (id == "subfeatures" ? ["System call"] : []) + [itemTitle, "Verdict"]).map { el("th", text: $0) })
        let body = rows.map { row -> Markup in
            var cells = [el("td", text: row.app)]
            if id == "subfeatures" { cells.append(el("td", text: row.syscall.map { SyscallTable.displayName(of: $0) } ?? "")) }
            cells.append(el("td", [], [el("code", text: row.item)]))
            cells.append(el("td", [], [el("span", [("class", "tag s-\(BoxStatus(row.verdict).rawValue)")], text: row.verdict.rawValue)]))
            return el("tr", [], cells)
        }
        return section(id: id, title: title, caption: "What each workload tolerates below the granularity of a whole system call.",
                       [el("table", [], [el("thead", [], [header]), el("tbody", [], body)])])
    }

    /// Colours: the Okabe–Ito palette (distinguishable with the common colour-vision deficiencies);
    /// the plan curves also differ by dash pattern. System fonts only.
    public static let styleSheet = """
        :root{--required:#D55E00;--stub:#0072B2;--fake:#E69F00;--either:#009E73;--traced:#CC79A7;--untraced:#EEEEEE;--ink:#222;--muted:#666}
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--ink);margin:24px auto;max-width:1200px;padding:0 16px;line-height:1.4}
        h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.2em;margin:28px 0 4px;border-bottom:1px solid #ddd}
        .source,.caption,.note,.summary{color:var(--muted);margin:2px 0 8px}
        .legend ul{list-style:none;display:flex;flex-wrap:wrap;gap:6px 18px;padding:0;margin:4px 0}
        .legend li{display:flex;align-items:center;gap:4px}.swatch{vertical-align:middle}
        .grids{display:flex;flex-wrap:wrap;gap:12px 24px}
        figure.gridfig{margin:0}figcaption{font-size:.9em;margin-bottom:2px}.runsource{color:var(--muted);font-size:.85em}
        .box{stroke:#fff;stroke-width:.5}.s-untraced{fill:var(--untraced);stroke:#ccc}.s-untraced.static-only{fill:#BDBDBD;stroke:#999}
        .s-required{fill:var(--required)}.s-stub{fill:var(--stub)}.s-fake{fill:var(--fake)}.s-either{fill:var(--either)}.s-traced{fill:var(--traced)}
        .static{fill:#888}.static-syspect{fill:#444}
        svg text{font-family:inherit;fill:var(--ink)}
        .rowlabel,.runlabel,.ticklabel.end{text-anchor:end}.rowlabel{font-size:8px;fill:var(--muted)}
        .runlabel{font-size:11px}.count{font-size:10px;fill:var(--muted)}.count.small{font-size:8px}
        .ticklabel{font-size:10px;text-anchor:middle;fill:var(--muted)}.tick{stroke:#999}
        .axistitle{font-size:11px;text-anchor:middle}.legendtext{font-size:11px}
        .plotarea{fill:#fafafa;stroke:#bbb}.gridline{stroke:#e4e4e4}
        .series{fill:none;stroke-width:2.2}
        .c-required,.c-ours{stroke:var(--required)}.c-traced{stroke:var(--stub);stroke-dasharray:6 3}
        .c-greedy{stroke:var(--stub);stroke-dasharray:6 3}.c-naive{stroke:#555;stroke-dasharray:2 3}.c-other{stroke:var(--traced);stroke-dasharray:8 2 2 2}.c-static{stroke:#444;stroke-dasharray:1 2}
        table{border-collapse:collapse;font-size:.9em;margin:6px 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}
        th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
        .tag{padding:0 6px;border-radius:3px;color:#fff}.tag.s-fake{color:#000}
        .tag.s-required{background:var(--required)}.tag.s-stub{background:var(--stub)}.tag.s-fake{background:var(--fake)}.tag.s-either{background:var(--either)}
        """
}
