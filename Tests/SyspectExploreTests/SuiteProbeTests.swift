import Foundation
import SyspectCore
import Testing
@testable import SyspectExplore
import SyspectStore

/// Real probes of a suite (Fixtures/suite-trs, cat as the target) in sandboxes, as root.
@Suite(.serialized) struct SuiteProbeTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static let work = "/var/tmp/syspect-suite-tests"

    func runner() throws -> ProbeRunner {
        let spec = try AppSpec.load(path: "\(Self.fixtures)/suite-trs/suite-trs.yaml")
        return ProbeRunner(spec: spec, workDirectory: "\(Self.work)/\(UUID().uuidString.prefix(8))")
    }

    @Test func specReadsTheResultsSection() throws {
        let spec = try AppSpec.load(path: "\(Self.fixtures)/suite-trs/suite-trs.yaml")
        #expect(spec.suite == SuiteSettings(resultsDirectory: "${SYSPECT_PROBE_DIR}/tree"))
        #expect(spec.kind == .suite)
    }

    @Test func baselinePassesOnItsTestCasesNotTheExitStatus() throws {
        let run = try runner().run(ProbeRequest(.baseline, replica: 1), census: true)
        #expect(run.outcome == .pass, "\(run.reason)")
        #expect(run.exitStatus == 1)
        #expect(run.suiteResults?.cases == ["t/reads": .pass, "t/always-fails": .fail, "t/skipped": .skip, "t/late": .pass])
        #expect(run.reason.contains("2 test cases passed, 1 failed, 1 skipped"), "\(run.reason)")
        #expect(!run.census.isEmpty)
    }

    @Test func aProbeFailsAndStopsAsSoonAsAMustPassCaseFails() throws {
        let criterion = SuiteCriterion(mustPass: ["t/reads", "t/late"])
        let runner = try runner().withSuiteCriterion(criterion)
        // cat cannot open its file with openat stubbed: t/reads fails before the 3 s sleep ends.
        let stubbed = runner.run(ProbeRequest(.single(SyscallTable.number(named: "openat")!, .stub), replica: 1), census: false)
        #expect(stubbed.outcome == .fail)
        #expect(stubbed.brokenCases == ["t/reads"])
        #expect(stubbed.reason.contains("t/reads") && stubbed.reason.contains("stopped"), "\(stubbed.reason)")
        #expect(stubbed.durationSeconds < 2.9, "the suite ran to its end: \(stubbed.durationSeconds) s")
        // The failing probe keeps its result files, not the tree.
        #expect(FileManager.default.fileExists(atPath: "\(stubbed.directory)/results/t/reads.trs"))
        #expect(!FileManager.default.fileExists(atPath: "\(stubbed.directory)/tree"))

        let plain = runner.run(ProbeRequest(.baseline, replica: 2), census: false)
        #expect(plain.outcome == .pass, "\(plain.reason)")
        #expect(plain.brokenCases.isEmpty)
        #expect(plain.reason == "all 2 must-pass test cases passed")
    }

    /// A suite that finishes no test case for the stall limit is stopped there (a hang), and the
    /// baseline measures the longest wait the limit is made of (the fixture's 3 s sleep).
    @Test func aSuiteThatStallsIsStoppedAtTheStallLimit() throws {
        let baseline = try runner().run(ProbeRequest(.baseline, replica: 1), census: false)
        let progress = try #require(baseline.suiteProgress)
        #expect(progress.longestWait >= 2.5 && progress.longestWait < 30, "\(progress)")
        #expect(progress.finished == 4 && progress.waits.first?.after ?? 0 >= 1, "\(progress)")
        var criterion = SuiteCriterion(mustPass: ["t/reads", "t/late"])
        criterion.stallLimits = StallLimits(uniform: 1)
        let stalled = try runner().withSuiteCriterion(criterion).run(ProbeRequest(.baseline, replica: 2), census: false)
        #expect(stalled.outcome == .fail)
        #expect(stalled.reason.hasPrefix("the suite stalled: no test case finished for "), "\(stalled.reason)")
        #expect(stalled.durationSeconds < 2.9, "the suite ran to its end: \(stalled.durationSeconds) s")
    }

    @Test func theExitStatusJudgesWhenNoResultFileIsFound() throws {
        var spec = try AppSpec.load(path: "\(Self.fixtures)/suite-trs/suite-trs.yaml")
        spec.suite = SuiteSettings(resultsDirectory: "${SYSPECT_PROBE_DIR}/nowhere")
        let run = ProbeRunner(spec: spec, workDirectory: "\(Self.work)/\(UUID().uuidString.prefix(8))")
            .run(ProbeRequest(.baseline, replica: 1), census: false)
        #expect(run.outcome == .fail)
        #expect(run.suiteResults == nil)
        #expect(run.reason.contains("judged by the exit status"), "\(run.reason)")
    }
}

/// A suite runner for the explorer (pure): the baseline replicas report test cases (one flaky),
/// probes pass unless they stub call 1, and the runner remembers the criterion it was given.
final class SuiteScriptedRunner: ProbeRunning, @unchecked Sendable {
    let criterion: SuiteCriterion?
    private let lock = NSLock()
    private(set) var criteria: [SuiteCriterion] = []

    init(criterion: SuiteCriterion? = nil) { self.criterion = criterion }

