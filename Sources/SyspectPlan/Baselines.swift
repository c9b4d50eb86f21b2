import SyspectCore

/// The reference curves of the paper's Figure 2, as plans (`syspect plan --baseline`): what an OS
/// would have to implement if it trusted a coarser analysis than syspect's stub/fake verdicts.
public enum PlanBaseline: String, Sendable, Codable, CaseIterable {
    /// Naive dynamic analysis: every traced call is implemented (no stub, no fake).
    case naive
    /// Static binary analysis: every call the static analysis finds is implemented.
    case `static`
}

/// Where an application's static set came from.
public enum StaticSetSource: String, Sendable, Codable, Hashable {
    /// syspect's own analysis of the binaries and libraries (`syspect explore` stored it).
    case syspect
    /// loupedb's published `static_binary.csv` (another tool's analysis, the paper's data).
    case loupedb
}

/// One application's static set for the static baseline.
public struct StaticSet: Sendable, Codable, Hashable {
    /// x86-64 syscall numbers the analysis lists.
    public var syscalls: Set<Int>
    public var source: StaticSetSource
    /// Free text shown with the source, e.g. "call graph, 6 objects" or the loupedb run.
    public var detail: String

    public init(syscalls: Set<Int>, source: StaticSetSource, detail: String = "") {
        self.syscalls = syscalls
        self.source = source
        self.detail = detail
    }
}

extension StaticSet {
    /// Per application, the static set to plan with: syspect's own (the union over the app's
    /// measurements with source "syspect", whatever their workload: the set belongs to the
    /// binaries) where one exists, else the union of the other measurements' `staticBinary`
    /// (loupedb's `static_binary.csv`) over the selected workloads. `details` (per app) is shown
    /// with syspect's sets, e.g. "call graph, 7 objects".
    public static func byApp(_ measurements: [Measurement], workload: WorkloadSelection = .all,
                             details: [String: String] = [:]) -> [String: StaticSet] {
        var ours: [String: Set<Int>] = [:], theirs: [String: (Set<Int>, [String])] = [:]
        for m in measurements {
            guard let found = m.staticBinary else { continue }
            if m.source == "syspect" {
                ours[m.app, default: []].formUnion(found)
            } else if workload.includes(m.kind) {
                let previous = theirs[m.app] ?? ([], [])
                theirs[m.app] = (previous.0.union(found), previous.1 + [m.workload])
            }
        }
        var sets = theirs.mapValues { StaticSet(syscalls: $0.0, source: .loupedb, detail: $0.1.sorted().joined(separator: "+")) }
        for (app, set) in ours { sets[app] = StaticSet(syscalls: set, source: .syspect, detail: details[app] ?? "") }
        return sets
    }
}

/// The targets of a baseline plan, and what the baseline had to leave out or add.
public struct BaselineTargets: Sendable, Codable, Hashable {
    public var baseline: PlanBaseline
    /// One per planned app: every call of the baseline's set required.
    public var targets: [PlanTarget]
    /// Static baseline: the source of each planned app's set.
    public var sources: [String: StaticSet]
    /// Static baseline: apps without any static set (left out of the plan), sorted.
    public var withoutStaticSet: [String]
    /// Static baseline: per app, calls the plan's measurements trace but the static set lacks
    /// (added, since the app cannot run without them). Empty when the analysis covers the census;
    /// with loupedb's sets, or ours of another version of the binary, it need not.
    public var tracedOutsideStatic: [String: [Int]]

    public init(baseline: PlanBaseline, targets: [PlanTarget], sources: [String: StaticSet] = [:],
                withoutStaticSet: [String] = [], tracedOutsideStatic: [String: [Int]] = [:]) {
        self.baseline = baseline
        self.targets = targets
        self.sources = sources
        self.withoutStaticSet = withoutStaticSet
        self.tracedOutsideStatic = tracedOutsideStatic
    }
}

extension PlanBaseline {
    /// The targets this baseline plans for: `naive` marks every traced call required; `static`
    /// replaces each app's calls by its static set (plus any traced call the set lacks), all
    /// required. Apps with no entry in `staticSets` are left out of a static baseline.
    public func targets(_ targets: [PlanTarget], staticSets: [String: StaticSet] = [:]) -> BaselineTargets {
        switch self {
        case .naive:
            return BaselineTargets(baseline: self, targets: targets.map { target in
                PlanTarget(app: target.app, workloads: target.workloads, verdicts: target.verdicts.mapValues { _ in .required })
            })
        case .static:
            var planned: [PlanTarget] = [], sources: [String: StaticSet] = [:], outside: [String: [Int]] = [:]
            var without: [String] = []
            for target in targets {
                guard let set = staticSets[target.app] else {
                    without.append(target.app)
                    continue
                }
                let missing = Set(target.verdicts.keys).subtracting(set.syscalls)
                if !missing.isEmpty { outside[target.app] = missing.sorted() }
                let all = set.syscalls.union(missing)
                planned.append(PlanTarget(app: target.app, workloads: target.workloads,
                                          verdicts: Dictionary(uniqueKeysWithValues: all.map { ($0, Verdict.required) })))
                sources[target.app] = set
            }
            return BaselineTargets(baseline: self, targets: planned, sources: sources,
                                   withoutStaticSet: without.sorted(), tracedOutsideStatic: outside)
        }
    }

    /// The curve's name in plan summaries and charts.
    public var label: String {
        switch self {
        case .naive: return "naive dynamic analysis: every traced call implemented (no stub, no fake)"
        case .static: return "static binary analysis: every call it finds implemented"
        }
    }
}

extension PlanRendering {
    /// The lines under a baseline plan: which analysis, where each app's static set came from,
    /// the apps left out and the traced calls a static set lacked.
    public static func notes(_ b: BaselineTargets) -> [String] {
        var lines = ["Baseline: \(b.baseline.label)."]
        guard b.baseline == .static else { return lines }
        for source in [StaticSetSource.syspect, .loupedb] {
            let apps = b.sources.filter { $0.value.source == source }.sorted { $0.key < $1.key }
            guard !apps.isEmpty else { continue }
            let what = source == .syspect ? "syspect's own analysis (results database)" : "loupedb's static_binary.csv"
            lines.append("Static sets from \(what): " + apps.map { app, set in
                "\(app) \(set.syscalls.count)" + (set.detail.isEmpty ? "" : " (\(set.detail))")
            }.joined(separator: ", ") + ".")
        }
        if !b.withoutStaticSet.isEmpty {
            lines.append("Left out, no static analysis known: \(b.withoutStaticSet.joined(separator: ", ")) "
                + "(run `syspect explore SPEC` for them, or choose --apps).")
        }
        for (app, calls) in b.tracedOutsideStatic.sorted(by: { $0.key < $1.key }) {
            lines.append("Traced in the plan's data but missing from \(app)'s static set (implemented anyway): "
                + calls.map { SyscallTable.displayName(of: $0) }.joined(separator: ", ") + ".")
        }
        return lines
    }
}
