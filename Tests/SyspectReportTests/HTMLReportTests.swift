import Foundation
import SyspectCore
import SyspectPlan
import Testing
@testable import SyspectReport

@Suite("HTML report")
struct HTMLReportTests {
    static let sample = Measurement(
        app: "demo", workload: "benchmark-x", kind: .benchmark,
        verdicts: [0: .required, 1: .stub, 3: .fake, 9: .either, 435: .required],
        staticBinary: [0, 1, 2, 3, 9, 435, 60], staticSources: nil, source: "test")

    @Test("text and attributes are escaped: data cannot inject markup")
    func escaping() {
        #expect(Markup.escape(#"<a href="x">&'"#) == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;")
        var evil = Self.sample
        evil.app = #"<script>alert("x")</script>"#
        evil.workload = #"w" onmouseover="alert(1)"#
        let html = HTMLReport.render(ReportInput(title: "<b>t</b>", runs: [ReportedRun(measurement: evil)]))
        #expect(!html.contains("<script"))
        #expect(!html.contains("<b>t</b>"))
        #expect(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"))
        #expect(!html.contains(#"" onmouseover=""#))
    }

    @Test("one box per known x86-64 system call, coloured by verdict, named on hover")
    func gridBoxes() {
        let run = ReportedRun(measurement: Self.sample, tracedOnly: [2, 0])
        let grid = Charts.grid(run).rendered
        #expect(TestSupport.count("<rect class=\"box ", in: grid) == SyscallTable.x86_64Numbers.count)
        #expect(grid.contains(#"class="box s-required" data-nr="0""#))
        #expect(grid.contains(#"class="box s-stub" data-nr="1""#))
        #expect(grid.contains(#"class="box s-traced" data-nr="2""#))  // census only
        #expect(grid.contains(#"class="box s-fake" data-nr="3""#))
        #expect(grid.contains(#"class="box s-either" data-nr="9""#))
        #expect(grid.contains(#"class="box s-required" data-nr="435""#))  // clone3: above 334
        #expect(grid.contains(#"class="box s-untraced" data-nr="4""#))
        // 60 (exit) is only in the static-binary set: untraced, marked as found statically.
        #expect(grid.contains(#"class="box s-untraced static-only" data-nr="60""#))
        #expect(grid.contains("<title>60 exit: not traced, listed by static analysis</title>"))
        #expect(TestSupport.count("static-only", in: grid) == 1)
        #expect(grid.contains("<title>435 clone3: required</title>"))
        // tracedOnly never overrides a verdict.
        #expect(run.tracedCount == 6)
    }

