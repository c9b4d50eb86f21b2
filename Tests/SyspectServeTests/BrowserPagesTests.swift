import Foundation
import SyspectCore
import SyspectPlan
import SyspectStore
import SyspectTestSupport
@testable import SyspectServe
import Testing

/// The site's pages in headless Chromium (Debian `chromium`, scripts/setup), served for real on
/// loopback over an SQLite store that holds one exploration `syspect explore` really measured
/// (the C fixture's fcntl workload, with sub-features and pseudo-files, about 20 s), beside the
/// bundled loupedb data. Each page: the DOM Chromium built is checked against the JSON API's
/// answer for the same request (rows, grid boxes, plan steps), Chromium logs no console message,
/// and a screenshot is kept in artifacts/serve/ (git-ignored).
@Suite("Pages in headless Chromium", .serialized)
struct BrowserPagesTests {
    static let chromium = which("chromium", "chromium-browser", "google-chrome")

    /// The measured application's name (the spec's `name`).
    static let measuredApp = "fixture-fcntl"

    @Test("catalogue: one row per API entry, the server-side and the script's filters agree with the API",
          .enabled(if: chromium != nil, "chromium is not installed here (scripts/setup installs it; CI runs this)"))
    func catalogue() async throws {
        try await PageTestSupport.withServer { http, base in
            let api = try await PageTestSupport.api(Catalogue.self, http, "/api/v1/apps")
            #expect(api.entries.count > 116 && api.entries.contains { $0.app == Self.measuredApp && $0.source == .syspect })
            let dom = try Self.load(base + "/", screenshot: "catalogue")
            #expect(PageTestSupport.count("<tr class=\"entry\"", in: dom) == api.entries.count)
            #expect(dom.contains("data-app=\"\(Self.measuredApp)\"") && dom.contains("<span id=\"shown\">\(api.entries.count)</span>"))

            // The form's filter (no script needed): the same rows as the API's.
            let filtered = try await PageTestSupport.api(Catalogue.self, http, "/api/v1/apps?source=syspect")
            let filteredDOM = try Self.load(base + "/?source=syspect")
            #expect(filtered.entries.count == 1)
            #expect(PageTestSupport.count("<tr class=\"entry\"", in: filteredDOM) == filtered.entries.count)

            // The script's filter (a fragment fills the fields): hidden rows, the same count.
            let redis = try await PageTestSupport.api(Catalogue.self, http, "/api/v1/apps?q=redis&kind=benchmark")
            let scripted = try Self.load(base + "/#q=redis&kind=benchmark")
            let visible = PageTestSupport.count("<tr class=\"entry\"", in: scripted) - PageTestSupport.count("\" hidden=\"\">", in: scripted)
            #expect(redis.entries.count >= 1)
            #expect(visible == redis.entries.count, "script shows \(visible) rows, API \(redis.entries.count)")
            #expect(scripted.contains("<span id=\"shown\">\(redis.entries.count)</span>"))
        }
    }

