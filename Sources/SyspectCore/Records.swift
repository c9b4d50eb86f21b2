import Foundation

/// One system call's line in a census (the paper's "naive dynamic analysis"): how often the
/// target binaries invoked it and how often it failed. Produced by the tracer, stored with an
/// exploration, printed by `syspect trace`.
public struct CensusEntry: Codable, Sendable, Hashable {
    public var arch: Arch
    public var number: Int
    public var name: String
    public var calls: Int
    /// Calls that returned -errno.
    public var failures: Int
    /// errno name (e.g. "ENOENT") → count, for failed calls.
    public var errnos: [String: Int]

    public init(arch: Arch, number: Int, name: String, calls: Int, failures: Int, errnos: [String: Int]) {
        self.arch = arch
        self.number = number
        self.name = name
        self.calls = calls
        self.failures = failures
        self.errnos = errnos
    }
}

/// How a probe ended.
public enum ProbeOutcome: String, Codable, Sendable {
    /// The workload passed.
    case pass
    /// The workload failed (script exit status, timeout, target died early, …): data.
    case fail
    /// syspect could not run the probe (a launch error): not evidence either way; retried.
    case error
}

/// One probe: one run of the workload under one interposition policy, as journaled in the store.
/// An interrupted explore resumes by skipping (policy, replica) pairs already recorded.
public struct ProbeRecord: Codable, Sendable, Hashable {
    /// `ExplorationRecord.key` of the exploration this probe belongs to.
    public var exploration: String
    /// Canonical policy key, e.g. "baseline", "stub:41", "fake:41", "final", "group:stub:3,5,7".
    public var policy: String
    public var replica: Int
    public var outcome: ProbeOutcome
    /// Human-readable reason, e.g. "script exited 1", "target died (SIGSEGV) before the script ended".
    public var reason: String
    public var exitStatus: Int32?
    public var durationSeconds: Double
    /// The number on the test script's last stdout line, when it printed one.
    public var metric: Double?
    public var startedAt: Date
    /// Resource use of the application tree sampled while the workload ran (nil: not sampled).
    public var resources: ResourceUsage?
    /// A test suite's cases (docs/suites.md): the baseline's passing ones (its must-pass set
    /// across replicas, nil when the suite left no result), and a probe's must-pass cases that
    /// did not pass.
    public var passedCases: [String]? = nil
    public var brokenCases: [String] = []

    public init(
        exploration: String, policy: String, replica: Int, outcome: ProbeOutcome, reason: String,
        exitStatus: Int32?, durationSeconds: Double, metric: Double?, startedAt: Date,
        resources: ResourceUsage? = nil
    ) {
        self.exploration = exploration
        self.policy = policy
        self.replica = replica
        self.outcome = outcome
        self.reason = reason
        self.exitStatus = exitStatus
        self.durationSeconds = durationSeconds
        self.metric = metric
        self.startedAt = startedAt
        self.resources = resources
    }
}

/// Resource use of a probe's application tree (the launched command and its descendants, not
/// the test script), sampled from /proc while the workload ran (docs/impact.md).
public struct ResourceUsage: Codable, Sendable, Hashable {
    /// Peak over samples of Σ VmRSS of the tree's live processes.
    public var peakRSSBytes: Int
    /// Largest VmHWM (a process's own peak resident size) of any process of the tree.
    public var peakHWMBytes: Int
    /// Peak over samples of Σ open file descriptors (/proc/PID/fd entries) of the tree.
    public var peakFDs: Int
    /// CPU seconds (user + system) of the tree, exited and reaped processes included.
    public var cpuSeconds: Double
    /// Seconds from the launch to the end of the workload (stopping the application excluded).
    public var wallSeconds: Double
    /// Most processes of the tree alive in one sample.
    public var peakProcesses: Int
    /// Samples taken.
    public var samples: Int
    /// CPU seconds the sampler itself used (its cost).
    public var samplerCPUSeconds: Double

