import Foundation
import SyspectCore
import Testing
@testable import SyspectExplore

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