    @Test("the measured application: grid boxes, calls with probe evidence, sub-features, pseudo-files, downloads as the API says",
          .enabled(if: chromium != nil, "chromium is not installed here (scripts/setup installs it; CI runs this)"))
    func measuredApplication() async throws {
        try await PageTestSupport.withServer { http, base in
            let api = try await PageTestSupport.api(AppDetail.self, http, "/api/v1/apps/\(Self.measuredApp)")
            let w = try #require(api.workloads.first)
            #expect(api.workloads.count == 1 && w.source == .syspect)
            #expect(!w.features.isEmpty && !w.files.isEmpty && w.calls.contains { !$0.evidence.isEmpty })
            let dom = try Self.load(base + "/apps/\(Self.measuredApp)", screenshot: "app-measured")
            Self.expectGrids(dom, count: 1, counts: [w.counts])
            #expect(PageTestSupport.count("<tr class=\"call\"", in: dom) == w.calls.count)
            for call in w.calls {
                #expect(dom.contains("<tr class=\"call\" data-nr=\"\(call.number)\" data-verdict=\"\(call.verdict.rawValue)\">"), "call \(call.number)")
            }
            #expect(PageTestSupport.count("<details>", in: dom) == w.calls.filter { !$0.evidence.isEmpty }.count)
            #expect(PageTestSupport.count("<tr class=\"feature\"", in: dom) == w.features.count)
            #expect(PageTestSupport.count("<tr class=\"file\"", in: dom) == w.files.count)
            for link in w.downloads { #expect(dom.contains("href=\"\(link.href.replacingOccurrences(of: "&", with: "&amp;"))\""), "\(link.href)") }
            if let e = w.exploration { #expect(dom.contains("Explored here: \(e.probes) probes")) }
            // The download links answer (the API serves them).
            let json = try await PageTestSupport.api(WorkloadDetail.self, http, w.downloads.first { $0.format == "json" }!.href)
            #expect(json.calls == w.calls)
        }
    }

    @Test("a loupedb application (every workload) and one of its workloads",
          .enabled(if: chromium != nil, "chromium is not installed here (scripts/setup installs it; CI runs this)"))
    func loupedbApplication() async throws {
        try await PageTestSupport.withServer { http, base in
            let api = try await PageTestSupport.api(AppDetail.self, http, "/api/v1/apps/redis")
            #expect(api.workloads.count >= 2)
            let dom = try Self.load(base + "/apps/redis", screenshot: "app-redis")
            Self.expectGrids(dom, count: api.workloads.count, counts: api.workloads.map(\.counts))
            #expect(PageTestSupport.count("<section id=\"w", in: dom) == api.workloads.count)
            // loupedb's static analysis: the darker boxes are the API's static-only ones.
            let staticOnly = api.workloads.map { $0.grid.filter(\.staticOnly).count }.reduce(0, +)
            #expect(staticOnly > 0 && PageTestSupport.count("static-only\" data-nr=", in: dom) == staticOnly)
            #expect(PageTestSupport.count("<tr class=\"call\"", in: dom) == api.workloads.map(\.calls.count).reduce(0, +))
            let one = try #require(api.workloads.first)
            let single = try Self.load(base + "/apps/redis/\(one.workload)")
            Self.expectGrids(single, count: 1, counts: [one.counts])
        }
    }

    @Test("compare: one grid per application and one row per call any of them traced",
          .enabled(if: chromium != nil, "chromium is not installed here (scripts/setup installs it; CI runs this)"))
    func compare() async throws {
        try await PageTestSupport.withServer { http, base in
            let apps = "redis,nginx,\(Self.measuredApp)"
            let api = try await PageTestSupport.api(Comparison.self, http, "/api/v1/compare?apps=\(apps)")
            let dom = try Self.load(base + "/compare?apps=\(apps)", screenshot: "compare")
            Self.expectGrids(dom, count: 3, counts: api.apps.map { api.counts[$0]! })
            #expect(PageTestSupport.count("<tr class=\"call", in: dom) == api.rows.count)
            let differing = api.rows.filter { row in Set(api.apps.map { row.verdicts[$0]?.rawValue ?? "" }).count > 1 }.count
            #expect(PageTestSupport.count("<tr class=\"call differs\"", in: dom) == differing)
            let only = try Self.load(base + "/compare?apps=\(apps)&only=differ")
            #expect(PageTestSupport.count("<tr class=\"call", in: only) == differing)
        }
    }

    @Test("plan over all 116 loupedb applications and the measured one: steps and curves as the API says",
          .enabled(if: chromium != nil, "chromium is not installed here (scripts/setup installs it; CI runs this)"))
    func plan() async throws {
        try await PageTestSupport.withServer { http, base in
            let api = try await PageTestSupport.api(PlanView.self, http, "/api/v1/plan?os=Kerla")
            #expect(api.apps.count >= 117 && api.steps.count > 1)
            let dom = try Self.load(base + "/plan?os=Kerla", screenshot: "plan")
            #expect(PageTestSupport.count("<tr class=\"step\"", in: dom) == api.steps.count)
            for step in api.steps {
                #expect(dom.contains("<tr class=\"step\" data-step=\"\(step.step)\">"))
            }
            let curves = try #require(api.curves)
            #expect(PageTestSupport.count("<polyline class=\"series c-", in: dom) == curves.curves.filter { !$0.points.isEmpty }.count)
            #expect(dom.contains("\(api.steps.last!.supportedCount) supported after \(api.steps.count - 1) steps"))
            #expect(dom.contains("href=\"\(api.stubsHref.replacingOccurrences(of: "&", with: "&amp;"))\""))
            let skeleton = try await http.get(api.stubsHref)
            #expect(skeleton.status == 200 && skeleton.text.contains("-ENOSYS"))
            // The form alone: every bundled list and every application offered.
            let os = try await PageTestSupport.api([OSListEntry].self, http, "/api/v1/os")
            let form = try Self.load(base + "/plan")
            let catalogue = try await PageTestSupport.api(Catalogue.self, http, "/api/v1/apps")
            // "(uploaded list)", the bundled lists, the workload kinds.
            #expect(PageTestSupport.count("<option value=\"", in: form) == 1 + os.count + WorkloadSelection.allCases.count)
            #expect(PageTestSupport.count("name=\"apps\"", in: form) == catalogue.apps)
        }
    }

    @Test("an uploaded support list (multipart, as the form sends it) plans like the API's JSON request")
    func uploadedList() async throws {
        try await PageTestSupport.withServer { http, _ in
            let list = "# a tiny OS\nread\nwrite\nopenat\nclose\nexit_group\n"
            let boundary = "----syspect-pages-\(UUID().uuidString)"
            let form = PagesTests.multipartBody(boundary, [
                ("os", nil, ""), ("osList", "tiny.syscalls", list), ("osName", nil, "tiny"),
                ("apps", nil, "redis"), ("apps", nil, "nginx"), ("workload", nil, "benchmark"), ("costs", nil, ""),
            ])
            let page = try await http.post("/plan", body: form, contentType: "multipart/form-data; boundary=\(boundary)")
            #expect(page.status == 200, "\(page.text.suffix(500))")
            let body = try JSONSerialization.data(withJSONObject: ["osList": list, "osName": "tiny", "apps": ["redis", "nginx"], "workload": "benchmark"])
            let api = try await http.post("/api/v1/plan", body: body).json(PlanView.self)
            #expect(api.os == "tiny" && api.osSyscallCount == 5 && api.apps == ["nginx", "redis"])
            #expect(PageTestSupport.count("<tr class=\"step\"", in: page.text) == api.steps.count)
            #expect(page.text.contains("Plan for tiny (5 syscalls)"))
            // The skeleton of an uploaded list is inline (a link cannot carry the list).
            #expect(page.text.contains("href=\"data:text/x-csrc;charset=utf-8;base64,\(Data(api.skeleton.cSource.utf8).base64EncodedString())\""))

            // A list naming no known call is refused with the API's message, as an HTML page.
            let bad = try await http.post("/plan", body: PagesTests.multipartBody(boundary, [("osList", "bad.syscalls", "read\nno_such_call\n")]),
                                          contentType: "multipart/form-data; boundary=\(boundary)")
            #expect(bad.status == 400)
            #expect(bad.text.contains("class=\"problem\"") && bad.text.contains("no_such_call"), "\(bad.text.suffix(500))")
        }
    }

    // MARK: - Helpers

    /// The report's grids in `dom`: `count` of them, each with a box per x86-64 call, coloured
    /// with the API's counts.
    static func expectGrids(_ dom: String, count: Int, counts: [VerdictCounts], sourceLocation: SourceLocation = #_sourceLocation) {
        let grids = dom.components(separatedBy: "<svg class=\"grid\"").dropFirst().map { $0.components(separatedBy: "</svg>")[0] }
        #expect(grids.count == count, sourceLocation: sourceLocation)
        for (grid, c) in zip(grids, counts) {
            #expect(PageTestSupport.count("<rect class=\"box ", in: grid) == SyscallTable.x86_64Numbers.count, sourceLocation: sourceLocation)
            #expect(PageTestSupport.count("class=\"box s-required", in: grid) == c.required, sourceLocation: sourceLocation)
            #expect(PageTestSupport.count("class=\"box s-stub", in: grid) == c.stub, sourceLocation: sourceLocation)
            #expect(PageTestSupport.count("class=\"box s-fake", in: grid) == c.fake, sourceLocation: sourceLocation)
            #expect(PageTestSupport.count("class=\"box s-either", in: grid) == c.either, sourceLocation: sourceLocation)
            #expect(PageTestSupport.count("class=\"box s-traced", in: grid) + PageTestSupport.count("class=\"box s-untraced", in: grid)
                    == SyscallTable.x86_64Numbers.count - c.required - c.stub - c.fake - c.either, sourceLocation: sourceLocation)
        }
    }

    static let chromiumFlags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
                                "--enable-logging=stderr", "--v=0", "--hide-scrollbars"]

