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

    public init(
        exploration: String, policy: String, replica: Int, outcome: ProbeOutcome, reason: String,
        exitStatus: Int32?, durationSeconds: Double, metric: Double?, startedAt: Date
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
}