    public init(peakRSSBytes: Int = 0, peakHWMBytes: Int = 0, peakFDs: Int = 0, cpuSeconds: Double = 0,
                wallSeconds: Double = 0, peakProcesses: Int = 0, samples: Int = 0, samplerCPUSeconds: Double = 0) {
        self.peakRSSBytes = peakRSSBytes
        self.peakHWMBytes = peakHWMBytes
        self.peakFDs = peakFDs
        self.cpuSeconds = cpuSeconds
        self.wallSeconds = wallSeconds
        self.peakProcesses = peakProcesses
        self.samples = samples
        self.samplerCPUSeconds = samplerCPUSeconds
    }
}

/// One `syspect explore` of one application spec. Keyed by app, workload and a hash of the spec,
/// so that re-running the same spec resumes it and a changed spec starts afresh.
public struct ExplorationRecord: Codable, Sendable, Hashable {
    public var key: String
    public var app: String
    public var workload: String
    public var kind: WorkloadKind
    public var specHash: String
    /// The spec file's text, kept so a result can be reproduced.
    public var specText: String
    public var strategy: String
    public var startedAt: Date
    public var finishedAt: Date?
    /// Baseline census of the target binaries.
    public var census: [CensusEntry]
    /// Probes run so far (all policies and replicas) and wall time spent, for `syspect show`.
    public var probeCount: Int
    public var wallSeconds: Double
    /// Where the adaptive strategy's priors came from in the latest session (nil: another
    /// strategy, or an exploration stored before this was recorded).
    public var priors: PriorsSource? = nil

    public init(
        key: String, app: String, workload: String, kind: WorkloadKind, specHash: String,
        specText: String, strategy: String, startedAt: Date, finishedAt: Date? = nil,
        census: [CensusEntry] = [], probeCount: Int = 0, wallSeconds: Double = 0
    ) {
        self.key = key
        self.app = app
        self.workload = workload
        self.kind = kind
        self.specHash = specHash
        self.specText = specText
        self.strategy = strategy
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.census = census
        self.probeCount = probeCount
        self.wallSeconds = wallSeconds
    }
}

/// Where measurements and exploration journals live: SQLite (embedded default) or PostgreSQL.
/// Implemented in SyspectStore / SyspectPostgres; explore, show, plan and the loupedb
/// import/export speak only to this protocol. Writes are durable when the call returns.
public protocol ResultStore: AnyObject {
    /// Insert or replace the measurement with the same (app, workload, source).
    func save(_ measurement: Measurement) throws
    /// Insert or replace many in one transaction: all or nothing.
    func saveAll(_ measurements: [Measurement]) throws
    /// Measurements, optionally only those of `apps` and of workload `kind`, ordered by app then workload.
    func measurements(apps: [String]?, kind: WorkloadKind?) throws -> [Measurement]

    /// Create the exploration if its key is new; otherwise leave it (and its probes) as they are.
    func beginExploration(_ exploration: ExplorationRecord) throws
    func exploration(key: String) throws -> ExplorationRecord?
    /// Replace the stored exploration's mutable fields (census, counts, finishedAt, strategy).
    func updateExploration(_ exploration: ExplorationRecord) throws
    func explorations(app: String?) throws -> [ExplorationRecord]
    /// Journal one probe (durable before returning, so an interrupted explore loses nothing).
    func record(_ probe: ProbeRecord) throws
    func probes(exploration key: String) throws -> [ProbeRecord]

    /// Replace the sub-feature and pseudo-file census and verdicts, and the fake values that
    /// worked, of an exploration (issue 5).
    func saveFindings(_ findings: FeatureFindings, exploration key: String) throws
    /// The stored findings of an exploration (empty when none were saved).
    func findings(exploration key: String) throws -> FeatureFindings