    /// The DOM Chromium built from `url` (after its script ran); expects no console message and,
    /// with `screenshot`, also keeps artifacts/serve/<screenshot>.png.
    static func load(_ url: String, screenshot: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let profile = try PageTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let result = try runProgram(chromium!, chromiumFlags + ["--user-data-dir=\(profile)", "--dump-dom", url])
        #expect(result.status == 0, "chromium failed on \(url): \(result.stderr.suffix(2000))", sourceLocation: sourceLocation)
        for marker in [":CONSOLE", "Uncaught", "SyntaxError", "Failed to load"] {
            #expect(!result.stderr.contains(marker), "chromium reported \(marker) on \(url): \(result.stderr.suffix(2000))", sourceLocation: sourceLocation)
        }
        #expect(result.stdout.contains("</html>"), "no page from \(url)", sourceLocation: sourceLocation)
        if let screenshot {
            let png = try artifactsFolder("serve") + "/\(screenshot).png"
            try? FileManager.default.removeItem(atPath: png)
            let shot = try runProgram(chromium!, chromiumFlags + ["--user-data-dir=\(profile)", "--window-size=1280,1600", "--screenshot=\(png)", url])
            #expect(shot.status == 0, "chromium screenshot failed: \(shot.stderr.suffix(2000))", sourceLocation: sourceLocation)
            let data = try Data(contentsOf: URL(fileURLWithPath: png))
            #expect(data.starts(with: [0x89, 0x50, 0x4E, 0x47]), sourceLocation: sourceLocation)
        }
        return result.stdout
    }
}

