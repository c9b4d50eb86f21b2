import Foundation
import SyspectCore
import SyspectTrace

/// How to explore (the CLI's options).
public struct ExploreOptions: Sendable {
    /// Probes run at once.
    public var jobs: Int
    /// After the baseline, run more probes at once when a command or suite workload (the whole
    /// workload is the tree the sampler measures) keeps less than a core busy
    /// (`Explorer.jobs(cpuShare:…)`); the CLI's default when --jobs is not given.
    public var jobsFromBaseline = false
    /// Replicas per policy; nil: the spec's `replicas`.
    public var replicas: Int?
    public var strategy: StrategyName
    /// Folder of the probe folders; nil: `ExploreOptions.defaultWorkDirectory`.
    public var workDirectory: String?
    /// Sub-features probed alone after the whole calls (nil: none; issue 5).
    public var features: FeatureScope? = nil
    /// Pseudo-files probed absent and stubbed.
    public var files = false
    /// Fake values tried: 0 only, or 0 then the `FakeValues` table value.
    public var fakeValues: FakeValueChoice = .zero
    /// The adaptive strategy's priors when the database holds no other application.
    public var priorsFallback: PriorsFallback = .bundledLoupedb
    /// Static analysis of the targets after the census (issue 13, `StaticCheck`); nil: none.
    public var staticAnalyzer: (any StaticAnalyzing)? = nil

    public init(jobs: Int = ProcessInfo.processInfo.activeProcessorCount, replicas: Int? = nil,
                strategy: StrategyName = .oneByOne, workDirectory: String? = nil) {
        self.jobs = jobs
        self.replicas = replicas
        self.strategy = strategy
        self.workDirectory = workDirectory
    }

    /// `$XDG_STATE_HOME/syspect/probes` (default `~/.local/state/syspect/probes`).
    public static func defaultWorkDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let state = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "\(environment["HOME"] ?? NSHomeDirectory())/.local/state"
        return "\(state)/syspect/probes"
    }
}

/// The phases of an explore, in order.
public enum ExplorePhase: String, Sendable, Codable {
    case baseline, probes, final, culprits
}

/// Where an explore stands, for progress displays.
public struct ProgressSnapshot: Sendable {
    public var phase: ExplorePhase
    /// Probes finished (this and earlier sessions of the same exploration).
    public var done: Int
    /// Expected total (grows if the final run fails and culprits are searched).
    public var total: Int
    /// Seconds since this session started.
    public var elapsed: Double
    /// Probes finished in this session.
    public var sessionDone: Int
    public var jobs: Int
    public var verdictCounts: [Verdict: Int]

    /// Seconds left at this session's pace; nil before the first probe of the session.
    public var eta: Double? {
        guard sessionDone > 0, total > done else { return sessionDone > 0 ? 0 : nil }
        return elapsed / Double(sessionDone) * Double(total - done)
    }
}

/// What the explore reports as it goes. Callbacks arrive on the thread that called `run`.
public enum ExploreEvent: Sendable {
    /// The exploration already had finished probes: they will not run again.
    case resumed(key: String, finishedProbes: Int)
    case phase(ExplorePhase, ProgressSnapshot)
    case probeFinished(ProbeRecord, ProgressSnapshot)
    /// A baseline replica's eBPF census had a full map (the census is exact; `warning` lines
    /// say what was lost, `notice` lines what ran slower).
    case censusOverflow(replica: Int, CensusOverflow)
    /// Probes from now on run `jobs` at once: a baseline run kept `cpuShare` of a core busy
    /// (`ExploreOptions.jobsFromBaseline`).
    case jobs(Int, cpuShare: Double)
}

/// Why an explore stopped. `description` is the one-line message (plus output where useful).
public enum ExploreError: Error, Sendable, CustomStringConvertible {
    case baselineFailed(reason: String, output: String, directory: String)
    case baselineFlaky(passed: Int, replicas: Int, reason: String, output: String, directory: String)
    case targetsNeverRun([String])
    case noTracedCalls
    case probeCannotRun(policy: String, reason: String)
    case workDirectoryUnderTmp(String)

