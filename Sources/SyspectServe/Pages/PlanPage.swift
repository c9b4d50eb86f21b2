import Foundation
import SyspectCore
import SyspectPlan
import SyspectReport

/// The plan page (`/plan`): a form choosing the OS (a bundled support list or an uploaded
/// one), the applications, the workload kind and the costs; under it the plan table (the paper's
/// Table 1 layout), the report's plan curves (Figure 2) and the stub skeleton to download.
/// `view` is what GET/POST /api/v1/plan answers for the same request.
enum PlanPage {
    static func render(_ view: PlanView?, request: PlanRequest, osLists: [OSListEntry], appNames: [String],
                       problem: String? = nil, sourceNote: String) -> String {
        var body: [Markup] = [
            el("h1", text: "Support plan"),
            el("p", [("class", "caption")], text: "Which system calls an OS should implement, stub or fake, in which order, to run the most applications earliest (docs/plan.md)."),
            form(request, osLists: osLists, appNames: appNames),
        ]
        if let problem { body.append(el("p", [("class", "problem"), ("role", "alert")], text: problem)) }
        if let view { body += results(view, request: request) }
        // An uploaded list is POSTed (the API takes the same fields: POST /api/v1/plan).
        let api = view != nil && request.osList == nil ? "/api/v1/plan?" + SiteQueries.queryString(request) : nil
        return PageLayout.page(title: view.map { "Plan for \($0.os)" } ?? "Plan", active: "/plan", sourceNote: sourceNote, body: body, api: api)
    }

    /// One form for both ways of naming the OS: POSTed as multipart/form-data so a support
    /// list file can ride along (GET /plan?os=…&apps=… gives the same page for a bundled list).
    static func form(_ request: PlanRequest, osLists: [OSListEntry], appNames: [String]) -> Markup {
        let chosenOS = request.osList == nil ? (request.os ?? "") : ""
        let chosenApps = Set(request.apps ?? [])
        return el("form", [("class", "planform"), ("action", "/plan"), ("method", "post"), ("enctype", "multipart/form-data")], [
            el("fieldset", [], [
                el("legend", text: "Operating system"),
                el("label", [], [.text("Bundled support list"), el("select", [("name", "os"), ("id", "f-os")],
                    [el("option", [("value", "")] + (chosenOS.isEmpty ? [("selected", "selected")] : []), text: "(uploaded list below)")]
                    + osLists.map { os in
                        el("option", [("value", os.name)] + (os.name.lowercased() == chosenOS.lowercased() ? [("selected", "selected")] : []),
                           text: "\(os.name) (\(os.syscalls) syscalls)")
                    })]),
                el("label", [], [.text("or upload a support list (one syscall name or number per line)"),
                                  el("input", [("type", "file"), ("name", "osList"), ("accept", ".txt,.syscalls,text/plain")])]),
                el("label", [], [.text("its name"), el("input", [("type", "text"), ("name", "osName"), ("value", request.osName ?? ""), ("placeholder", "my-os")])]),
            ]),
            el("fieldset", [], [
                el("legend", text: "Applications (none checked: all \(appNames.count))"),
                el("div", [("class", "applist")], appNames.map { name in
                    el("label", [], [el("input", [("type", "checkbox"), ("name", "apps"), ("value", name)] + (chosenApps.contains(name) ? [("checked", "checked")] : [])), .text(name)])
                }),
            ]),
            ComparePage.workloadSelect(request.workload),
            el("label", [], [.text("Costs (optional: lines of \"name cost\")"),
                              el("textarea", [("name", "costs"), ("rows", "3"), ("cols", "24"), ("placeholder", "clone 5\nio_uring_setup 20")], text: request.costs ?? "")]),
            el("button", [("type", "submit")], text: "Plan"),
        ])
    }

    static func results(_ view: PlanView, request: PlanRequest) -> [Markup] {
        let last = view.steps.last
        var out: [Markup] = []
        out.append(el("h2", text: "Plan for \(view.os) (\(view.osSyscallCount) syscalls)"))
        out.append(el("p", [("class", "summary")], text:
            "\(view.apps.count) application\(view.apps.count == 1 ? "" : "s") (workload: \(view.workload.rawValue)); \(last?.supportedCount ?? 0) supported after "
            + "\(max(view.steps.count - 1, 0)) steps with \(last?.implementedCount ?? 0) syscalls implemented (cost \(number(last?.cost ?? 0))); "
            + "\(view.steps.first?.supportedCount ?? 0) run as they are. Hover over a call for why it was decided so."))
        out.append(el("ul", [("class", "downloads"), ("aria-label", "Downloads")], downloads(view, request: request)))
        if let figure = HTMLReport.planSection(view.curves) { out.append(figure) }
        out.append(el("h2", text: "Steps"))
        out.append(stepTable(view.steps))
        return out
    }

    /// The C stub skeleton (from the API for a bundled list; inline for an uploaded one, whose
    /// list a link cannot carry) and, for a bundled list, the plan as JSON.
    static func downloads(_ view: PlanView, request: PlanRequest) -> [Markup] {
        let fileName = SiteExports.safeFileName("\(view.os)-stubs") + ".c"
        guard request.osList == nil else {
            let href = "data:text/x-csrc;charset=utf-8;base64," + Data(view.skeleton.cSource.utf8).base64EncodedString()
            return [el("li", [], [el("a", [("href", href), ("download", fileName), ("data-format", "stubs")], text: "stub skeleton (C)")])]
        }
        let query = SiteQueries.queryString(request)
        return [
            el("li", [], [el("a", [("href", view.stubsHref), ("download", fileName), ("data-format", "stubs")], text: "stub skeleton (C)")]),
            el("li", [], [el("a", [("href", "/api/v1/plan?" + query), ("data-format", "json")], text: "plan (JSON)")]),
            el("li", [], [el("a", [("href", "/plan?" + query), ("data-format", "link")], text: "link to this plan")]),
        ]
    }

    /// The paper's Table 1: per step the calls implemented, stubbed and faked and the
    /// applications it brings.
    static func stepTable(_ steps: [PlanStep]) -> Markup {
        func calls(_ list: [DecidedSyscall]) -> Markup {
            guard !list.isEmpty else { return .text("–") }
            return el("span", [("class", "cell-list")], list.enumerated().flatMap { index, d -> [Markup] in
                (index > 0 ? [.text(", ")] : [])
                    + [el("span", [("title", d.reason), ("data-nr", String(d.number))], text: d.label + (d.previous.map { " (was \($0.rawValue))" } ?? ""))]
            })
        }
        return PageLayout.table(
            id: "plan-steps", header: ["Step", "Implement", "Stub", "Fake", "Support for…", "Apps", "Implemented", "Cost"],
            rows: steps.map { s in
                [PageLayout.number(s.step), calls(s.implement), calls(s.stub), calls(s.fake),
                 .text(s.step == 0 ? "(\(s.newlySupported.count) as they are) " + s.newlySupported.joined(separator: ", ") : "+ " + s.newlySupported.joined(separator: ", ")),
                 PageLayout.number(s.supportedCount), PageLayout.number(s.implementedCount), .text(number(s.cost))]
            }, numeric: [0, 5, 6, 7], rowAttributes: steps.map { [("class", "step"), ("data-step", String($0.step))] })
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }
}