/// The pages tests' fixture and tools: one store with a real exploration (made once per test
/// run), a server on loopback per test, the API read with the API tests' HTTP client.
enum PageTestSupport {
    /// The store: `syspect explore` of the C fixture's fcntl workload with `--features all --files`.
    static let store: Result<String, PageTestError> = Result { () throws(PageTestError) in
        do { return try explore() } catch let error as PageTestError { throw error } catch { throw PageTestError("\(error)") }
    }

    /// Where the exploration lives (not under /tmp, which each probe's sandbox replaces); removed
    /// when the test process exits.
    static let folder = "/var/tmp/syspect-pages-tests/\(UUID().uuidString.prefix(8))"

    static func explore() throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: PageTestSupport.folder) }
        let binary = serveSyspectBinary
        let fixture = (binary as NSString).deletingLastPathComponent + "/syspect-fixture"
        let spec = folder + "/fixture-fcntl.yaml"
        try """
            name: \(BrowserPagesTests.measuredApp)
            workload: {name: health-fcntl, kind: health}
            command: [\(fixture), feature-fcntl, "1"]
            targets: [syspect-fixture]
            replicas: 1
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        let db = folder + "/site.db"
        let run = try runProgram(binary, ["explore", spec, "--no-static", "--features", "all", "--files",
                                          "--db", db, "--work-dir", folder + "/probes"])
        guard run.status == 0 else { throw PageTestError("syspect explore failed (\(run.status)): \(run.stderr.suffix(2000))") }
        return db
    }

    /// Runs `body` with a server on 127.0.0.1 (a free port) over the store and the bundled data:
    /// the API's HTTP client and the base URL for Chromium.
    static func withServer(_ body: (HTTP, String) async throws -> Void) async throws {
        let site = Site(store: try SQLiteStore(path: try store.get()))
        try await SyspectServeTests.withServer(site) { http in try await body(http, http.base.absoluteString) }
    }

    /// GET `path` from the API, expecting 200 and a JSON `T`.
    static func api<T: Decodable>(_ type: T.Type, _ http: HTTP, _ path: String) async throws -> T {
        let answer = try await http.get(path)
        guard answer.status == 200 else { throw PageTestError("GET \(path): \(answer.status) \(answer.text.prefix(500))") }
        return try answer.json(type)
    }

    static func temporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "syspect-pages-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func count(_ needle: String, in haystack: String) -> Int {
        haystack.components(separatedBy: needle).count - 1
    }
}

struct PageTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