    public var description: String {
        switch self {
        case .baselineFailed(let reason, let output, let dir):
            return "the workload fails without any interposition (\(reason)); fix the spec or the "
                + "application first (logs: \(dir))" + Self.quote(output)
        case .baselineFlaky(let passed, let replicas, let reason, let output, let dir):
            return "the workload is flaky: \(passed) of \(replicas) baseline runs passed, one failed (\(reason)); "
                + "make the test script deterministic before exploring (logs: \(dir))" + Self.quote(output)
        case .targetsNeverRun(let targets):
            return "target binary \(targets.joined(separator: ", ")) never ran in the baseline; fix `targets` "
                + "(a real path or the basename of a program the command runs)"
        case .noTracedCalls:
            return "the baseline traced no x86-64 system call of the targets; check `targets`"
        case .probeCannotRun(let policy, let reason):
            return "probe \(policy) could not run three times: \(reason)"
        case .workDirectoryUnderTmp(let path):
            return "the probe folder \(path) is under /tmp, which each probe's sandbox replaces; "
                + "choose another --work-dir"
        }
    }

    private static func quote(_ output: String) -> String {
        let text = output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return "" }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(20)
        return "\n--- end of the workload's output ---\n" + lines.joined(separator: "\n")
    }
}

/// The result of a completed explore.
public struct ExploreResult: Sendable {
    public var exploration: ExplorationRecord
    /// The verdicts saved to the store (after the culprit search, see `FinalConfirmation`).
    public var measurement: SyspectCore.Measurement
    /// Per-call verdicts before the final run.
    public var probeVerdicts: [Int: Verdict]
    public var report: CulpritReport
    /// Census entries of other ABIs (i386 `int $0x80`, x32): reported, never probed.
    public var otherABICalls: [CensusEntry]
    /// Probes run in this session (the rest came from the journal).
    public var sessionProbes: Int
    /// Speculative probes of the final run and culprit search cancelled in this session (not
    /// in `sessionProbes`: their outcome was no longer needed, nothing of them is stored).
    public var cancelledProbes = 0
    /// A suite's must-pass, flaky and ignored test cases (nil: no suite results; docs/suites.md).
    public var suiteCriterion: SuiteCriterion? = nil
    /// The static analysis of the targets and its check against the census (nil: not asked for).
    public var staticOutcome: StaticOutcome? = nil
}

/// One `syspect explore`: baseline, probes (by strategy), final run and culprit search, with
/// every probe journaled in the store so that running it again resumes.
public final class Explorer {
    public let spec: AppSpec
    public let store: any ResultStore
    public let options: ExploreOptions
    public private(set) var runner: any ProbeRunning
    public let key: String

    private var journal = Journal()
    /// Probes at once (`options.jobs`, raised after the baseline with `jobsFromBaseline`).
    private var jobs: Int
    private var exploration: ExplorationRecord
    private var recordCount = 0
    private var sessionStart = Date()
    private var sessionDone = 0
    private var previousWall = 0.0
    private var phase = ExplorePhase.baseline
    /// During the final run and culprit search: probes expected once the current set is done.
    private var setTotal = 0
    /// Speculative probes of the final run and culprit search cancelled this session.
    private var cancelledProbes = 0
    /// Probes below whole calls (`--features`, `--files`, `--fake-values both`), once planned.
    private var belowCallsTotal = 0
    private var events: (ExploreEvent) -> Void = { _ in }
    /// The baseline's test case criterion (suites with result files only).
    private var suiteCriterion: SuiteCriterion?

    /// `runner`: nil for the real sandboxed `ProbeRunner` in the work directory.
    public init(spec: AppSpec, store: any ResultStore, options: ExploreOptions, runner: (any ProbeRunning)? = nil) throws {
        self.spec = spec
        self.store = store
        self.options = options
        self.key = Explorer.key(for: spec)
        self.jobs = options.jobs
        self.runner = try runner ?? ProbeRunner(spec: spec, workDirectory: Explorer.probeFolder(spec: spec, workDirectory: options.workDirectory))
        self.exploration = ExplorationRecord(
            key: key, app: spec.name, workload: spec.workload, kind: spec.kind, specHash: Explorer.specHash(spec),
            specText: spec.text, strategy: options.strategy.rawValue, startedAt: Date())
    }