    func run(_ request: ProbeRequest, census: Bool) -> ProbeRun {
        var run = ProbeRun(outcome: .pass, reason: "ok", exitStatus: 1, durationSeconds: 0.01,
                           census: census ? [0, 1].map { CensusEntry(arch: .x86_64, number: $0, name: "c\($0)", calls: 1, failures: 0, errnos: [:]) } : [],
                           directory: "/nonexistent")
        if request.policy == .baseline && criterion == nil {
            run.suiteResults = SuiteResults(cases: ["a": .pass, "b": .pass, "flaky": request.replica == 1 ? .pass : .fail, "never": .fail])
            run.suiteProgress = SuiteProgress(waits: [SuiteWait(after: 1, seconds: Double(request.replica + 2))], finished: 3)
        } else if request.policy.stub.contains(1) {
            (run.outcome, run.brokenCases) = (.fail, ["b"])
        }
        return run
    }

    func withSuiteCriterion(_ criterion: SuiteCriterion) -> any ProbeRunning {
        lock.withLock { criteria.append(criterion) }
        return SuiteJudgedRunner(base: self, criterion: criterion)
    }
}

struct SuiteJudgedRunner: ProbeRunning {
    let base: SuiteScriptedRunner
    let criterion: SuiteCriterion
    func run(_ request: ProbeRequest, census: Bool) -> ProbeRun { base.run(request, census: census) }
    func withSuiteCriterion(_ criterion: SuiteCriterion) -> any ProbeRunning { base.withSuiteCriterion(criterion) }
}

@Suite struct SuiteExplorerTests {
    @Test func theBaselineGivesTheCriterionAndAResumeRebuildsItFromTheJournal() throws {
        var spec = AppSpec(name: "suiteapp", workload: "suite-x", kind: .suite, command: ["x"], targets: ["x"],
                           replicas: 2, directory: "/", text: "name: suiteapp # \(UUID())")
        spec.suite = SuiteSettings(resultsDirectory: "${SYSPECT_PROBE_DIR}")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("suite-\(UUID()).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let store = try SQLiteStore(path: path)
        let options = ExploreOptions(jobs: 2, strategy: .oneByOne, workDirectory: "/var/tmp/syspect-unused")
        let runner = SuiteScriptedRunner()
        let first = try Explorer(spec: spec, store: store, options: options, runner: runner).run()
        let expected = SuiteCriterion(mustPass: ["a", "b"], flaky: ["flaky"])
        #expect(first.suiteCriterion == expected)
        #expect(runner.criteria == [expected])
        #expect(first.measurement.verdicts[1] == .fake)
        // The breakage per call comes from the journal.
        let breakage = SuiteBreakage(probes: try store.probes(exploration: first.exploration.key))
        #expect(breakage.entries.map(\.number) == [1])
        #expect(breakage.entries.first?.cases == ["b"])
        // Again: nothing runs, the criterion comes back from the stored baseline cases.
        let again = SuiteScriptedRunner(criterion: expected)
        let second = try Explorer(spec: spec, store: store, options: options, runner: again).run()
        #expect(second.suiteCriterion == expected)
        #expect(second.sessionProbes == 0)
    }

    /// Adaptive explores stop a stalled suite at 5× the baseline's wait at that point (at least
    /// 10 s); the reference (one-by-one) keeps the spec's run timeout only.
    @Test(arguments: [(StrategyName.adaptive, Double?(20)), (.oneByOne, nil)])
    func theStallLimitComesFromTheBaselinesWaits(_ strategy: StrategyName, _ limit: Double?) throws {
        var spec = AppSpec(name: "suitestall", workload: "suite-x", kind: .suite, command: ["x"], targets: ["x"],
                           replicas: 2, directory: "/", text: "name: suitestall # \(UUID())")
        spec.suite = SuiteSettings(resultsDirectory: "${SYSPECT_PROBE_DIR}")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("suite-\(UUID()).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let runner = SuiteScriptedRunner()
        _ = try Explorer(spec: spec, store: try SQLiteStore(path: path),
                         options: ExploreOptions(jobs: 2, strategy: strategy, workDirectory: "/var/tmp/syspect-unused"), runner: runner).run()
        #expect(runner.criteria.last?.stallLimits?.limit(finished: 1) == limit)
        #expect(runner.criteria.last?.stallLimits?.limit(finished: 2) == limit)
        #expect(runner.criteria.last?.stallLimits?.limit(finished: 3) == limit.map { _ in 20 })
    }

    /// Where the baseline waited long (a build between two cases) a probe may wait 5× as long;
    /// elsewhere the 10 s floor; past the last case, and where a replica has no wait at a count,
    /// 5× the longest wait.
    @Test func stallLimitsFollowTheBaselinesWaitsCaseByCase() {
        let a = SuiteProgress(waits: [SuiteWait(after: 1, seconds: 0.5), SuiteWait(after: 4, seconds: 8), SuiteWait(after: 6, seconds: 1)], finished: 9)
        let b = SuiteProgress(waits: [SuiteWait(after: 1, seconds: 0.7), SuiteWait(after: 5, seconds: 6), SuiteWait(after: 6, seconds: 3)], finished: 9)
        let limits = Explorer.stallLimits([a, b])
        #expect(limits.longest == 40)
        #expect([1, 3, 4, 5, 6, 8, 9, 50].map(limits.limit(finished:)) == [10, 10, 40, 40, 15, 15, 40, 40])
        // One replica whose first scan saw 2 cases: the other's wait at 1 is not enough alone.
        let c = SuiteProgress(waits: [SuiteWait(after: 2, seconds: 0.5)], finished: 3)
        #expect(Explorer.stallLimits([a, c]).limit(finished: 1) == 40)
        #expect(Explorer.stallLimits([a, c]).limit(finished: 2) == 10)
        #expect(StallLimits(uniform: 7).limit(finished: 3) == 7)
    }
}
