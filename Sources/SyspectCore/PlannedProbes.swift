import Foundation

/// One probe a cluster coordinator planned for a task (schema 7 "planned-probes", docs/cluster.md):
/// the coordinator writes it before submitting; the task (`syspect probe --index`) reads it, runs
/// that one probe on its node and stores the outcome beside it, once.
public struct PlannedProbe: Sendable, Hashable {
    /// `ExplorationRecord.key`.
    public var exploration: String
    /// The task's index (a Slurm array task id), unique per exploration, never reused for another probe.
    public var index: Int
    /// Canonical policy key and replica: what a resumed coordinator matches a request on.
    public var policy: String
    public var replica: Int
    public var census: Bool
    /// The whole request as JSON (policy, replica, census, timeouts, fake values, suite criterion;
    /// `ProbeTask` in SyspectExplore): what the node runs.
    public var request: String
    public var plannedAt: Date
    /// The Slurm job (array) it was last submitted in, and how many times it was submitted.
    public var job: Int?
    public var submissions: Int
    /// Set once, by the task that ran it: the outcome, the whole run as JSON, the node's name.
    public var outcome: ProbeOutcome?
    public var run: String?
    public var host: String?
    public var finishedAt: Date?
    /// When the coordinator handed the outcome to its strategy (a stored, uncollected outcome is
    /// adopted by the next coordinator session).
    public var collectedAt: Date?

    public init(exploration: String, index: Int, policy: String, replica: Int, census: Bool, request: String,
                plannedAt: Date = Date(), job: Int? = nil, submissions: Int = 0, outcome: ProbeOutcome? = nil,
                run: String? = nil, host: String? = nil, finishedAt: Date? = nil, collectedAt: Date? = nil) {
        self.exploration = exploration
        self.index = index
        self.policy = policy
        self.replica = replica
        self.census = census
        self.request = request
        self.plannedAt = plannedAt
        self.job = job
        self.submissions = submissions
        self.outcome = outcome
        self.run = run
        self.host = host
        self.finishedAt = finishedAt
        self.collectedAt = collectedAt
    }
}

/// A probe to plan: what `PlannedProbeStore.plan` numbers.
public struct ProbePlanEntry: Sendable, Hashable {
    public var policy: String
    public var replica: Int
    public var census: Bool
    public var request: String

    public init(policy: String, replica: Int, census: Bool, request: String) {
        self.policy = policy
        self.replica = replica
        self.census = census
        self.request = request
    }
}

/// The planned-probe table of a store (both SQL stores implement it). Each call is one transaction.
public protocol PlannedProbeStore: AnyObject {
    /// Numbers `entries` after the exploration's highest index and stores them; returns them in order.
    func plan(_ entries: [ProbePlanEntry], exploration key: String) throws -> [PlannedProbe]
    /// The exploration's planned probes (only `indices` when given), by index.
    func plannedProbes(exploration key: String, indices: [Int]?) throws -> [PlannedProbe]
    /// Records that `indices` were submitted in Slurm job `job` (one more submission each).
    func markSubmitted(exploration key: String, indices: [Int], job: Int) throws
    /// Stores the outcome of `index` unless one is stored already; false when one was (left alone).
    func storeOutcome(exploration key: String, index: Int, outcome: ProbeOutcome, run: String, host: String) throws -> Bool
    /// Records that the coordinator handed these outcomes to its strategy.
    func markCollected(exploration key: String, indices: [Int]) throws
}