    /// The folder of the spec's probe folders: `<work directory>/<app>-<workload>-<hash>` (the
    /// work directory nil: `ExploreOptions.defaultWorkDirectory`; never under /tmp).
    public static func probeFolder(spec: AppSpec, workDirectory: String?) throws -> String {
        let absolute = URL(fileURLWithPath: workDirectory ?? ExploreOptions.defaultWorkDirectory()).standardizedFileURL.path
        if absolute == "/tmp" || absolute.hasPrefix("/tmp/") { throw ExploreError.workDirectoryUnderTmp(absolute) }
        return "\(absolute)/\(spec.name)-\(spec.workload)-\(Explorer.specHash(spec).prefix(8))"
    }

    /// Hash of the spec text, the test script's content and, when `command[0]` is a file of the
    /// spec's folder (a wrapper or suite script), its content: a changed spec or script starts a
    /// new exploration, the same one resumes.
    public static func specHash(_ spec: AppSpec) -> String {
        func content(_ path: String?) -> String {
            path.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
        }
        let wrapper = spec.command.first.flatMap { $0.hasPrefix(spec.directory + "/") ? $0 : nil }
        return stableHash(spec.text + "\u{0}" + content(spec.script) + "\u{0}" + content(wrapper))
    }

    /// The adaptive strategy's timeouts: 10× the slowest baseline (start-up or run), at least
    /// `floor`, at most the spec's value.
    public static func adaptiveTimeout(spec: Double, baseline: Double, floor: Double) -> Double {
        min(spec, max(floor, 10 * baseline))
    }

    /// `app/workload@hash`.
    public static func key(for spec: AppSpec) -> String {
        "\(spec.name)/\(spec.workload)@\(specHash(spec).prefix(12))"
    }

    var replicas: Int { options.replicas ?? spec.replicas }

    public func run(events: @escaping (ExploreEvent) -> Void = { _ in }) throws -> ExploreResult {
        self.events = events
        sessionStart = Date()
        // One run per exploration and database at a time: a second is refused (docs/store.md).
        let claim = try store.claimExploration(key: key)
        defer { claim.release() }
        try store.beginExploration(exploration)
        if let stored = try store.exploration(key: key) { exploration = stored }
        exploration.strategy = options.strategy.rawValue
        previousWall = exploration.wallSeconds
        let records = try store.probes(exploration: key)
        journal = Journal(records)
        // Runs counted by the explorer (retried launch errors included; the store keeps the last
        // record of each (policy, replica)).
        recordCount = max(exploration.probeCount, records.count)
        if journal.count > 0 { events(.resumed(key: key, finishedProbes: journal.count)) }

        try baseline()
        let traced = Set(exploration.census.filter { $0.arch == .x86_64 }.map(\.number)).sorted()
        guard !traced.isEmpty else { throw ExploreError.noTracedCalls }
        let staticOutcome = try options.staticAnalyzer.map {
            try StaticCheck.run($0, spec: spec, census: exploration.census, exploration: key, store: store)
        }
        // Priors (adaptive grouping): what the other applications in the store needed, else the
        // bundled loupedb measurements; where they came from is stored with the exploration.
        var priors = Priors()
        exploration.priors = nil
        if options.strategy == .adaptive {
            (priors, exploration.priors) = Priors.choose(app: spec.name, stored: try store.measurements(apps: nil, kind: nil),
                                                         fallback: options.priorsFallback)
        }
        let strategy = options.strategy.strategy(priors: priors)
        let context = { [unowned self] in StrategyContext(traced: traced, replicas: self.replicas, journal: self.journal) }

        phase = .probes
        events(.phase(.probes, snapshot(strategy: strategy, traced: traced)))
        try scheduler().run(census: false, next: { _ in strategy.nextProbes(context()) }) { request, run in
            try self.journalProbe(request, run, strategy: strategy, traced: traced)
        }
        let verdicts = try probeBelowCalls(strategy.verdicts(context()), strategy: strategy, traced: traced)

        phase = .final
        setTotal = journal.count + replicas
        events(.phase(.final, snapshot(strategy: strategy, traced: traced)))
        let report = try confirm(verdicts, strategy: strategy, traced: traced)

        let confirmed = FinalConfirmation.confirmedVerdicts(verdicts, report: report)
        let measurement = SyspectCore.Measurement(app: spec.name, workload: spec.workload, kind: spec.kind,
                                      verdicts: confirmed, staticBinary: staticOutcome?.record?.analysis.syscalls, source: "syspect")
        try store.save(measurement)
        exploration.finishedAt = Date()
        try saveProgress()
        return ExploreResult(
            exploration: exploration, measurement: measurement, probeVerdicts: verdicts, report: report,
            otherABICalls: exploration.census.filter { $0.arch != .x86_64 }, sessionProbes: sessionDone, cancelledProbes: cancelledProbes, suiteCriterion: suiteCriterion,
            staticOutcome: staticOutcome)
    }

