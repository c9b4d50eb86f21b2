import Foundation
import SyspectCore
import SyspectPlan
@testable import SyspectServe
import Testing

/// The page renderers and the pages' form reading, as pure functions (no socket): escaping,
/// what each page draws from its view model, repeated and multipart form fields.
@Suite struct PagesTests {
    static let data = SiteData(stored: [], explorations: [], bundled: BundledLoupedb.dataset)

    @Test func dataNeverBecomesMarkup() {
        let hostile = "<script>alert(1)</script>\"'&"
        let entry = CatalogueEntry(app: hostile, workload: hostile, kind: .benchmark, source: .syspect, sourceDetail: hostile,
                                   counts: VerdictCounts([0: .required]), staticBinary: nil, explored: false, probes: nil,
                                   href: SiteQueries.pagePath(hostile, hostile))
        let page = CataloguePage.render(Catalogue(query: CatalogueQuery(text: hostile), entries: [entry], apps: 1, total: 1), sourceNote: hostile)
        #expect(!page.contains("<script>alert"))
        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"))
        #expect(page.contains("href=\"/apps/%3Cscript%3Ealert%281%29%3C%2Fscript%3E%22%27%26\""))
        // The one script on the page is the site's own.
        #expect(PageTestSupport.count("<script>", in: page) == 1)
    }

    @Test func theCatalogueHasOneRowPerEntry() {
        let catalogue = SiteQueries.catalogue(Self.data, CatalogueQuery(kind: .suite))
        let page = CataloguePage.render(catalogue, sourceNote: "")
        #expect(PageTestSupport.count("<tr class=\"entry\"", in: page) == catalogue.entries.count)
        #expect(page.contains("<option value=\"suite\" selected=\"selected\">suite</option>"))
    }

    @Test func anApplicationPageDrawsTheReportsGridPerWorkload() throws {
        let measurements = try SiteQueries.measurements(Self.data, app: "nginx", workload: nil)
        let detail = AppDetail(app: "nginx", workloads: measurements.map { SiteQueries.workloadDetail($0, extras: nil) })
        let page = AppPage.render(detail, oneWorkload: false, sourceNote: "")
        BrowserPagesTests.expectGrids(page, count: measurements.count, counts: detail.workloads.map(\.counts))
        #expect(PageTestSupport.count("<tr class=\"call\"", in: page) == measurements.map(\.verdicts.count).reduce(0, +))
        // The rebuilt run colours every box as the API's grid says, static-only boxes darker.
        for w in detail.workloads {
            let run = AppPage.reportedRun(w)
            #expect(w.grid.allSatisfy { run.status(of: $0.number).rawValue == $0.status })
        }
        let staticOnly = detail.workloads.map { $0.grid.filter(\.staticOnly).count }.reduce(0, +)
        #expect(staticOnly > 0 && PageTestSupport.count("static-only\" data-nr=", in: page) == staticOnly)
    }

    @Test func anExploredWorkloadShowsItsEvidenceFindingsAndImpact() {
        let record = ServeFixtures.record()
        let probes = [("baseline", ProbeOutcome.pass), ("stub:39", .pass), ("fake:39", .fail), ("stub:0", .fail)]
            .map { ServeFixtures.probe(record.key, $0.0, $0.1) }
        let (_, impact) = ServeFixtures.impact(record.key)
        let extras = ExplorationExtras(record: record, probes: probes, findings: ServeFixtures.findings(), impact: impact)
        let w = SiteQueries.workloadDetail(ServeFixtures.measurement(), extras: extras)
        let page = AppPage.render(AppDetail(app: "redis", workloads: [w]), oneWorkload: true, sourceNote: "")
        #expect(PageTestSupport.count("<details>", in: page) == w.calls.filter { !$0.evidence.isEmpty }.count)
        #expect(page.contains("2 probes: 1 pass, 1 fail"))
        #expect(PageTestSupport.count("<tr class=\"feature\"", in: page) == w.features.count)
        #expect(PageTestSupport.count("<tr class=\"file\"", in: page) == w.files.count)
        #expect(PageTestSupport.count("<tr class=\"impact\"", in: page) == w.impact.count)
        #expect(page.contains("metric 100 → 90, p 0.01 (flagged)") && page.contains("-10%"))
        #expect(page.contains("Static analysis upper bound (syspect): 4 calls; every traced call is inside it."))
        #expect(page.contains("Explored here: 4 probes (pass 2, fail 2, error 0)"))
        #expect(page.contains("href=\"/api/v1/apps/redis/benchmark-redis-benchmark\" class=\"api\""))
    }

