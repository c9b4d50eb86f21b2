import Foundation
import SyspectCore

/// How to measure the impact of stubbing and faking (the CLI's `--impact-*` options).
public struct ImpactOptions: Sendable, Hashable {
    /// Runs per side: N policy runs interleaved with N baseline runs (B S B S …).
    public var runs: Int
    /// Significance level of the two-sided test.
    public var alpha: Double
    /// Smallest relative change flagged (0.03 = 3 %, the paper's error margin).
    public var threshold: Double
    public var test: Statistics.Test
    /// Only these calls (x86-64 numbers); nil: every call whose verdict is stub, fake or either.
    public var syscalls: Set<Int>?

    public init(runs: Int = 5, alpha: Double = 0.05, threshold: Double = 0.03, test: Statistics.Test = .welch,
                syscalls: Set<Int>? = nil) {
        self.runs = runs
        self.alpha = alpha
        self.threshold = threshold
        self.test = test
        self.syscalls = syscalls
    }
}

/// What the impact analysis reports as it goes (on the thread that called `run`).
public enum ImpactEvent: Sendable {
    /// `pairs` (syscall, mode) pairs to measure, `total` runs in all, `done` already journaled.
    case started(pairs: Int, total: Int, done: Int)
    case runFinished(ImpactRunRecord, done: Int, total: Int)
    case pairFinished(ImpactResult)
}

/// Why an impact analysis cannot run.
public enum ImpactError: Error, Sendable, CustomStringConvertible {
    /// `--impact-syscalls` names only calls that cannot be stubbed or faked (or were not traced).
    case notStubbable([String])
    case runCannotStart(String, reason: String)

    public var description: String {
        switch self {
        case .notStubbable(let names):
            return "\(names.joined(separator: ", ")) cannot be stubbed or faked in this exploration (required or not traced); "
                + "choose among the calls `syspect show` lists as stub, fake or either"
        case .runCannotStart(let run, let reason):
            return "impact run \(run) could not run twice: \(reason)"
        }
    }
}

extension Assignment {
    /// The (call, mode) pairs that pass by a measurement's verdicts, the ones impact measures:
    /// stub → stub, fake → fake, either → both.
    public static func passing(_ verdicts: [Int: Verdict], only: Set<Int>?) -> [Assignment] {
        var result: [Assignment] = []
        for (number, verdict) in verdicts where only?.contains(number) ?? true {
            switch verdict {
            case .stub: result.append(Assignment(number, .stub))
            case .fake: result.append(Assignment(number, .fake))
            case .either: result += [Assignment(number, .stub), Assignment(number, .fake)]
            case .required: break
            }
        }
        return result.sorted()
    }
}

/// The performance and resource impact of stubbing and faking (paper §5.3, Table 2): for every
/// call that can be stubbed or faked, N runs with it stubbed (or faked) interleaved with N
/// baseline runs (B S B S …, so that drift of the machine hits both sides alike), one at a
/// time (parallel runs would compete for the cores), each in a fresh sandbox with its resource
/// use sampled; then a two-sided test per measure (the metric, peak FDs, peak memory, CPU time,
/// wall time) flags a change that is significant at `alpha` AND at least `threshold` in size.
/// Every run is journaled (`impact_run`): an interrupted analysis resumes where it stopped.
public final class ImpactAnalysis {
    public let spec: AppSpec
    public let store: any ResultStore
    public let exploration: String
    public let options: ImpactOptions
    let runner: any ProbeRunning
    let pairs: [Assignment]
    /// Calls of `options.syscalls` left out: required or not traced.
    public let skipped: [Int]

    /// Replica numbers of impact runs start here, so that their probe folders
    /// (`<policy>-r<replica>`) never overwrite an explore probe's logs.
    public static let replicaOffset = 1000

    /// `verdicts`: the exploration's stored (confirmed) verdicts. Calls of `options.syscalls`
    /// without a stub/fake/either verdict are skipped (`skipped`); `notStubbable` when that
    /// leaves none.
    public init(spec: AppSpec, store: any ResultStore, exploration: String, verdicts: [Int: Verdict],
                options: ImpactOptions, runner: any ProbeRunning) throws {
        let bad = (options.syscalls ?? []).filter { (verdicts[$0] ?? .required) == .required }.sorted()
        if let only = options.syscalls, bad.count == only.count {
            throw ImpactError.notStubbable(bad.map { SyscallTable.displayName(of: $0) })
        }
        self.skipped = bad
        self.spec = spec
        self.store = store
        self.exploration = exploration
        self.options = options
        self.runner = runner
        self.pairs = Assignment.passing(verdicts, only: options.syscalls)
    }

    /// The run order of one pair: B1 S1 B2 S2 … (baseline: true for B).
    static func schedule(runs: Int) -> [(baseline: Bool, run: Int)] {
        (1...runs).flatMap { [(true, $0), (false, $0)] }
    }