    // MARK: - Phases

    /// Plausible fake values, sub-features and pseudo-files, each probed alone (issue 5,
    /// `FeatureProbePlan`); stores the findings. Returns the whole-call verdicts with the
    /// plausible fakes that passed; the runner fakes those calls with their value from now on.
    private func probeBelowCalls(_ verdicts: [Int: Verdict], strategy: any ExplorationStrategy, traced: [Int]) throws -> [Int: Verdict] {
        let census = try store.findings(exploration: key)
        let plan = FeatureProbePlan(
            fakeValues: options.fakeValues, features: options.features, files: options.files,
            featureCensus: census.features.map(\.use), fileCensus: census.files.map(\.use), verdicts: verdicts, replicas: replicas)
        guard !plan.targets.isEmpty else { return verdicts }
        belowCallsTotal = plan.allProbes.count
        try scheduler().run(census: false, next: { _ in plan.nextProbes(self.journal) }) { request, run in
            try self.journalProbe(request, run, strategy: strategy, traced: traced)
        }
        try store.saveFindings(plan.findings(journal), exploration: key)
        let upgraded = plan.upgradedVerdicts(journal)
        runner = runner.withFakeValues(upgraded.fakeValues)
        return upgraded.verdicts
    }

    /// Runs every baseline replica (with a census) unless a previous session finished them.
    /// A failing or flaky baseline journals its runs as `error` (not evidence: the next explore
    /// runs the baseline afresh) and stops.
    private func baseline() throws {
        let requests = (1...replicas).map { ProbeRequest(.baseline, replica: $0) }
        if !exploration.census.isEmpty && requests.allSatisfy(journal.isFinished) {
            // Resumed: the journaled baseline durations set the adaptive timeouts again.
            let journaled = try store.probes(exploration: key).filter { $0.policy == ProbePolicy.baseline.key && $0.outcome == .pass }
            applyAdaptiveTimeouts(ready: [], durations: journaled.map(\.durationSeconds))
            chooseJobs(journaled.compactMap(\.resources))
            try useSuiteCriterion(Explorer.suiteCriterion(baselines: journaled.map { $0.passedCases.map(Set.init) }, spec: spec))
            return
        }
        events(.phase(.baseline, snapshot(strategy: nil, traced: [])))
        var runs: [(ProbeRequest, ProbeRun)] = []
        try scheduler().run(census: true, next: { _ in
            requests.filter { r in !runs.contains { $0.0 == r } }
        }) { request, run in
            runs.append((request, run))
            if run.outcome == .error { try self.record(request, run) }
        }
        runs.sort { $0.0.replica < $1.0.replica }
        let failed = runs.filter { $0.1.outcome != .pass }
        if let (_, first) = failed.first {
            for (request, run) in runs where run.outcome != .error {
                var noted = run
                noted.reason = "baseline not usable: " + run.reason
                noted.outcome = .error
                try record(request, noted)
            }
            if failed.count < runs.count {
                throw ExploreError.baselineFlaky(passed: runs.count - failed.count, replicas: runs.count,
                                                 reason: first.reason, output: first.outputTail, directory: first.directory)
            }
            throw ExploreError.baselineFailed(reason: first.reason, output: first.outputTail, directory: first.directory)
        }
        let neverRun = Set(runs.flatMap(\.1.targetsNeverRun))
        if !neverRun.isEmpty && spec.suite?.targetsFound != true { throw ExploreError.targetsNeverRun(neverRun.sorted()) }
        try useSuiteCriterion(Explorer.suiteCriterion(
            baselines: runs.map { $0.1.suiteResults.map { Set($0.ids(.pass)) } }, spec: spec, directory: runs.first?.1.directory))
        applyAdaptiveTimeouts(ready: runs.compactMap(\.1.readySeconds), durations: runs.map(\.1.durationSeconds))
        applyStallLimits(runs.compactMap(\.1.suiteProgress))
        chooseJobs(runs.compactMap(\.1.resources))
        exploration.census = mergeCensus(runs.map(\.1.census))
        for (request, run) in runs { if let overflow = run.censusOverflow { events(.censusOverflow(replica: request.replica, overflow)) } }
        try store.saveFindings(FeatureFindings(baselines: runs.map(\.1)), exploration: key)
        try store.updateExploration(exploration)
        for (request, run) in runs { try journalProbe(request, run, strategy: nil, traced: []) }
    }

