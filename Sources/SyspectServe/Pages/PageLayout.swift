import SyspectCore
import SyspectReport

/// The frame every page of `syspect serve` shares: the report's style sheet plus the site's own
/// rules, a navigation bar, the title and the data attribution. Pure: markup in, HTML string out.
/// Every text from data goes through `Markup`, which escapes it.
enum PageLayout {
    /// The navigation entries, in order: (path, label).
    static let sections: [(path: String, label: String)] = [
        ("/", "Catalogue"), ("/compare", "Compare"), ("/plan", "Plan"),
    ]

    /// A whole page. `active` is the navigation path to mark; `api` the JSON API resource with
    /// the same data (linked in the footer); `script` (trusted, written by syspect) runs at the
    /// end of the body.
    static func page(title: String, active: String, sourceNote: String, body: [Markup], api: String? = nil, script: String? = nil) -> String {
        let nav = el("nav", [("class", "site")], [el("a", [("href", "/"), ("class", "brand")], text: "syspect")] + sections.map { item in
            el("a", [("href", item.path)] + (item.path == active ? [("aria-current", "page")] : []), text: item.label)
        })
        var children: [Markup] = [nav, el("main", [], body)]
        children.append(el("footer", [], [
            api.map { el("p", [], [.text("This page's data as JSON: "), el("a", [("href", $0), ("class", "api")], text: $0),
                                  .text(" (docs/openapi.yaml)")]) },
            el("p", [("class", "source")], text: sourceNote),
        ].compactMap { $0 }))
        if let script { children.append(el("script", [], [.trusted(script)])) }
        let html = el("html", [("lang", "en")], [
            el("head", [], [
                el("meta", [("charset", "utf-8")]),
                el("meta", [("name", "viewport"), ("content", "width=device-width, initial-scale=1")]),
                // No favicon request (a 404 would be logged by browsers).
                el("link", [("rel", "icon"), ("href", "data:,")]),
                el("title", text: title + " · syspect"),
                el("style", [], [.trusted(HTMLReport.styleSheet + styleSheet)]),
            ]),
            el("body", [], children),
        ])
        return "<!DOCTYPE html>\n" + html.rendered + "\n"
    }

    /// A page for a request the site cannot answer (unknown application, bad form value):
    /// the one-line message and a way back.
    static func problem(title: String, message: String, sourceNote: String) -> String {
        page(title: title, active: "", sourceNote: sourceNote, body: [
            el("h1", text: title),
            el("p", [("class", "problem"), ("role", "alert")], text: message),
            el("p", [], [el("a", [("href", "/")], text: "Back to the catalogue")]),
        ])
    }

    /// `<span class="tag s-…">verdict</span>`, coloured as the report's boxes.
    static func verdictTag(_ verdict: Verdict?) -> Markup {
        guard let verdict else { return el("span", [("class", "muted")], text: "–") }
        return el("span", [("class", "tag s-\(BoxStatus(verdict).rawValue)")], text: verdict.rawValue)
    }

    /// A table with a header row; `numeric` columns are right-aligned.
    static func table(id: String? = nil, header: [String], rows: [[Markup]], numeric: Set<Int> = [], rowAttributes: [[(String, String)]] = []) -> Markup {
        let head = el("thead", [], [el("tr", [], header.map { el("th", [("scope", "col")], text: $0) })])
        let body = el("tbody", [], rows.enumerated().map { index, cells in
            el("tr", index < rowAttributes.count ? rowAttributes[index] : [], cells.enumerated().map { column, cell in
                el("td", numeric.contains(column) ? [("class", "num")] : [], [cell])
            })
        })
        return el("table", id.map { [("id", $0)] } ?? [], [head, body])
    }

    /// A number cell's content.
    static func number(_ value: Int) -> Markup { .text(String(value)) }

    /// The path of an application's page (the name percent-encoded).
    static func appPath(_ app: String) -> String { "/apps/" + SiteQueries.escape(app) }

    /// A query string from (name, value) pairs, e.g. "?apps=redis&apps=nginx".
    static func query(_ items: [(String, String)]) -> String {
        items.isEmpty ? "" : "?" + items.map { SiteQueries.escape($0.0) + "=" + SiteQueries.escape($0.1) }.joined(separator: "&")
    }

    /// The site's rules on top of the report's style sheet (system fonts, same palette).
    static let styleSheet = """

        nav.site{display:flex;gap:18px;align-items:baseline;border-bottom:2px solid #ddd;padding:6px 0;margin-bottom:12px}
        nav.site a{color:var(--ink);text-decoration:none}nav.site a[aria-current=page]{font-weight:600;border-bottom:2px solid var(--stub)}
        nav.site .brand{font-weight:700;margin-right:12px}
        footer{margin-top:32px;border-top:1px solid #ddd}
        .muted{color:var(--muted)}.problem{color:#a00;font-weight:600}
        form.filters,form.planform{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:flex-start;margin:8px 0 12px}
        form.filters{align-items:end}
        form label{display:flex;flex-direction:column;font-size:.85em;color:var(--muted)}
        form fieldset{border:1px solid #ddd;padding:4px 10px}
        .applist{max-height:14em;overflow:auto;columns:4 10em;font-size:.85em}
        .applist label{flex-direction:row;gap:4px;color:var(--ink)}
        .downloads{display:flex;flex-wrap:wrap;gap:6px 14px;list-style:none;padding:0}
        .downloads a{border:1px solid #bbb;border-radius:3px;padding:1px 8px;text-decoration:none}
        .counts td.num,.counts th{min-width:3.5em}
        tr[hidden]{display:none}
        td.cell-list{max-width:28em}
        """
}
