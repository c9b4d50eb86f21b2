import SyspectCore
import SyspectReport

/// The catalogue page (`/`): every application and workload of the site, searchable and
/// filterable by kind and source, with the paper's Figure 4 counts. The form filters on the
/// server (works without script, same query as GET /api/v1/apps); the script filters the rows
/// already shown as one types. Checked rows go to the compare page.
enum CataloguePage {
    /// `catalogue` is what GET /api/v1/apps answers for the same query.
    static func render(_ catalogue: Catalogue, sourceNote: String) -> String {
        let query = catalogue.query
        let body: [Markup] = [
            el("h1", text: "Catalogue"),
            el("p", [("class", "summary")], [
                el("span", [("id", "shown")], text: String(catalogue.entries.count)),
                .text(" of \(catalogue.total) measurements (application × workload × source), \(catalogue.apps) application\(catalogue.apps == 1 ? "" : "s")."),
            ]),
            filterForm(query),
            el("form", [("action", "/compare"), ("method", "get"), ("id", "compareform")], [
                el("p", [], [
                    el("button", [("type", "submit")], text: "Compare checked applications"),
                    el("span", [("class", "muted")], text: " (two or more; their workloads of each kind combined)"),
                ]),
                table(catalogue.entries),
            ]),
        ]
        let api = "/api/v1/apps" + PageLayout.query([("q", query.text), ("kind", query.kind?.rawValue), ("source", query.source?.rawValue)]
            .compactMap { name, value in value.flatMap { $0.isEmpty ? nil : (name, $0) } })
        return PageLayout.page(title: "Catalogue", active: "/", sourceNote: sourceNote, body: body, api: api, script: script)
    }

    static func filterForm(_ query: CatalogueQuery) -> Markup {
        func select(_ name: String, _ label: String, _ options: [String], _ chosen: String?) -> Markup {
            el("label", [], [.text(label), el("select", [("name", name), ("id", "f-\(name)")], ([""] + options).map { value in
                el("option", [("value", value)] + (value == (chosen ?? "") ? [("selected", "selected")] : []), text: value.isEmpty ? "any" : value)
            })])
        }
        return el("form", [("class", "filters"), ("action", "/"), ("method", "get"), ("role", "search")], [
            el("label", [], [.text("Application or workload"),
                              el("input", [("type", "search"), ("name", "q"), ("id", "f-q"), ("value", query.text ?? ""), ("placeholder", "e.g. redis")])]),
            select("kind", "Workload kind", WorkloadKind.allCases.map(\.rawValue), query.kind?.rawValue),
            select("source", "Source", SourceKind.allCases.map(\.rawValue), query.source?.rawValue),
            el("button", [("type", "submit")], text: "Filter"),
        ])
    }

    static func table(_ entries: [CatalogueEntry]) -> Markup {
        let header = ["", "Application", "Workload", "Kind", "Source", "Traced", "Required", "Stub", "Fake", "Either", "Static bound", "Probes"]
        let rows = entries.map { e -> [Markup] in
            [
                el("input", [("type", "checkbox"), ("name", "apps"), ("value", e.app), ("aria-label", "compare \(e.app)")]),
                el("a", [("href", PageLayout.appPath(e.app))], text: e.app),
                el("a", [("href", e.href)], text: e.workload),
                .text(e.kind.rawValue),
                el("span", [("title", e.sourceDetail)], text: e.source.rawValue),
                PageLayout.number(e.counts.traced), PageLayout.number(e.counts.required), PageLayout.number(e.counts.stub),
                PageLayout.number(e.counts.fake), PageLayout.number(e.counts.either),
                e.staticBinary.map(PageLayout.number) ?? .text("–"),
                e.probes.map(PageLayout.number) ?? .text("–"),
            ]
        }
        let attributes = entries.map { e in
            [("class", "entry"), ("data-app", e.app), ("data-workload", e.workload), ("data-kind", e.kind.rawValue), ("data-source", e.source.rawValue)]
        }
        return PageLayout.table(id: "catalogue", header: header, rows: rows, numeric: Set(5...11), rowAttributes: attributes)
    }

    /// Filters the shown rows as one types or picks (the same rule as the server: substring of
    /// the application or workload name, exact kind and source). A fragment such as
    /// `#q=redis&kind=benchmark` fills the fields first, so a filtered view can be linked to
    /// without a round trip.
    static let script = """
        (function(){
          var q=document.getElementById('f-q'),k=document.getElementById('f-kind'),s=document.getElementById('f-source');
          var rows=document.querySelectorAll('#catalogue tr.entry'),shown=document.getElementById('shown');
          var h=new URLSearchParams(location.hash.slice(1));
          if(h.has('q'))q.value=h.get('q');if(h.has('kind'))k.value=h.get('kind');if(h.has('source'))s.value=h.get('source');
          function apply(){
            var t=q.value.trim().toLowerCase(),n=0;
            rows.forEach(function(r){
              var ok=(!t||r.dataset.app.toLowerCase().indexOf(t)>=0||r.dataset.workload.toLowerCase().indexOf(t)>=0)
                &&(!k.value||r.dataset.kind===k.value)&&(!s.value||r.dataset.source===s.value);
              r.hidden=!ok;if(ok)n++;
            });
            shown.textContent=String(n);
          }
          q.addEventListener('input',apply);k.addEventListener('change',apply);s.addEventListener('change',apply);
          apply();
        })();
        """
}