    @Test func aPlanPageHasOneRowPerStepAndTheCurves() throws {
        let view = try SiteQueries.plan(Self.data, PlanRequest(os: "Kerla", apps: ["redis", "nginx", "sqlite"]))
        let page = PlanPage.render(view, request: PlanRequest(os: "Kerla", apps: ["redis", "nginx", "sqlite"]),
                                   osLists: [OSListEntry(name: "Kerla", syscalls: 58)], appNames: Self.data.appNames, sourceNote: "")
        #expect(PageTestSupport.count("<tr class=\"step\"", in: page) == view.steps.count)
        #expect(PageTestSupport.count("<polyline class=\"series", in: page) == view.curves!.curves.filter { !$0.points.isEmpty }.count)
        #expect(page.contains("<option value=\"Kerla\" selected=\"selected\">"))
        #expect(PageTestSupport.count("checked=\"checked\"", in: page) == 3)
    }

    @Test func aRenderedPageIsReusedOnlyForAnEqualInput() {
        let cache = PageCache(limit: 2)
        var renders = 0
        func render(_ c: Catalogue, _ note: String) -> String {
            cache.page("catalogue", c, context: [note]) { renders += 1; return CataloguePage.render(c, sourceNote: note) }
        }
        let all = SiteQueries.catalogue(Self.data, CatalogueQuery()), suites = SiteQueries.catalogue(Self.data, CatalogueQuery(kind: .suite))
        let first = render(all, "a")
        #expect(render(all, "a") == first && renders == 1)
        #expect(render(suites, "a") != first && renders == 2)
        #expect(render(all, "b") != first && renders == 3)
        #expect(cache.count <= 2)
    }

    @Test func repeatedAndCommaSeparatedFieldsAreOneList() {
        let fields = PageInput.pairs("apps=redis&apps=nginx%2Csqlite&apps=redis&only=differ&q=a+b")
        #expect(PageInput.list(fields, "apps") == ["redis", "nginx", "sqlite"])
        #expect(PageInput.last(fields, "only") == "differ")
        #expect(PageInput.last(fields, "q") == "a b")
    }

    static func multipartBody(_ boundary: String, _ parts: [(String, String?, String)]) -> Data {
        var text = ""
        for (name, file, value) in parts {
            text += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"" + (file.map { "; filename=\"\($0)\"" } ?? "") + "\r\n"
            if file != nil { text += "Content-Type: text/plain\r\n" }
            text += "\r\n\(value)\r\n"
        }
        return Data((text + "--\(boundary)--\r\n").utf8)
    }

    @Test func aMultipartFormGivesThePlanRequest() throws {
        let boundary = "----syspect123"
        let body = Self.multipartBody(boundary, [
            ("os", nil, ""), ("osList", "my.syscalls", "read\r\nwrite\n# comment\n"), ("osName", nil, "mine"),
            ("apps", nil, "redis"), ("apps", nil, "nginx"), ("workload", nil, "benchmark"), ("costs", nil, ""),
        ])
        let fields = try PageInput.formFields(body, contentType: "multipart/form-data; boundary=\"\(boundary)\"")
        let request = try PageInput.planRequest(fields)
        #expect(request.os == "" && request.osList == "read\r\nwrite\n# comment\n" && request.osName == "mine")
        #expect(request.apps == ["redis", "nginx"] && request.workload == .benchmark && request.costs == "")
        // The uploaded list wins over the (empty) bundled choice.
        #expect(try SiteQueries.osSupport(Self.data, request) == OSSupport(name: "mine", syscalls: [0, 1]))
    }

    @Test func badFormsAreRefusedWithAMessage() {
        let boundary = "b0undary"
        var cut = Self.multipartBody(boundary, [("os", nil, "Kerla")])
        cut.removeLast(12)
        #expect(throws: SiteError.self) { try PageInput.formFields(cut, contentType: "multipart/form-data; boundary=\(boundary)") }
        #expect(throws: SiteError.self) { try PageInput.formFields(Data(), contentType: "multipart/form-data") }
        #expect(throws: SiteError.self) { try PageInput.formFields(Data("{}".utf8), contentType: "application/json") }
        do {
            _ = try SiteQueries.plan(Self.data, try PageInput.planRequest(PageInput.pairs("os=&workload=all")))
            Issue.record("a plan without an OS was accepted")
        } catch {
            #expect(error.status == .badRequest && error.message.contains("a plan needs an OS"))
        }
        #expect(throws: SiteError.self) { try PageInput.planRequest(PageInput.pairs("os=Kerla&workload=nonsense")) }
        let binary = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"osList\"; filename=\"x\"\r\n\r\n".utf8)
            + Data([0xFF, 0xFE]) + Data("\r\n--\(boundary)--\r\n".utf8)
        #expect(throws: SiteError.self) { try PageInput.formFields(binary, contentType: "multipart/form-data; boundary=\(boundary)") }
    }
}
