import Foundation

/// One test case's result as the suite reported it, reduced to what the pass criterion needs.
public enum CaseOutcome: String, Sendable, Hashable, Codable, Comparable {
    /// Passed (automake PASS, TAP `ok`, meson OK, ctest "Test Passed.", JUnit without failure).
    case pass
    /// Skipped or expected to fail (SKIP, XFAIL, TAP `# SKIP` / `# TODO`): never a must-pass case.
    case skip
    /// Failed (FAIL, ERROR, XPASS, TAP `not ok`, meson FAIL/TIMEOUT/ERROR, JUnit failure/error).
    case fail

    /// Worst first: a case reported twice (two files, or a TAP subtest and its parent) keeps its
    /// worst outcome.
    public static func < (a: CaseOutcome, b: CaseOutcome) -> Bool { a.rank < b.rank }
    private var rank: Int { self == .pass ? 0 : self == .skip ? 1 : 2 }
}

/// The result formats syspect reads (docs/suites.md).
public enum SuiteFormat: String, Sendable, Hashable, Codable, CaseIterable {
    /// automake's parallel harness: one `.trs` per test (`:test-result:` lines) beside its `.log`.
    case automake
    /// Test Anything Protocol on the suite's output (plans, `# SKIP`, `# TODO`, `Bail out!`, subtests).
    case tap
    /// meson's `meson-logs/testlog.json` (one JSON object per line).
    case meson
    /// ctest's `Testing/Temporary/LastTest.log`.
    case ctest
    /// JUnit XML (`ctest --output-junit`, `*junit*.xml`, `TEST-*.xml`).
    case junit
    /// Perl's `prove` / `make test` summary lines (`t/basic.t .. ok`).
    case prove
    /// automake's console lines (`PASS: name`) when no `.trs` file was written.
    case automakeConsole = "automake-console"
}

/// Test case id → outcome, from one run of a suite.
public struct SuiteResults: Sendable, Hashable, Codable {
    public var cases: [String: CaseOutcome]
    /// Formats the cases came from.
    public var formats: Set<SuiteFormat>
    /// The suite said it gave up (TAP `Bail out!`): cases it did not reach will not come.
    public var aborted: Bool

    public init(cases: [String: CaseOutcome] = [:], formats: Set<SuiteFormat> = [], aborted: Bool = false) {
        self.cases = cases
        self.formats = formats
        self.aborted = aborted
    }

    public var isEmpty: Bool { cases.isEmpty }

    /// Adds a case, keeping the worst outcome when it is already there.
    public mutating func add(_ id: String, _ outcome: CaseOutcome, format: SuiteFormat) {
        cases[id] = max(cases[id] ?? outcome, outcome)
        formats.insert(format)
    }

    /// Both sets of cases (the worst outcome of a case in both).
    public mutating func merge(_ other: SuiteResults) {
        for (id, outcome) in other.cases { cases[id] = max(cases[id] ?? outcome, outcome) }
        formats.formUnion(other.formats)
        aborted = aborted || other.aborted
    }

    public func ids(_ outcome: CaseOutcome) -> [String] {
        cases.filter { $0.value == outcome }.map(\.key).sorted()
    }
}

/// The per-test-case pass criterion (pure). From the baseline replicas' results: the must-pass
/// set is the cases that passed in every replica; a case that passed in some replicas but not in
/// others is flaky (reported, left out); cases that failed or skipped in every replica are
/// ignored. A probe passes when every must-pass case passes (a must-pass case missing from the
/// probe's results failed: the suite stopped before it, or crashed).
public struct SuiteCriterion: Sendable, Hashable, Codable {
    public var mustPass: Set<String>
    public var flaky: Set<String>
    /// Cases that failed or were skipped in every baseline replica.
    public var ignored: Set<String>
    /// How long a running probe may go without a newly finished test case, once one has
    /// finished, before it has failed (the suite hangs); nil: only the run timeout stops it
    /// (`Explorer.stallLimits`, adaptive only).
    public var stallLimits: StallLimits?

    public init(mustPass: Set<String>, flaky: Set<String> = [], ignored: Set<String> = []) {
        self.mustPass = mustPass
        self.flaky = flaky
        self.ignored = ignored
    }

