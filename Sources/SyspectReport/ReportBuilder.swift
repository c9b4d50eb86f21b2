import SyspectCore
import SyspectPlan

/// Builds the report's values from measurements and support plans (SyspectPlan computes the
/// plans; this only turns them into curves, rows and skeleton entries).
public enum ReportBuilder {
    /// The curve of a plan: (syscalls implemented, applications supported) after each step.
    public static func curve(_ plan: SupportPlan, label: String) -> PlanCurve {
        PlanCurve(label: label, points: plan.steps.map { PlanPoint(syscalls: $0.implementedCount, apps: $0.supportedCount) })
    }

    /// Figure 2 for one OS: our plan (search), the paper's greedy rule (same semantics), the
    /// naive plan that may neither stub nor fake (every traced call counts as required), and, for
    /// reference, the original tool's plan (swapped stub/fake, conflicts dropped: optimistic).
    /// With `staticSets` (per app, `StaticSet.byApp`), also the static baseline: every call
    /// static analysis finds implemented, over the apps that have a static set (the label says
    /// how many, and whose analysis).
    public static func planFigure(targets: [PlanTarget], os: OSSupport, workload: WorkloadSelection, costs: SyscallCosts = .uniform,
                                  staticSets: [String: StaticSet] = [:]) throws(PlanInputError) -> PlanFigure {
        let ours = try Planner.plan(targets: targets, os: os, workload: workload, costs: costs, strategy: .search)
        let greedy = try Planner.plan(targets: targets, os: os, workload: workload, costs: costs, strategy: .greedy)
        let naive = try Planner.plan(targets: PlanBaseline.naive.targets(targets).targets, os: os, workload: workload, costs: costs, strategy: .search)
        let original = try Planner.compare(targets: targets, os: os, costs: costs)
        let broken = original.originalBrokenClaims.count
        var curves = [
            curve(ours, label: "syspect plan (stub/fake)"),
            curve(greedy, label: "paper's greedy rule (stub/fake)"),
            curve(naive, label: "naive: no stub, no fake"),
            PlanCurve(label: "original tool's plan" + (broken > 0 ? " (\(broken) claimed apps fail)" : ""),
                      points: original.original.enumerated().map { PlanPoint(syscalls: Int($0.element.rounded()), apps: $0.offset) }),
        ]
        let staticBaseline = PlanBaseline.static.targets(targets, staticSets: staticSets)
        if !staticBaseline.targets.isEmpty {
            let plan = try Planner.plan(targets: staticBaseline.targets, os: os, workload: workload, costs: costs, strategy: .search)
            let own = staticBaseline.sources.values.filter { $0.source == .syspect }.count
            let whose = own == 0 ? "loupedb" : own == staticBaseline.targets.count ? "syspect" : "syspect \(own), loupedb \(staticBaseline.targets.count - own)"
            let coverage = staticBaseline.withoutStaticSet.isEmpty ? "" : ", \(staticBaseline.targets.count) of \(targets.count) apps"
            curves.append(curve(plan, label: "static analysis: implement all it finds (\(whose)\(coverage))"))
        }
        return PlanFigure(os: os.name, appCount: targets.count, initialApps: ours.steps.first?.supportedCount ?? 0, curves: curves)
    }

    /// The C skeleton for `plan`: every stub and fake in force after the last step, and the
    /// calls to implement, each with the planned applications that trace it.
    public static func stubSkeleton(plan: SupportPlan, targets: [PlanTarget], provenance: String) -> StubSkeleton {
        var latest: [Int: DecidedSyscall] = [:]
        for step in plan.steps {
            for decided in step.implement + step.stub + step.fake { latest[decided.number] = decided }
        }
        let planned = Set(plan.apps)
        func entry(_ decided: DecidedSyscall) -> StubSkeleton.Entry {
            let users = targets.filter { planned.contains($0.app) }.compactMap { target in
                target.verdicts[decided.number].map { "\(target.app) (\($0.rawValue))" }
            }
            return StubSkeleton.Entry(number: decided.number, name: decided.name, reason: decided.reason, neededBy: users)
        }
        let decided = latest.values.filter { plan.finalDecisions[$0.number] == $0.decision }
        return StubSkeleton(
            os: plan.os, apps: plan.apps, provenance: provenance,
            implement: decided.filter { $0.decision == .implement }.map(entry),
            stub: decided.filter { $0.decision == .stub }.map(entry),
            fake: decided.filter { $0.decision == .fake }.map(entry))
    }

    /// One reported run per measurement, ordered by application then workload. With
    /// `explorations` (from a results database), calls a baseline census traced but that have
    /// no verdict are drawn as "traced only", and an exploration without a measurement yet (still
    /// running, or interrupted) is drawn from its census alone.
    public static func runs(_ measurements: [Measurement], explorations: [ExplorationRecord] = []) -> [ReportedRun] {
        var censuses: [String: Set<Int>] = [:]
        var kinds: [String: WorkloadKind] = [:]
        for exploration in explorations {
            let id = "\(exploration.app)/\(exploration.workload)"
            censuses[id, default: []].formUnion(exploration.census.filter { $0.arch == .x86_64 }.map(\.number))
            kinds[id] = exploration.kind
        }
        var runs = measurements.map { ReportedRun(measurement: $0, tracedOnly: censuses[$0.id] ?? []) }
        let measured = Set(measurements.map(\.id))
        for (id, census) in censuses where !measured.contains(id) && !census.isEmpty {
            let parts = id.split(separator: "/", maxSplits: 1).map(String.init)
            let measurement = Measurement(app: parts[0], workload: parts[1], kind: kinds[id] ?? .health, verdicts: [:], source: "census")
            runs.append(ReportedRun(measurement: measurement, tracedOnly: census))
        }
        return runs.sorted { ($0.measurement.app, $0.measurement.workload, $0.measurement.source) < ($1.measurement.app, $1.measurement.workload, $1.measurement.source) }
    }
}
