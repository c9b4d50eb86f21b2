import Foundation

extension ProbeRunning {
    public func withSuiteCriterion(_ criterion: SuiteCriterion) -> any ProbeRunning { self }
}

extension ProbeRunner {
    public func withSuiteCriterion(_ criterion: SuiteCriterion) -> any ProbeRunning {
        var copy = self
        copy.suiteCriterion = criterion
        return copy
    }

    /// The watcher of a suite probe (nil when the spec is no suite with result files).
    func suiteWatcher(directory: String) -> SuiteWatcher? {
        guard let suite = spec.suite else { return nil }
        let output = suite.outputFile.map { expand($0, directory: directory) } ?? "\(directory)/app.stdout"
        return SuiteWatcher(
            scan: SuiteScan(root: expand(suite.resultsDirectory, directory: directory), outputFile: output),
            criterion: suiteCriterion, probeDirectory: directory)
    }
}

/// Watches one suite probe: while it runs, whether a must-pass test case has already failed or
/// the suite has stalled (early stop); when it ended, its verdict test case by test case
/// (docs/suites.md). It also measures the waits between two test cases (for the baseline's stall limits).
final class SuiteWatcher {
    let scan: SuiteScan
    let criterion: SuiteCriterion?
    let probeDirectory: String
    /// How often the result files are read while the suite runs.
    var checkInterval = 0.5
    private var nextCheck = Date()
    private(set) var earlyFailures: [String] = []
    /// When the number of finished test cases last grew (the probe's start at first).
    private var lastProgress = Date()
    /// The waits so far between a finished test case and the next one (the wait for the first
    /// one, often a build of the test programs, is left to the run timeout), and the cases finished.
    private(set) var progress = SuiteProgress()
    /// When the probe was stopped for stalling: how long no test case had finished, and the
    /// limit that passed.
    private var stall: (waited: Double, limit: Double)?

    init(scan: SuiteScan, criterion: SuiteCriterion?, probeDirectory: String) {
        self.scan = scan
        self.criterion = criterion
        self.probeDirectory = probeDirectory
    }

    var stoppedEarly: Bool { !earlyFailures.isEmpty || stall != nil }

    /// True once a must-pass test case has failed, or no test case has finished for the
    /// criterion's stall limit (checked every `checkInterval`): the probe has failed, the rest
    /// of the suite need not run. Never true in the baseline.
    func mustStop() -> Bool {
        let now = Date()
        guard now >= nextCheck else { return false }
        nextCheck = now.addingTimeInterval(checkInterval)
        let results = scan.scan(complete: false)
        noteProgress(results, at: now)
        guard let criterion, !criterion.mustPass.isEmpty else { return false }
        earlyFailures = criterion.failedSoFar(results)
        if earlyFailures.isEmpty, progress.finished > 0, let limit = criterion.stallLimits?.limit(finished: progress.finished),
           now.timeIntervalSince(lastProgress) > limit {
            stall = (now.timeIntervalSince(lastProgress), limit)
        }
        return stoppedEarly
    }

    /// A grown number of finished test cases ends a wait.
    private func noteProgress(_ results: SuiteResults, at now: Date) {
        guard results.cases.count > progress.finished else { return }
        if progress.finished > 0 {
            progress.waits.append(SuiteWait(after: progress.finished, seconds: now.timeIntervalSince(lastProgress)))
        }
        (progress.finished, lastProgress) = (results.cases.count, now)
    }

    /// Replaces the exit-status verdict of `run` by the test cases' (the exit status stays the
    /// verdict when no result was found), then keeps only the result files of the suite's tree.
    func judge(_ run: inout ProbeRun, timedOut: Bool) {
        let results = scan.scan(complete: !stoppedEarly && !timedOut)
        noteProgress(results, at: Date())
        defer { keepResultFiles(failed: run.outcome != .pass) }
        if let criterion, !criterion.mustPass.isEmpty {
            run.suiteResults = results
            if stoppedEarly {
                run.brokenCases = criterion.failedSoFar(results)
                run.outcome = .fail
                let noun = run.brokenCases.count == 1 ? "test case" : "test cases"
                run.reason = stall.map { stall in
                    "the suite stalled: no test case finished for \(Int(stall.waited.rounded())) s after \(progress.finished) finished "
                        + "(limit \(Int(stall.limit.rounded())) s: \(Int(Explorer.stallFactor))× the baseline's wait there, "
                        + "at least \(Int(Explorer.stallFloor)) s)"
                } ?? "must-pass \(noun) \(Self.list(run.brokenCases)) failed (the suite was stopped there)"
            } else if timedOut {
                run.brokenCases = criterion.failedSoFar(results)
            } else {
                run.brokenCases = criterion.broken(results)
                run.outcome = run.brokenCases.isEmpty ? .pass : .fail
                run.reason = run.brokenCases.isEmpty
                    ? "all \(criterion.mustPass.count) must-pass test cases passed"
                    : "\(run.brokenCases.count) of \(criterion.mustPass.count) must-pass test cases did not pass: \(Self.list(run.brokenCases))"
            }
            return
        }
        guard !results.isEmpty, !timedOut else {
            if results.isEmpty && run.outcome != .error { run.reason += " (no test result file found: judged by the exit status)" }
            return
        }
        // The baseline: the cases that pass become the criterion, the exit status does not count.
        run.suiteResults = results
        let (passed, failed, skipped) = (results.ids(.pass).count, results.ids(.fail).count, results.ids(.skip).count)
        let counts = "\(passed) test cases passed, \(failed) failed, \(skipped) skipped"
        if passed > 0 {
            run.outcome = .pass
            run.reason = counts + (run.exitStatus == 0 ? "" : " (the suite exited \(run.exitStatus ?? -1); the test cases are the criterion)")
        } else {
            run.outcome = .fail
            run.reason = "no test case passed (\(counts))"
        }
    }

    /// `a, b, c` or `a, b, c and 7 more`.
    static func list(_ cases: [String], limit: Int = 3) -> String {
        let shown = cases.prefix(limit).joined(separator: ", ")
        return cases.count > limit ? "\(shown) and \(cases.count - limit) more" : shown
    }

    /// The suite's tree (a copy per probe) can be large: a failing probe keeps its result files
    /// (and their logs) under `results/`, then the tree goes; a passing probe keeps nothing of it.
    func keepResultFiles(failed: Bool) {
        let root = scan.root
        guard root.hasPrefix(probeDirectory + "/"), FileManager.default.fileExists(atPath: root) else { return }
        if failed {
            for path in scan.resultFiles() {
                let relative = String(path.dropFirst(root.count + 1))
                var files = [relative]
                if relative.hasSuffix(".trs") { files.append(String(relative.dropLast(4)) + ".log") }
                for file in files {
                    let target = "\(probeDirectory)/results/\(file)"
                    try? FileManager.default.createDirectory(
                        atPath: parentPath(target), withIntermediateDirectories: true)
                    try? FileManager.default.moveItem(atPath: "\(root)/\(file)", toPath: target)
                }
            }
        }
        try? FileManager.default.removeItem(atPath: root)
    }
}