    /// Journal one impact run (durable before returning; the same run again replaces it).
    func recordImpactRun(_ run: ImpactRunRecord) throws
    func impactRuns(exploration key: String) throws -> [ImpactRunRecord]
    /// Insert or replace the results of the same (exploration, syscall, mode).
    func saveImpact(_ results: [ImpactResult]) throws
    /// Impact results of one exploration, ordered by syscall then mode.
    func impactResults(exploration key: String) throws -> [ImpactResult]

    /// Replace the static analysis stored with an exploration (issue 13); each object is kept
    /// once per (build-id, result) and shared by the explorations that analysed it.
    func saveStatic(_ record: ExplorationStatic) throws
    /// The static analysis stored with an exploration, nil when none was.
    func staticAnalysis(exploration key: String) throws -> ExplorationStatic?

    /// Takes the exclusive right to run exploration `key` on this database, held until the
    /// claim is released (or deinitialised, or the process ends). Throws when another run holds
    /// it (docs/store.md, "Two explores at once"). The default claims nothing.
    func claimExploration(key: String) throws -> any ExplorationClaim
}

/// The run lock of one exploration (see `ResultStore.claimExploration`).
public protocol ExplorationClaim: AnyObject {
    /// Gives the lock back (again: nothing).
    func release()
}

extension ResultStore {
    public func claimExploration(key: String) throws -> any ExplorationClaim { UnlockedClaim() }
}

/// The claim of a store without run locks.
private final class UnlockedClaim: ExplorationClaim {
    func release() {}
}

/// What an impact comparison measures (docs/impact.md).
public enum ImpactMeasure: String, Codable, Sendable, Hashable, CaseIterable {
    /// The workload's metric (the number the test script printed).
    case metric
    /// Peak open file descriptors of the application tree.
    case fds
    /// Peak resident memory (Σ VmRSS) of the application tree.
    case memory
    /// CPU seconds of the application tree.
    case cpu
    /// Wall seconds of the workload.
    case wall
}

/// One run of the impact analysis: the workload with one call stubbed or faked, or a baseline
/// run interleaved with those (B S B S …).
public struct ImpactRunRecord: Codable, Sendable, Hashable {
    public var exploration: String
    public var syscall: Int
    /// "stub" or "fake": the policy this run belongs to.
    public var mode: String
    /// A baseline run (no interposition) of this (syscall, mode) pair, or a policy run.
    public var baseline: Bool
    /// 1-based index of the run on its side.
    public var run: Int
    public var outcome: ProbeOutcome
    public var reason: String
    public var metric: Double?
    public var durationSeconds: Double
    public var resources: ResourceUsage?
    public var startedAt: Date

    public init(exploration: String, syscall: Int, mode: String, baseline: Bool, run: Int, outcome: ProbeOutcome,
                reason: String, metric: Double?, durationSeconds: Double, resources: ResourceUsage?, startedAt: Date) {
        self.exploration = exploration
        self.syscall = syscall
        self.mode = mode
        self.baseline = baseline
        self.run = run
        self.outcome = outcome
        self.reason = reason
        self.metric = metric
        self.durationSeconds = durationSeconds
        self.resources = resources
        self.startedAt = startedAt
    }
}

/// One measure of one (syscall, mode) pair against its interleaved baseline runs.
public struct ImpactComparison: Codable, Sendable, Hashable {
    public var measure: ImpactMeasure
    public var baselineMean: Double
    public var policyMean: Double
    /// (policy − baseline) / baseline; nil when the baseline mean is 0.
    public var change: Double?
    /// Two-sided p-value; nil with fewer than two values on a side.
    public var pValue: Double?
    /// Significant (p < alpha) and at least the effect-size threshold.
    public var flagged: Bool

    public init(measure: ImpactMeasure, baselineMean: Double, policyMean: Double, change: Double?, pValue: Double?, flagged: Bool) {
        self.measure = measure
        self.baselineMean = baselineMean
        self.policyMean = policyMean
        self.change = change
        self.pValue = pValue
        self.flagged = flagged
    }
}

