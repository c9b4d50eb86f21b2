import SyspectCore

/// Our plan's curve against the paper's greedy rule (same, header semantics) and against the
/// original tool's own semantics (`--compare-greedy`).
public struct PlanComparison: Sendable, Hashable, Codable {
    public var os: String
    public var apps: [String]
    /// `curve[n]` = cost to support at least n apps (n = 0...apps.count).
    public var ours: [Double]
    public var greedy: [Double]
    /// The original tool's plan: greedy over "required" only, stub/fake labels swapped, and
    /// conflicts (stub-only vs fake-only) dropped. Optimistic: its claims may not run.
    public var original: [Double]
    /// Apps the original plan claims that do not run under its own decisions with header
    /// semantics (stub/fake swapped or conflicting).
    public var originalBrokenClaims: [String]

    /// The n where ours needs strictly less than greedy.
    public var oursBetter: [Int] { ours.indices.filter { ours[$0] < greedy[$0] } }
    /// The n where ours needs more than greedy (always empty: the search is bounded by greedy).
    public var oursWorse: [Int] { ours.indices.filter { ours[$0] > greedy[$0] } }
}

extension Planner {
    /// Compares the three curves for `targets` on `os`.
    public static func compare(
        targets: [PlanTarget], os: OSSupport, costs: SyscallCosts = .uniform,
        beamWidth: Int = defaultBeamWidth, candidates: Int = defaultCandidates
    ) throws(PlanInputError) -> PlanComparison {
        let model = try PlanModel(targets: targets, os: os, costs: costs)
        let greedy = Searches.greedy(model)
        let ours = Searches.beam(model, greedy: greedy, beamWidth: beamWidth, candidates: candidates)
        let original = OriginalTool.plan(targets: targets, os: os, costs: costs)
        return PlanComparison(
            os: os.name, apps: targets.map(\.app),
            ours: Searches.curve(ours, appCount: model.appCount),
            greedy: Searches.curve(greedy, appCount: model.appCount),
            original: original.curve, originalBrokenClaims: original.broken)
    }
}

/// A re-enactment of the original tool's `support_plan` (for reference only).
enum OriginalTool {
    /// Its curve, and the apps it claims that do not actually run.
    static func plan(targets: [PlanTarget], os: OSSupport, costs: SyscallCosts) -> (curve: [Double], broken: [String]) {
        // Its per-app "required": required in some workload (workload conflicts dropped).
        let required = targets.map { t in
            Set(t.verdicts.filter { $0.value == .required && !t.workloadConflicts.contains($0.key) }.keys)
        }
        var implemented = Set<Int>()
        var stubbed = Set<Int>(), faked = Set<Int>()
        var remaining = Array(targets.indices)
        var curve = [Double](repeating: 0, count: targets.count + 1)
        var cost = 0.0
        var broken: [String] = []
        for n in 1...max(1, targets.count) where !remaining.isEmpty {
            // Next app: fewest required syscalls left (first in name order on ties).
            let missing = remaining.map { required[$0].subtracting(os.syscalls).subtracting(implemented) }
            let pick = missing.indices.min { missing[$0].count < missing[$1].count || (missing[$0].count == missing[$1].count && $0 < $1) }!
            let app = remaining.remove(at: pick)
            implemented.formUnion(missing[pick])
            cost += missing[pick].reduce(0) { $0 + costs.cost(of: $1) }
            curve[n] = cost
            // Its swapped reading: "works faked" (our .fake) is stubbed, "works stubbed" (.stub) faked.
            for (number, verdict) in targets[app].verdicts where !os.syscalls.contains(number) && !implemented.contains(number) {
                switch verdict {
                case .fake, .either: stubbed.insert(number)
                case .stub: faked.insert(number)
                case .required: faked.insert(number)  // a dropped workload conflict: it keeps one side
                }
            }
            if !runsUnder(targets[app], os: os, implemented: implemented, stubbed: stubbed, faked: faked) {
                broken.append(targets[app].app)
            }
        }
        return (curve, broken.sorted())
    }

    /// Runs if every missing syscall is implemented, or stubbed/faked in a way it tolerates. A
    /// syscall the original both stubs and fakes is given the benefit of the doubt.
    private static func runsUnder(
        _ t: PlanTarget, os: OSSupport, implemented: Set<Int>, stubbed: Set<Int>, faked: Set<Int>
    ) -> Bool {
        t.verdicts.allSatisfy { number, verdict in
            os.syscalls.contains(number) || implemented.contains(number)
                || (stubbed.contains(number) && verdict.canStub) || (faked.contains(number) && verdict.canFake)
        }
    }
}