    /// Suites with result files: from now on probes are judged by the baseline's must-pass test
    /// cases (`Explorer.suiteCriterion`, Suite/).
    private func useSuiteCriterion(_ criterion: SuiteCriterion?) {
        guard let criterion else { return }
        suiteCriterion = criterion
        runner = runner.withSuiteCriterion(criterion)
    }

    /// Shorter runs (adaptive only): a server that has not opened its port 10× later than the
    /// slowest baseline start (at least 2 s), or a run 10× longer than the slowest baseline run
    /// (at least 5 s), is failing; the spec's timeouts stay the caps. `ready` is empty when the
    /// baseline was journaled by an earlier session (the journal keeps durations, not start-up
    /// times): the slowest whole baseline run then bounds the start-up from above, so a resumed
    /// session's ready timeout is never tighter than the first session's.
    func applyAdaptiveTimeouts(ready: [Double], durations: [Double]) {
        guard options.strategy == .adaptive, let slowestRun = durations.max() else { return }
        let start = ready.max() ?? slowestRun
        runner = runner.withTimeouts(
            ready: Explorer.adaptiveTimeout(spec: spec.readyTimeout, baseline: start, floor: 2),
            run: Explorer.adaptiveTimeout(spec: spec.runTimeout, baseline: slowestRun, floor: 5))
    }

    /// A suite probe that, after its first finished test case, finishes none for `stallFactor`×
    /// the baseline's wait at that point (at least `stallFloor` s; `StallLimits`) has failed: a
    /// hanging suite stops there instead of at the run timeout (adaptive only, like the timeouts
    /// above; the waits are not journaled, so a session resumed after the baseline runs without it).
    func applyStallLimits(_ baselines: [SuiteProgress]) {
        guard options.strategy == .adaptive, var criterion = suiteCriterion, !baselines.isEmpty else { return }
        criterion.stallLimits = Explorer.stallLimits(baselines)
        useSuiteCriterion(criterion)
    }

    /// With `jobsFromBaseline`, for a workload without a test script (a script and its load
    /// generator run outside the measured tree): as many probes at once as keep `cpuTarget` of
    /// the cores busy by the busiest baseline run's CPU share (its tree and the sampler), at
    /// least `options.jobs`, at most `jobsPerCore`× the cores, and no more than half of the
    /// memory holds at the baseline's peak resident size.
    func chooseJobs(_ baselines: [ResourceUsage]) {
        guard options.jobsFromBaseline, spec.script == nil, !baselines.isEmpty else { return }
        let share = baselines.map { ($0.cpuSeconds + $0.samplerCPUSeconds) / max($0.wallSeconds, 0.001) }.max()!
        let chosen = Explorer.jobs(cpuShare: share, peakRSSBytes: baselines.map(\.peakRSSBytes).max()!, atLeast: options.jobs)
        guard chosen != jobs else { return }
        jobs = chosen
        events(.jobs(chosen, cpuShare: share))
    }

    static let cpuTarget = 0.6
    static let jobsPerCore = 4
    public static func jobs(cpuShare: Double, peakRSSBytes: Int, atLeast floor: Int,
                            cores: Int = ProcessInfo.processInfo.activeProcessorCount,
                            memory: UInt64 = ProcessInfo.processInfo.physicalMemory) -> Int {
        var jobs = cpuShare > 0 ? Int(cpuTarget * Double(cores) / cpuShare) : floor
        jobs = min(jobs, jobsPerCore * cores)
        if peakRSSBytes > 0 { jobs = min(jobs, Int(memory / 2 / UInt64(peakRSSBytes))) }
        return max(floor, jobs)
    }

    static let stallFactor = 5.0
    static let stallFloor = 10.0
    static func stallLimits(_ baselines: [SuiteProgress]) -> StallLimits {
        StallLimits(baselines: baselines, factor: stallFactor, floor: stallFloor)
    }

