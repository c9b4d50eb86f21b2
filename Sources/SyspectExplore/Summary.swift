import SyspectCore

/// What `syspect show` says about one exploration, rebuilt from the stored journal alone: the
/// strategy's verdicts and the final run / culprit search are pure functions of it, so replaying
/// them needs no probe.
public struct ExplorationSummary: Sendable, Codable, Hashable {
    public var key: String
    public var strategy: String
    /// Replicas per policy (the baseline's replica count).
    public var replicas: Int
    /// Probes journaled (all policies, replicas and outcomes, `error` included).
    public var probeCount: Int
    public var wallSeconds: Double
    public var finished: Bool
    public var passed: Int
    public var failed: Int
    public var errors: Int
    /// The final run and culprit search; nil while unfinished.
    public var report: CulpritReport?
    /// Where the adaptive priors came from (nil: another strategy, or not recorded).
    public var priors: PriorsSource?

    /// Rebuilds the summary of `exploration` from its probes.
    public init(_ exploration: ExplorationRecord, probes: [ProbeRecord]) {
        key = exploration.key
        strategy = exploration.strategy
        probeCount = exploration.probeCount
        wallSeconds = exploration.wallSeconds
        priors = exploration.priors
        finished = exploration.finishedAt != nil
        passed = probes.filter { $0.outcome == .pass }.count
        failed = probes.filter { $0.outcome == .fail }.count
        errors = probes.filter { $0.outcome == .error }.count
        let journal = Journal(probes)
        let replicas = journal.outcomes["baseline"]?.keys.max() ?? 1
        self.replicas = replicas
        let traced = Set(exploration.census.filter { $0.arch == .x86_64 }.map(\.number)).sorted()
        let name = StrategyName(rawValue: exploration.strategy) ?? .oneByOne
        let context = StrategyContext(traced: traced, replicas: replicas, journal: journal)
        // Verdicts are read from the journal alone (grouping priors do not matter to them).
        // Plausible fake values that passed (`--fake-values both`) changed what the final run used.
        let verdicts = FeatureProbePlan.withPlausibleFakes(name.strategy().verdicts(context), journal: journal, replicas: replicas).verdicts
        guard !traced.isEmpty, verdicts.count == traced.count else {
            report = nil
            return
        }
        let items = FinalConfirmation.assignments(verdicts)
        let oracle = { (policy: ProbePolicy) throws -> Bool in try journal.passes(policy, replicas: replicas) }
        // A finished exploration journaled before resolutions were undone has no undo probes,
        // and one journaled before conflicts were resolved by switching modes no switch probes:
        // its search, replayed without them, is what it ran.
        report = (try? FinalConfirmation.search(items, verdicts: verdicts, passes: oracle))
            ?? (finished ? try? FinalConfirmation.search(items, verdicts: verdicts, undo: false, passes: oracle) : nil)
            ?? (finished ? try? FinalConfirmation.search(items, verdicts: [:], undo: false, passes: oracle) : nil)
    }
}