    @Test("the grid skips the unused range 335...423 but keeps every number at its column")
    func gridRows() {
        let rows = Charts.gridRows()
        let drawn = rows.flatMap(\.numbers)
        #expect(drawn == SyscallTable.x86_64Numbers)
        for row in rows { #expect(row.numbers.allSatisfy { $0 >= row.start && $0 < row.start + Charts.gridColumns }) }
        #expect(!rows.contains { $0.start == 384 })
    }

    @Test("bars count traced calls by verdict and show static counts where known")
    func bars() {
        let svg = Charts.bars([ReportedRun(measurement: Self.sample)]).rendered
        #expect(svg.contains("demo/benchmark-x: 2 required"))
        #expect(svg.contains("demo/benchmark-x: 1 stub passes"))
        #expect(svg.contains("demo/benchmark-x: 1 fake passes"))
        #expect(svg.contains("demo/benchmark-x: 1 stub or fake passes"))
        #expect(svg.contains("static binary 7"))
        #expect(!svg.contains("static sources"))
        #expect(svg.contains("5 traced, 2 required"))
    }

    @Test("sections without data are left out; with data they appear")
    func optionalSections() {
        let bare = HTMLReport.render(ReportInput(runs: [ReportedRun(measurement: Self.sample)]))
        for id in ["importance", "plan", "impact", "subfeatures", "pseudofiles"] {
            #expect(!bare.contains("<section id=\"\(id)\""), "section \(id) without data")
        }
        let full = HTMLReport.render(ReportInput(
            runs: [ReportedRun(measurement: Self.sample)], importanceAppCount: 2,
            importance: APIImportance.compute([
                PlanTarget(app: "a", workloads: ["w"], verdicts: [0: .required, 1: .stub]),
                PlanTarget(app: "b", workloads: ["w"], verdicts: [0: .required]),
            ]),
            plan: PlanFigure(os: "Toy", appCount: 2, initialApps: 0, curves: [PlanCurve(label: "ours", points: [.init(syscalls: 0, apps: 0), .init(syscalls: 3, apps: 2)])]),
            impact: [ImpactRow(app: "nginx", syscall: 1, mode: .fake, performance: 0.15, fileDescriptors: nil, memory: nil, note: "logs not written")],
            subFeatures: [DetailRow(app: "redis", syscall: 16, item: "TCGETS", verdict: .stub)],
            pseudoFiles: [DetailRow(app: "nginx", syscall: nil, item: "/proc/self/maps", verdict: .fake)]))
        for id in ["grids", "bars", "importance", "plan", "impact", "subfeatures", "pseudofiles", "legend"] {
            #expect(full.contains("<section id=\"\(id)\""), "section \(id) missing")
        }
        #expect(full.contains("+15%"))
        #expect(full.contains("<code>TCGETS</code>"))
        #expect(full.contains("Support plan for Toy"))
    }

    @Test("two runs of one workload (from different sources) are both drawn and told apart")
    func repeatedWorkloads() {
        var other = Self.sample
        other.source = "loupedb:demo/benchmark-x/imported"
        let html = HTMLReport.render(ReportInput(runs: [ReportedRun(measurement: Self.sample), ReportedRun(measurement: other)]))
        #expect(TestSupport.count("<svg class=\"grid\"", in: html) == 2)
        #expect(html.contains("<span class=\"runsource\"> (test)</span>"))
        #expect(html.contains("<span class=\"runsource\"> (loupedb:demo/benchmark-x/imported)</span>"))
    }

    @Test("a store's census: unexplored calls are 'traced only'; an exploration without a measurement is drawn from its census")
    func censusRuns() {
        func entry(_ number: Int, _ arch: Arch = .x86_64) -> CensusEntry {
            CensusEntry(arch: arch, number: number, name: SyscallTable.displayName(of: number, arch: arch), calls: 1, failures: 0, errnos: [:])
        }
        let explored = ExplorationRecord(key: "k1", app: "demo", workload: "benchmark-x", kind: .benchmark, specHash: "h", specText: "",
                                         strategy: "one-by-one", startedAt: Date(), census: [entry(0), entry(1), entry(7), entry(20, .i386)])
        let running = ExplorationRecord(key: "k2", app: "demo", workload: "suite", kind: .suite, specHash: "h", specText: "",
                                        strategy: "one-by-one", startedAt: Date(), census: [entry(0), entry(2)])
        let runs = ReportBuilder.runs([Self.sample], explorations: [explored, running])
        #expect(runs.map(\.measurement.id) == ["demo/benchmark-x", "demo/suite"])
        #expect(runs[0].tracedOnly == [7])  // 0 and 1 have verdicts; i386 calls are not x86-64 boxes
        #expect(runs[0].status(of: 7) == .traced && runs[0].status(of: 1) == .stub)
        #expect(runs[1].tracedOnly == [0, 2] && runs[1].measurement.verdicts.isEmpty)
        #expect(runs[1].status(of: 2) == .traced)
    }

    @Test("the page is self-contained: no script, no external resource")
    func selfContained() {
        let html = HTMLReport.render(ReportInput(runs: [ReportedRun(measurement: Self.sample)]))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        for forbidden in ["<script", "http://", "https://", "@import", "url(", "<link"] {
            #expect(!html.contains(forbidden), "found \(forbidden)")
        }
    }

    @Test("axis scales are round and cover the data", arguments: [1, 3, 7, 24, 103, 116, 148, 380])
    func scales(value: Int) {
        let top = Charts.niceCeiling(value)
        #expect(top >= value)
        #expect(Double(top) <= Double(value) * 2.5 + 5)
        let ticks = Charts.ticks(max: Double(top))
        #expect(ticks.first == 0 && ticks.last == Double(top))
        #expect((3...11).contains(ticks.count) || top <= 2)
    }

    @Test("the importance curves are the ranked shares: required below traced at every rank")
    func importanceCurves() throws {
        let targets = PlanTarget.targets(from: BundledLoupedb.dataset.measurements, workload: .all)
        let html = HTMLReport.render(ReportInput(runs: [], importanceAppCount: targets.count, importance: APIImportance.compute(targets)))
        let section = try #require(html.components(separatedBy: "<section id=\"importance\"").dropFirst().first)
        func points(_ cssClass: String) throws -> [(Double, Double)] {
            let text = try #require(section.components(separatedBy: "class=\"series \(cssClass)\" points=\"").dropFirst().first?.split(separator: "\"").first)
            return text.split(separator: " ").map { pair in
                let xy = pair.split(separator: ",").map { Double($0)! }
                return (xy[0], xy[1])
            }
        }
        let required = try points("c-required"), traced = try points("c-traced")
        // SVG y grows downwards: at the same x, the required curve is never above the traced one.
        let tracedAt = Dictionary(traced.map { ($0.0, $0.1) }, uniquingKeysWith: max)
        for (x, y) in required { if let t = tracedAt[x] { #expect(y >= t) } }
        // The traced curve reaches further right: more calls traced than required (paper: 180 vs 148).
        #expect(traced.map(\.0).max()! > required.map(\.0).max()!)
        #expect(section.contains("Most required: "))
    }
}
