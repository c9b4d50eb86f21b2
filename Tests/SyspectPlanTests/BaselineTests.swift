import Testing
@testable import SyspectCore
@testable import SyspectPlan

/// `plan --baseline naive|static` (the paper's Figure 2 reference curves) on a tiny dataset.
/// Expectations are derived by brute force over every subset of apps, never written down.
@Suite("plan baselines (naive dynamic, static binary)")
struct BaselineTests {
    // Three apps; calls by real x86-64 numbers. c has no static set.
    static let targets = [
        Toy.target("a", [0: .required, 1: .stub, 3: .fake]),
        Toy.target("b", [0: .required, 2: .either, 257: .required]),
        Toy.target("c", [1: .required, 60: .stub]),
    ]
    static let staticSets: [String: StaticSet] = [
        "a": StaticSet(syscalls: [0, 1, 3, 9, 10, 11], source: .syspect, detail: "call graph, 3 objects"),
        // b's set lacks 257 (openat), which b traces: it must still be implemented.
        "b": StaticSet(syscalls: [0, 2, 9, 12], source: .loupedb, detail: "benchmark-x"),
    ]
    static let os = OSSupport(name: "tiny", syscalls: [0])

    /// The least cost to support at least n of `targets` with every call required: brute force.
    static func bruteForceCurve(_ targets: [PlanTarget], os: OSSupport) -> [Double] {
        var best = [Double](repeating: .infinity, count: targets.count + 1)
        for mask in 0..<(1 << targets.count) {
            let chosen = targets.indices.filter { mask & (1 << $0) != 0 }
            let needed = Set(chosen.flatMap { targets[$0].verdicts.keys }).subtracting(os.syscalls)
            for n in 0...chosen.count { best[n] = min(best[n], Double(needed.count)) }
        }
        return best
    }

    @Test("static: every call of the static set (and any traced call it lacks) is required; apps without a set are left out")
    func staticTargets() {
        let baseline = PlanBaseline.static.targets(Self.targets, staticSets: Self.staticSets)
        #expect(baseline.withoutStaticSet == ["c"])
        #expect(baseline.targets.map(\.app) == ["a", "b"])
        for target in baseline.targets {
            let traced = Set(Self.targets.first { $0.app == target.app }!.verdicts.keys)
            #expect(Set(target.verdicts.keys) == Self.staticSets[target.app]!.syscalls.union(traced))
            #expect(target.verdicts.values.allSatisfy { $0 == .required })
        }
        #expect(baseline.tracedOutsideStatic == ["b": [257]])
        #expect(baseline.sources["a"]?.source == .syspect && baseline.sources["b"]?.source == .loupedb)
    }

    @Test("static and naive plans reach the brute-force minimum for every number of apps, and ours ≤ naive ≤ static")
    func curves() throws {
        let naive = PlanBaseline.naive.targets(Self.targets)
        #expect(naive.targets.allSatisfy { t in t.verdicts.values.allSatisfy { $0 == .required } })
        let naivePlan = try Planner.plan(targets: naive.targets, os: Self.os)
        #expect(naivePlan.curve == Self.bruteForceCurve(naive.targets, os: Self.os))

        let statics = PlanBaseline.static.targets(Self.targets, staticSets: Self.staticSets)
        let staticPlan = try Planner.plan(targets: statics.targets, os: Self.os)
        #expect(staticPlan.curve == Self.bruteForceCurve(statics.targets, os: Self.os))
        #expect(Toy.claimsRun(staticPlan, statics.targets, Self.os))
        // Implementing everything static analysis finds costs the union of the sets.
        let union = Set(statics.targets.flatMap(\.verdicts.keys)).subtracting(Self.os.syscalls)
        #expect(staticPlan.steps.last?.implementedCount == union.count)

        // On the apps the static baseline covers: stub/fake ≤ naive ≤ static, for every n.
        let covered = Self.targets.filter { statics.sources[$0.app] != nil }
        let ours = try Planner.plan(targets: covered, os: Self.os).curve
        let naiveCovered = try Planner.plan(targets: PlanBaseline.naive.targets(covered).targets, os: Self.os).curve
        for n in ours.indices {
            #expect(ours[n] <= naiveCovered[n] && naiveCovered[n] <= staticPlan.curve[n], "n = \(n)")
        }
    }

    @Test("byApp: syspect's own set wins over loupedb's, loupedb's is the union over the selected workloads")
    func byApp() {
        func m(_ app: String, _ workload: String, _ kind: WorkloadKind, _ set: Set<Int>?, _ source: String) -> Measurement {
            Measurement(app: app, workload: workload, kind: kind, verdicts: [0: .required], staticBinary: set, source: source)
        }
        let sets = StaticSet.byApp([
            m("a", "benchmark-x", .benchmark, [0, 1], "loupedb:a/benchmark-x/1"),
            m("a", "health-y", .health, [0, 1, 2, 3], "syspect"),
            m("b", "benchmark-x", .benchmark, [0, 5], "loupedb:b/benchmark-x/1"),
            m("b", "suite", .suite, [0, 6], "loupedb:b/suite/1"),
            m("c", "benchmark-x", .benchmark, nil, "loupedb:c/benchmark-x/1"),
        ], workload: .benchmark, details: ["a": "call graph"])
        #expect(sets["a"] == StaticSet(syscalls: [0, 1, 2, 3], source: .syspect, detail: "call graph"))
        #expect(sets["b"] == StaticSet(syscalls: [0, 5], source: .loupedb, detail: "benchmark-x"))
        #expect(sets["c"] == nil)
        #expect(StaticSet.byApp([m("b", "benchmark-x", .benchmark, [0, 5], "l"), m("b", "suite", .suite, [0, 6], "l")])["b"]?.syscalls == [0, 5, 6])
    }

    @Test("notes name each set's source, the apps left out and the traced calls a set lacked")
    func notes() {
        let lines = PlanRendering.notes(PlanBaseline.static.targets(Self.targets, staticSets: Self.staticSets))
        #expect(lines.contains { $0.hasPrefix("Static sets from syspect's own analysis") && $0.contains("a 6 (call graph, 3 objects)") })
        #expect(lines.contains { $0.hasPrefix("Static sets from loupedb's static_binary.csv") && $0.contains("b 4") })
        #expect(lines.contains { $0.contains("no static analysis known: c") })
        #expect(lines.contains { $0.contains("b's static set") && $0.contains("openat") })
    }
}