/// The impact of stubbing or faking one call (the paper's Table 2 row), stored per
/// (exploration, syscall, mode).
public struct ImpactResult: Codable, Sendable, Hashable {
    public var exploration: String
    public var app: String
    public var syscall: Int
    /// "stub" or "fake".
    public var mode: String
    /// Passing runs compared on each side.
    public var baselineRuns: Int
    public var policyRuns: Int
    /// Policy runs that failed the workload (left out of the comparison).
    public var policyFailures: Int
    /// "welch" or "mann-whitney".
    public var test: String
    public var alpha: Double
    /// Smallest relative change flagged (0.03 = 3 %).
    public var threshold: Double
    /// "higher" or "lower": which metric direction is better.
    public var metricBetter: String
    /// What the metric is (the spec's `metric.name`, e.g. "requests/s").
    public var metricName: String?
    public var comparisons: [ImpactComparison]
    public var measuredAt: Date

    public init(exploration: String, app: String, syscall: Int, mode: String, baselineRuns: Int, policyRuns: Int,
                policyFailures: Int, test: String, alpha: Double, threshold: Double, metricBetter: String,
                metricName: String? = nil, comparisons: [ImpactComparison], measuredAt: Date) {
        self.exploration = exploration
        self.app = app
        self.syscall = syscall
        self.mode = mode
        self.baselineRuns = baselineRuns
        self.policyRuns = policyRuns
        self.policyFailures = policyFailures
        self.test = test
        self.alpha = alpha
        self.threshold = threshold
        self.metricBetter = metricBetter
        self.metricName = metricName
        self.comparisons = comparisons
        self.measuredAt = measuredAt
    }

    /// Some measure changed significantly.
    public var flagged: Bool { comparisons.contains { $0.flagged } }

    public func comparison(_ measure: ImpactMeasure) -> ImpactComparison? {
        comparisons.first { $0.measure == measure }
    }

    /// The metric's change as performance: positive = better (faster), whichever direction
    /// the metric counts (the paper's Table 2 sign); nil without a metric comparison.
    public var performanceChange: Double? {
        guard let change = comparison(.metric)?.change else { return nil }
        return metricBetter == "lower" ? -change : change
    }
}

/// One sub-feature of an exploration: its baseline census line and, once probed alone, its
/// verdict (nil: not probed, e.g. its whole call could be stubbed or faked).
public struct FeatureFinding: Codable, Sendable, Hashable {
    public var use: FeatureUse
    public var verdict: Verdict?

    public init(use: FeatureUse, verdict: Verdict? = nil) {
        self.use = use
        self.verdict = verdict
    }
}

/// One pseudo-file of an exploration: its census line and whether the workload still passed
/// with the file absent (ENOENT) / stubbed (ENOSYS); nil: not probed.
public struct FileFinding: Codable, Sendable, Hashable {
    public var use: PseudoFileUse
    public var absentPasses: Bool?
    public var stubPasses: Bool?

    public init(use: PseudoFileUse, absentPasses: Bool? = nil, stubPasses: Bool? = nil) {
        self.use = use
        self.absentPasses = absentPasses
        self.stubPasses = stubPasses
    }
}

/// What an exploration found below whole system calls (issue 5): sub-features, pseudo-files,
/// and the non-zero fake values that made a fake work (x86-64 number → rule).
public struct FeatureFindings: Codable, Sendable, Hashable {
    public var features: [FeatureFinding]
    public var files: [FileFinding]
    public var fakeValues: [Int: FakeValueRule]

    public init(features: [FeatureFinding] = [], files: [FileFinding] = [], fakeValues: [Int: FakeValueRule] = [:]) {
        self.features = features
        self.files = files
        self.fakeValues = fakeValues
    }

    public var isEmpty: Bool { features.isEmpty && files.isEmpty && fakeValues.isEmpty }
}