    /// The final all-together run and, when it fails, the culprit search; resumable like the rest.
    /// Free probe slots run the sets the search will likely need next (`SearchLookahead`); a
    /// probe the search no longer needs is cancelled.
    private func confirm(_ verdicts: [Int: Verdict], strategy: any ExplorationStrategy, traced: [Int]) throws -> CulpritReport {
        let items = FinalConfirmation.assignments(verdicts)
        let search = { (passes: (ProbePolicy) throws -> Bool) in try FinalConfirmation.search(items, verdicts: verdicts, passes: passes) }
        let lookahead = SearchLookahead(replicas: replicas)
        let scheduler = Scheduler(jobs: jobs, runner: runner, cancelsUnlisted: true)
        defer { cancelledProbes += scheduler.cancelled }
        try scheduler.run(census: false, next: { inFlight in
            let wanted = lookahead.requests(journal, inFlight: inFlight, search: search)
            if let now = wanted.first {
                if now.policy.count < items.count && phase != .culprits {
                    phase = .culprits
                    events(.phase(.culprits, snapshot(strategy: strategy, traced: traced)))
                }
                setTotal = journal.count + (1...replicas).filter { !journal.isFinished(ProbeRequest(now.policy, replica: $0)) }.count
            }
            return wanted
        }) { request, run in
            try self.journalProbe(request, run, strategy: strategy, traced: traced)
        }
        return try search { try journal.passes($0, replicas: replicas) }
    }

    // MARK: - Journal and progress

    private func scheduler() -> Scheduler { Scheduler(jobs: jobs, runner: runner) }

    @discardableResult
    private func record(_ request: ProbeRequest, _ run: ProbeRun) throws -> ProbeRecord {
        var record = ProbeRecord(
            exploration: key, policy: request.policy.key, replica: request.replica, outcome: run.outcome,
            reason: run.reason, exitStatus: run.exitStatus, durationSeconds: run.durationSeconds,
            metric: run.metric, startedAt: run.startedAt, resources: run.resources)
        (record.passedCases, record.brokenCases) = (run.suiteResults.map { $0.ids(.pass) }, run.brokenCases)
        try store.record(record)
        journal.add(record)
        recordCount += 1
        sessionDone += 1
        try saveProgress()
        return record
    }

    /// Journals a finished probe and reports it.
    private func journalProbe(_ request: ProbeRequest, _ run: ProbeRun, strategy: (any ExplorationStrategy)?, traced: [Int]) throws {
        let record = try record(request, run)
        events(.probeFinished(record, snapshot(strategy: strategy, traced: traced)))
    }

    private func saveProgress() throws {
        exploration.probeCount = recordCount
        exploration.wallSeconds = previousWall + Date().timeIntervalSince(sessionStart)
        try store.updateExploration(exploration)
    }

    private func snapshot(strategy: (any ExplorationStrategy)?, traced: [Int]) -> ProgressSnapshot {
        let context = StrategyContext(traced: traced, replicas: replicas, journal: journal)
        let probes = strategy.map { $0.estimatedTotal(context) } ?? 0
        // Final run and culprit search: one more set (replicas) after what is done.
        var total = replicas + probes + belowCallsTotal + replicas
        if phase == .final || phase == .culprits { total = max(setTotal, journal.count) }
        var counts: [Verdict: Int] = [:]
        for v in (strategy?.verdicts(context) ?? [:]).values { counts[v, default: 0] += 1 }
        return ProgressSnapshot(
            phase: phase, done: journal.count, total: max(total, journal.count), elapsed: Date().timeIntervalSince(sessionStart),
            sessionDone: sessionDone, jobs: jobs, verdictCounts: counts)
    }
}

/// Several baseline censuses as one: every (arch, call) seen in any run, with the largest count.
public func mergeCensus(_ censuses: [[CensusEntry]]) -> [CensusEntry] {
    var merged: [String: CensusEntry] = [:]
    for census in censuses {
        for entry in census {
            let id = "\(entry.arch.rawValue):\(entry.number)"
            if let existing = merged[id], existing.calls >= entry.calls { continue }
            merged[id] = entry
        }
    }
    return merged.values.sorted { ($0.calls, $1.number) > ($1.calls, $0.number) }
}
