import Foundation
import SyspectCore

/// Everything a node needs to run one planned probe exactly as the local executor would: the
/// request, whether it counts the census, and the runner's settings at the moment the
/// coordinator planned it (adaptive timeouts, plausible fake values, a suite's criterion).
/// Stored as JSON in `PlannedProbe.request` (docs/cluster.md).
public struct ProbeTask: Sendable, Hashable, Codable {
    public var request: ProbeRequest
    public var census: Bool
    public var readyTimeout: Double
    public var runTimeout: Double
    public var stopGrace: Double
    public var featureCensus: Bool
    public var fakeValues: [Int: FakeValueRule]
    public var suiteCriterion: SuiteCriterion?

    /// The task of `request` run by `runner` (its current settings).
    public init(_ request: ProbeRequest, census: Bool, runner: ProbeRunner) {
        self.request = request
        self.census = census
        self.readyTimeout = runner.spec.readyTimeout
        self.runTimeout = runner.spec.runTimeout
        self.stopGrace = runner.stopGrace
        self.featureCensus = runner.featureCensus
        self.fakeValues = runner.fakeValues
        self.suiteCriterion = runner.suiteCriterion
    }

    /// `runner` (fresh, of the node's spec copy) with this task's settings.
    public func configure(_ runner: ProbeRunner) -> ProbeRunner {
        var copy = runner
        copy.spec.readyTimeout = readyTimeout
        copy.spec.runTimeout = runTimeout
        copy.stopGrace = stopGrace
        copy.featureCensus = featureCensus
        copy.fakeValues = fakeValues
        copy.suiteCriterion = suiteCriterion
        return copy
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    public static func decode(_ text: String) throws -> ProbeTask {
        try JSONDecoder().decode(ProbeTask.self, from: Data(text.utf8))
    }

    /// The plan entry of this task.
    public var planEntry: ProbePlanEntry {
        ProbePlanEntry(policy: request.policy.key, replica: request.replica, census: census, request: json())
    }
}

/// A `ProbeRun` as the node stores it (`PlannedProbe.run`): every field the coordinator's
/// explorer reads, the baseline's census included.
struct StoredProbeRun: Codable {
    var outcome: ProbeOutcome
    var reason: String
    var exitStatus: Int32?
    var durationSeconds: Double
    var metric: Double?
    var startedAt: Date
    var census: [CensusEntry]
    var targetsNeverRun: [String]
    var features: [FeatureUse]
    var pseudoFiles: [PseudoFileUse]
    var directory: String
    var outputTail: String
    var readySeconds: Double?
    var resources: ResourceUsage?
    var suiteResults: SuiteResults?
    var brokenCases: [String]

    init(_ r: ProbeRun) {
        (outcome, reason, exitStatus, durationSeconds, metric, startedAt) = (r.outcome, r.reason, r.exitStatus, r.durationSeconds, r.metric, r.startedAt)
        (census, targetsNeverRun, features, pseudoFiles) = (r.census, r.targetsNeverRun, r.features, r.pseudoFiles)
        (directory, outputTail, readySeconds, resources, suiteResults, brokenCases) =
            (r.directory, r.outputTail, r.readySeconds, r.resources, r.suiteResults, r.brokenCases)
    }

    var run: ProbeRun {
        var r = ProbeRun(outcome: outcome, reason: reason, exitStatus: exitStatus, durationSeconds: durationSeconds, metric: metric,
                         startedAt: startedAt, census: census, targetsNeverRun: targetsNeverRun, directory: directory, outputTail: outputTail)
        (r.features, r.pseudoFiles, r.readySeconds, r.resources, r.suiteResults, r.brokenCases) =
            (features, pseudoFiles, readySeconds, resources, suiteResults, brokenCases)
        return r
    }

    static func json(_ run: ProbeRun) -> String {
        String(decoding: (try? JSONEncoder().encode(StoredProbeRun(run))) ?? Data(), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> ProbeRun {
        try JSONDecoder().decode(StoredProbeRun.self, from: Data(text.utf8)).run
    }
}