    /// The criterion of these baseline replicas' results.
    public init(baselines: [SuiteResults]) {
        let all = Set(baselines.flatMap(\.cases.keys))
        var must = Set<String>(), flaky = Set<String>(), ignored = Set<String>()
        for id in all {
            let passes = baselines.filter { $0.cases[id] == .pass }.count
            if passes == baselines.count { must.insert(id) } else if passes > 0 { flaky.insert(id) } else { ignored.insert(id) }
        }
        self.init(mustPass: must, flaky: flaky, ignored: ignored)
    }

    /// Must-pass cases that did not pass in `results` (missing ones included), sorted.
    public func broken(_ results: SuiteResults) -> [String] {
        mustPass.filter { results.cases[$0] != .pass }.sorted()
    }

    /// Must-pass cases already known to have failed while the suite still runs (a case not yet
    /// reported is not a failure yet, unless the suite bailed out), sorted. Skips count: a
    /// must-pass case that skips will not pass.
    public func failedSoFar(_ results: SuiteResults) -> [String] {
        if results.aborted { return broken(results) }
        return mustPass.filter { results.cases[$0].map { $0 != .pass } ?? false }.sorted()
    }
}

/// A wait of a suite run between two finished test cases: `after` cases had finished when it
/// began (measured by `SuiteWatcher` at its scan interval).
public struct SuiteWait: Sendable, Hashable, Codable {
    public var after: Int
    public var seconds: Double

    public init(after: Int, seconds: Double) {
        self.after = after
        self.seconds = seconds
    }
}

/// How a suite's baseline progressed: its waits between finished test cases, in order, and how
/// many cases it finished in all.
public struct SuiteProgress: Sendable, Hashable, Codable {
    public var waits: [SuiteWait]
    public var finished: Int

    public init(waits: [SuiteWait] = [], finished: Int = 0) {
        self.waits = waits
        self.finished = finished
    }

    public var longestWait: Double { waits.map(\.seconds).max() ?? 0 }

    /// The wait this run had once `finished` cases had finished (the wait that began at the
    /// largest count not above it); nil past the run's last case, or before its first.
    func wait(atFinished finished: Int) -> Double? {
        guard finished < self.finished else { return nil }
        return waits.last { $0.after <= finished }?.seconds
    }
}

/// The stall limit of a suite probe by how far it got (pure): where the baseline waited long
/// between two test cases (a build of the unit tests' programs, a slow test) a probe may wait
/// `factor`× as long; everywhere else `floor` seconds. Past the baseline's last case, and where
/// the baseline replicas disagree on no wait, the longest wait's limit applies.
public struct StallLimits: Sendable, Hashable, Codable {
    /// (from, seconds): the limit while a probe has finished at least `from` cases (and fewer
    /// than the next step's), ascending by `from`.
    public var steps: [Step]
    /// The limit before the first step and past the baseline's last case: `factor`× the longest wait.
    public var longest: Double

    public struct Step: Sendable, Hashable, Codable {
        public var from: Int
        public var seconds: Double
    }

    public init(steps: [Step], longest: Double) {
        self.steps = steps
        self.longest = longest
    }

    /// One limit at every count (`longest` throughout).
    public init(uniform seconds: Double) { self.init(steps: [], longest: seconds) }

    /// From the baseline replicas' progress: at each count, `factor`× the longest wait any
    /// replica had there, at least `floor`.
    public init(baselines: [SuiteProgress], factor: Double, floor: Double) {
        let limit = { (wait: Double) in max(floor, factor * wait) }
        let longest = limit(baselines.map(\.longestWait).max() ?? 0)
        let counts = Set(baselines.flatMap { $0.waits.map(\.after) + [$0.finished] }).sorted()
        var steps: [Step] = []
        for count in counts {
            let waits = baselines.map { $0.wait(atFinished: count) }
            // A replica past its last case (or before its first) here: its tail is unknown.
            let seconds = waits.contains(nil) ? longest : limit(waits.compactMap { $0 }.max()!)
            if steps.last?.seconds != seconds { steps.append(Step(from: count, seconds: seconds)) }
        }
        self.init(steps: steps, longest: longest)
    }

    /// The limit for a probe that has finished `finished` test cases.
    public func limit(finished: Int) -> Double {
        steps.last { $0.from <= finished }?.seconds ?? longest
    }
}
