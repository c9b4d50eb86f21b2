import Foundation
import SyspectCore
import SyspectPlan
import Testing
@testable import SyspectReport

/// Issue 13, Must 3: the report's Figure 4 static bar from syspect's own analysis (source
/// marked), beside loupedb's, and the static curve of Figure 2.
@Suite("report: syspect's static bar and the static plan curve")
struct StaticBarTests {
    static let ours = SyspectCore.Measurement(
        app: "sqlite", workload: "benchmark-sql", kind: .benchmark, verdicts: [0: .required, 1: .stub, 3: .either],
        staticBinary: Set([0, 1, 3, 9, 10, 11, 12, 60, 231, 257]), source: "syspect")
    static var theirs: SyspectCore.Measurement {
        BundledLoupedb.dataset.measurements.first { $0.app == "sqlite" && $0.staticBinary != nil }!
    }

    @Test("ours is drawn as syspect's static bar, loupedb's as loupedb's, each with its own count")
    func barsMarkTheSource() throws {
        let theirs = Self.theirs
        let svg = Charts.bars(ReportBuilder.runs([Self.ours, theirs])).rendered
        let ourCount = Self.ours.staticBinary!.count, theirCount = try #require(theirs.staticBinary).count
        #expect(svg.contains("static binary \(ourCount) (syspect)"))
        #expect(svg.contains("static binary \(theirCount) (loupedb)"))
        #expect(svg.contains("sqlite/benchmark-sql: \(ourCount) found by static binary analysis (syspect)"))
        // Only our bar has the darker class.
        #expect(TestSupport.count("seg static static-syspect", in: svg) == 1)
        // loupedb's run may also have a static-sources bar: each of its non-empty sets is marked loupedb.
        let theirBars = [theirs.staticBinary, theirs.staticSources].filter { !($0 ?? []).isEmpty }.count
        #expect(TestSupport.count("data-static-source=\"loupedb\"", in: svg) == theirBars)
        let html = HTMLReport.render(ReportInput(runs: ReportBuilder.runs([Self.ours, theirs])))
        #expect(html.contains("static analysis by syspect"))
        #expect(html.contains("static binary \(ourCount) (syspect)"))
    }

    @Test("the plan figure draws 'implement all static analysis finds' over the apps that have a set")
    func staticCurve() throws {
        let measurements = BundledLoupedb.dataset.measurements.filter { ["sqlite", "redis", "memcached"].contains($0.app) }
        let targets = try Planner.targets(from: measurements, workload: .all)
        let sets = StaticSet.byApp(measurements + [Self.ours], workload: .all)
        let os = try #require(BundledLoupedb.dataset.osSupport["Kerla"])
        let figure = try ReportBuilder.planFigure(targets: targets, os: os, workload: .all, staticSets: sets)
        let curve = try #require(figure.curves.last)
        let covered = targets.filter { sets[$0.app] != nil }
        #expect(covered.count < targets.count, "memcached has no static set in loupedb")
        #expect(curve.label.contains("static analysis") && curve.label.contains("\(covered.count) of \(targets.count) apps"))
        #expect(curve.label.contains("syspect 1, loupedb \(covered.count - 1)"))
        // Its end: every call of every covered app's set (and traced calls a set lacks) implemented.
        let all = covered.reduce(into: Set<Int>()) { $0.formUnion(sets[$1.app]!.syscalls.union($1.verdicts.keys)) }
        #expect(curve.points.last == PlanPoint(syscalls: all.subtracting(os.syscalls).count, apps: covered.count))
        // Without static sets the figure keeps its four curves.
        #expect(try ReportBuilder.planFigure(targets: targets, os: os, workload: .all).curves.count == 4)
    }
}