    /// Runs what the journal lacks and returns every pair's result (also saved in the store).
    public func run(events: (ImpactEvent) -> Void = { _ in }) throws -> [ImpactResult] {
        var journal: [String: ImpactRunRecord] = [:]
        for r in try store.impactRuns(exploration: exploration) where r.outcome != .error {
            journal[Self.id(r.syscall, r.mode, r.baseline, r.run)] = r
        }
        let total = pairs.count * 2 * options.runs
        var done = pairs.reduce(0) { count, pair in
            count + Self.schedule(runs: options.runs).filter {
                journal[Self.id(pair.number, pair.mode.rawValue, $0.baseline, $0.run)] != nil
            }.count
        }
        events(.started(pairs: pairs.count, total: total, done: done))
        var results: [ImpactResult] = []
        for pair in pairs {
            var runs: [ImpactRunRecord] = []
            for (baseline, index) in Self.schedule(runs: options.runs) {
                if let journaled = journal[Self.id(pair.number, pair.mode.rawValue, baseline, index)] {
                    runs.append(journaled)
                    continue
                }
                let record = try measure(pair, baseline: baseline, run: index)
                runs.append(record)
                done += 1
                events(.runFinished(record, done: done, total: total))
            }
            let result = ImpactStatistics.result(
                exploration: exploration, app: spec.name, pair: pair, runs: runs, options: options,
                metricBetter: spec.metricDirection, metricName: spec.metricName)
            try store.saveImpact([result])
            results.append(result)
            events(.pairFinished(result))
        }
        return results
    }

    /// One run, journaled; a launch error is retried once, then stops the analysis.
    private func measure(_ pair: Assignment, baseline: Bool, run index: Int) throws -> ImpactRunRecord {
        let policy = baseline ? ProbePolicy.baseline : ProbePolicy.single(pair.number, pair.mode)
        let request = ProbeRequest(policy, replica: Self.replicaOffset + index)
        var attempt = 0
        while true {
            attempt += 1
            let probe = runner.run(request, census: false)
            let record = ImpactRunRecord(
                exploration: exploration, syscall: pair.number, mode: pair.mode.rawValue, baseline: baseline,
                run: index, outcome: probe.outcome, reason: probe.reason, metric: probe.metric,
                durationSeconds: probe.durationSeconds, resources: probe.resources, startedAt: probe.startedAt)
            try store.recordImpactRun(record)
            if probe.outcome != .error { return record }
            if attempt >= 2 {
                throw ImpactError.runCannotStart("\(baseline ? "baseline" : policy.key) #\(index)", reason: probe.reason)
            }
        }
    }

    static func id(_ syscall: Int, _ mode: String, _ baseline: Bool, _ run: Int) -> String {
        "\(syscall):\(mode):\(baseline ? "B" : "S"):\(run)"
    }
}

/// The comparisons of one pair's runs (pure: tested without running anything).
public enum ImpactStatistics {
    /// The value of `measure` in a passing run; nil when it was not measured.
    public static func value(_ measure: ImpactMeasure, _ run: ImpactRunRecord) -> Double? {
        switch measure {
        case .metric: return run.metric
        case .fds: return run.resources.map { Double($0.peakFDs) }
        case .memory: return run.resources.map { Double($0.peakRSSBytes) }
        case .cpu: return run.resources.map(\.cpuSeconds)
        case .wall: return run.resources?.wallSeconds ?? run.durationSeconds
        }
    }

    /// Compares the passing policy runs with the passing baseline runs on every measure both
    /// sides have; a measure is flagged when p < alpha and |change| ≥ threshold.
    public static func result(
        exploration: String, app: String, pair: Assignment, runs: [ImpactRunRecord], options: ImpactOptions,
        metricBetter: MetricDirection, metricName: String? = nil, now: Date = Date()
    ) -> ImpactResult {
        let baseline = runs.filter { $0.baseline && $0.outcome == .pass }
        let policy = runs.filter { !$0.baseline && $0.outcome == .pass }
        var comparisons: [ImpactComparison] = []
        for measure in ImpactMeasure.allCases {
            let b: [Double], s: [Double]
            if options.test == .paired {
                // Run i of each side, when both passed and were measured.
                let byRun = Dictionary(baseline.map { ($0.run, $0) }) { first, _ in first }
                let pairs = policy.sorted { $0.run < $1.run }.compactMap { p -> (Double, Double)? in
                    guard let q = byRun[p.run], let x = value(measure, q), let y = value(measure, p) else { return nil }
                    return (x, y)
                }
                (b, s) = (pairs.map(\.0), pairs.map(\.1))
            } else {
                (b, s) = (baseline.compactMap { value(measure, $0) }, policy.compactMap { value(measure, $0) })
            }
            guard !b.isEmpty, !s.isEmpty else { continue }
            comparisons.append(compare(measure, baseline: b, policy: s, options: options))
        }
        return ImpactResult(
            exploration: exploration, app: app, syscall: pair.number, mode: pair.mode.rawValue,
            baselineRuns: baseline.count, policyRuns: policy.count,
            policyFailures: runs.filter { !$0.baseline && $0.outcome == .fail }.count,
            test: options.test.rawValue, alpha: options.alpha, threshold: options.threshold,
            metricBetter: metricBetter.rawValue, metricName: metricName, comparisons: comparisons, measuredAt: now)
    }

    public static func compare(_ measure: ImpactMeasure, baseline b: [Double], policy s: [Double],
                               options: ImpactOptions) -> ImpactComparison {
        let mb = Statistics.mean(b), ms = Statistics.mean(s)
        let change: Double? = mb == 0 ? nil : (ms - mb) / abs(mb)
        let p = Statistics.compare(s, b, test: options.test)?.pValue
        // A change from 0 (e.g. no fd at all) has no relative size: its significance decides.
        let large = change.map { abs($0) >= options.threshold } ?? (ms != mb)
        return ImpactComparison(measure: measure, baselineMean: mb, policyMean: ms, change: change, pValue: p,
                                flagged: (p.map { $0 < options.alpha } ?? false) && large)
    }
}
