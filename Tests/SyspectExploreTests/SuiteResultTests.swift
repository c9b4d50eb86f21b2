import Foundation
import SyspectCore
import Testing
@testable import SyspectExplore

/// Samples written by the real tools on a Debian bookworm machine (automake 1.16 test-driver and
/// tap-driver.sh, meson 1.0, ctest 3.25, prove 3.44): Fixtures/suites/.
private func sample(_ name: String) throws -> String {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/suites/\(name)")
    return try String(contentsOf: url, encoding: .utf8)
}

@Suite struct SuiteParserTests {
    @Test func automakeSingleResults() throws {
        let pass = try #require(SuiteParsers.automake(trs: try sample("automake-pass.trs"), name: "tests/hello-1"))
        #expect(pass.cases == ["tests/hello-1": .pass])
        let skip = try #require(SuiteParsers.automake(trs: try sample("automake-skip.trs"), name: "s.sh"))
        #expect(skip.cases == ["s.sh": .skip])
        // A test still running has an empty .trs (or none).
        #expect(SuiteParsers.automake(trs: "", name: "x") == nil)
        #expect(SuiteParsers.automake(trs: ":test-result: FAIL\n", name: "x")?.cases == ["x": .fail])
        #expect(SuiteParsers.automake(trs: ":test-result: ERROR\n", name: "x")?.cases == ["x": .fail])
        #expect(SuiteParsers.automake(trs: ":test-result: XPASS\n", name: "x")?.cases == ["x": .fail])
    }

    @Test func automakeTAPDriverGivesOneCasePerPoint() throws {
        let results = try #require(SuiteParsers.automake(
            trs: try sample("automake-tap.trs"), log: try sample("automake-tap.log"), name: "sub/t.sh"))
        #expect(results.cases == [
            "sub/t.sh parses": .pass, "sub/t.sh writes": .fail,
            "sub/t.sh net": .skip, "sub/t.sh later": .skip,  // XFAIL (TODO) never must pass
        ])
        // Without the log: numbered cases.
        let bare = try #require(SuiteParsers.automake(trs: try sample("automake-tap.trs"), name: "t.sh"))
        #expect(bare.cases == ["t.sh 1": .pass, "t.sh 2": .fail, "t.sh 3": .skip, "t.sh 4": .skip])
    }

    @Test func automakeConsoleLines() throws {
        let results = SuiteParsers.automakeConsole(try sample("automake-console.out"))
        #expect(results.cases == [
            "tests/greeting-1": .pass, "tests/greeting-2": .skip, "tests/hello-1": .pass,
            "tests/last-1": .pass, "tests/traditional-1": .pass,
        ])
        // The summary block ("# PASS:  4") is not a case.
        #expect(SuiteParsers.automakeConsole("# PASS:  4\n# FAIL:  0\nPASS:\n").cases.isEmpty)
        // A TAP-driver test's lines are its points, named by their description as from its
        // .trs and .log (in any order: a hash-ordered suite numbers them differently each run).
        let tap = SuiteParsers.automakeConsole(try sample("automake-tap.log"))
        #expect(tap.cases == ["t.sh parses": .pass, "t.sh writes": .fail, "t.sh net": .skip, "t.sh later": .skip])
        let reordered = SuiteParsers.automakeConsole("PASS: sub/t.sh 1 - b\nFAIL: sub/t.sh 2 - a\nPASS: sub/t.sh 3 - a\nPASS: sub/t.sh 4\n")
        #expect(reordered.cases == ["sub/t.sh b": .pass, "sub/t.sh 2 - a": .fail, "sub/t.sh 3 - a": .pass, "sub/t.sh 4": .pass])
    }

    @Test func tapPointsDirectivesAndPlan() throws {
        let text = """
            TAP version 13
            1..6
            ok 1 - parses
            not ok 2 - writes
            ok 3 - net # SKIP no network
            not ok 4 - later # TODO not yet
            ok 5
            # a comment, and output that is not TAP:
            ok, that was fine
            """
        let results = SuiteParsers.tap(text)
        #expect(results.cases == [
            "parses": .pass, "writes": .fail, "net": .skip, "later": .skip, "5": .pass,
            "6 (not reported)": .fail,
        ])
        #expect(!results.aborted)
        // While the suite runs, a planned point not yet reported is no failure.
        #expect(SuiteParsers.tap(text, complete: false).cases["6 (not reported)"] == nil)
    }

    @Test func tapBailOut() {
        let results = SuiteParsers.tap("1..3\nok 1 - a\nBail out! database gone\nok 2 - b\n", prefix: "t/db.t ")
        #expect(results.aborted)
        #expect(results.cases == ["t/db.t a": .pass, "t/db.t 2 (not reported)": .fail, "t/db.t 3 (not reported)": .fail])
    }

    /// A suite whose points come in an order that changes from run to run (lighttpd's
    /// core-condition.t loops over a Perl hash) gives the same cases each run: a point is its
    /// description; a description seen twice keeps its number.
    @Test func tapCasesAreTheirDescriptionsUnlessRepeated() {
        let first = SuiteParsers.tap("1..4\nok 1 - var.myvar\nok 2 - env\nnot ok 3 - again\nok 4 - again\n")
        let second = SuiteParsers.tap("1..4\nok 1 - env\nok 2 - var.myvar\nnot ok 3 - again\nok 4 - again\n")
        #expect(first.cases == ["var.myvar": .pass, "env": .pass, "3 - again": .fail, "4 - again": .pass])
        #expect(second.cases == first.cases)
        let prove = SuiteParsers.prove("./a.t ..\nok 1 - x\nok 2 - y\nok\n./b.t ..\nok 1 - x\nok 2 - x\nok\n")
        #expect(prove.cases == ["./a.t": .pass, "./a.t x": .pass, "./a.t y": .pass, "./b.t": .pass, "./b.t 1 - x": .pass, "./b.t 2 - x": .pass])
    }

    @Test func tapSubtests() throws {
        // Test::More's output (subtest header at the parent's indentation).
        let perl = SuiteParsers.tap(try sample("perl-subtest.tap"))
        #expect(perl.cases == [
            "a": .pass, "b": .fail, "inner/x": .pass, "inner/y": .fail, "inner": .fail,
        ])
        // TAP 14 (header indented), and a subtest without a header takes its parent's point.
        let tap14 = SuiteParsers.tap("""
            TAP version 14
            1..2
                # Subtest: outer
                1..1
                ok 1 - deep
            ok 1 - outer
                ok 1 - anonymous
            ok 2 - parent
            """)
        #expect(tap14.cases == ["outer/deep": .pass, "outer": .pass, "parent/anonymous": .pass, "parent": .pass])
    }

    @Test func proveSummary() throws {
        let results = SuiteParsers.prove(try sample("prove.out"))
        #expect(results.cases == ["t/basic.t": .pass, "t/crash.t": .fail, "t/io.t": .fail, "t/net.t": .skip])
    }

    @Test func mesonTestlog() throws {
        let results = SuiteParsers.meson(try sample("meson-testlog.json"))
        #expect(results.cases == [
            "demo / passes": .pass, "demo:unit / fails": .fail, "demo / skips": .skip, "demo / tapper": .fail,
        ])
        // A line still being written is ignored.
        #expect(SuiteParsers.meson("{\"name\": \"a\", \"result\": \"OK\"}\n{\"name\": \"b\", \"res").cases == ["a": .pass])
    }

    @Test func ctestLastTestLog() throws {
        let results = SuiteParsers.ctest(try sample("ctest-LastTest.log"))
        // ctest writes SKIP_RETURN_CODE skips as "Test Passed." in this log.
        #expect(results.cases == ["passes": .pass, "fails": .fail, "skips": .pass])
    }

    @Test func junitXML() throws {
        let ctest = SuiteParsers.junit(try sample("ctest-junit.xml"))
        #expect(ctest.cases == ["passes": .pass, "fails": .fail, "skips": .skip])
        let meson = SuiteParsers.junit(try sample("meson-testlog.junit.xml"))
        #expect(meson.cases == [
            "demo.demo / passes": .pass, "demo.demo:unit / fails": .fail, "demo.demo / skips": .skip,
            "demo.demo / tapper.1 - a": .pass, "demo.demo / tapper.2 - b": .fail,
        ])
        #expect(SuiteParsers.junit("<testsuite><testcase name=\"e\"><error/></testcase><testcase name=\"cut").cases == ["e": .fail])
        #expect(SuiteParsers.junit("not xml at all").cases.isEmpty)
    }
}

@Suite struct SuiteCriterionTests {
    func results(_ cases: [String: CaseOutcome]) -> SuiteResults { SuiteResults(cases: cases, formats: [.tap]) }

    @Test func mustPassFlakyAndIgnored() {
        let criterion = SuiteCriterion(baselines: [
            results(["a": .pass, "b": .pass, "c": .fail, "d": .skip, "e": .pass]),
            results(["a": .pass, "b": .fail, "c": .fail, "d": .skip, "e": .pass]),
            results(["a": .pass, "b": .pass, "c": .fail, "d": .skip]),
        ])
        #expect(criterion.mustPass == ["a"])
        #expect(criterion.flaky == ["b", "e"])  // e is missing from one replica
        #expect(criterion.ignored == ["c", "d"])
    }

    @Test func aProbePassesWhenEveryMustPassCasePasses() {
        let criterion = SuiteCriterion(mustPass: ["a", "b"])
        #expect(criterion.broken(results(["a": .pass, "b": .pass, "c": .fail])).isEmpty)
        #expect(criterion.broken(results(["a": .pass, "b": .skip])) == ["b"])
        #expect(criterion.broken(results(["b": .fail])) == ["a", "b"])  // a missing: the suite never got there
    }

    @Test func failuresSoFarWhileTheSuiteRuns() {
        let criterion = SuiteCriterion(mustPass: ["a", "b", "c"])
        #expect(criterion.failedSoFar(results(["a": .pass])).isEmpty)
        #expect(criterion.failedSoFar(results(["a": .pass, "b": .fail])) == ["b"])
        #expect(criterion.failedSoFar(results(["x": .fail])).isEmpty)  // not a must-pass case
        var bailed = results(["a": .pass])
        bailed.aborted = true
        #expect(criterion.failedSoFar(bailed) == ["b", "c"])
    }

    @Test func worstOutcomeWins() {
        var r = SuiteResults()
        r.add("a", .pass, format: .junit)
        r.add("a", .fail, format: .junit)
        r.add("a", .pass, format: .junit)
        #expect(r.cases["a"] == .fail)
    }
}

@Suite struct SuiteOutputTests {
    /// lighttpd 1.4.69's `make check` (Debian bookworm, serial automake harness running its Perl
    /// harness verbosely), with request.t's block shortened to 3 points and one failure written in.
    @Test func lighttpdMakeCheckGivesFilesAndPoints() throws {
        let results = SuiteScan.fromOutput(try sample("lighttpd-make-check.out"), complete: true)
        #expect(results.cases["./core-condition.t"] == .pass)
        #expect(results.cases["./core-condition.t Stopping lighttpd"] == .pass)
        #expect(results.cases["./mod-scgi.t killing scgi and wait for restart"] == .pass)
        #expect(results.cases["./request.t"] == .fail)
        #expect(results.cases["./request.t line-ending \\n\\n"] == .fail)
        #expect(results.cases["./request.t Stopping lighttpd"] == .pass)
        #expect(results.cases["run-tests.pl"] == .pass)  // the automake console line
        #expect(results.cases.keys.filter { $0.hasPrefix("./core-condition.t ") }.count == 26)
        #expect(results.formats == [.prove, .automakeConsole])
    }

    @Test func verboseProveTimesAreVerdictsButPointsAreNot() {
        #expect(SuiteParsers.proveVerdict("ok") == .pass)
        #expect(SuiteParsers.proveVerdict("ok   120 ms") == .pass)
        #expect(SuiteParsers.proveVerdict("ok 3 - parses") == nil)
    }
}

/// The result files of a tree on disk, scanned again and again while a suite runs: a folder is
/// read again when its entries change, and a new result file anywhere is found.
@Suite struct SuiteScanTests {
    @Test func aRescanFindsNewAndRemovedResultFiles() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("scan-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fm = FileManager.default
        for folder in ["tests", "src/t", ".libs", "src/.deps"] { try fm.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true) }
        func trs(_ path: String, _ result: String) throws {
            try ":test-result: \(result)\n".write(toFile: "\(root)/\(path).trs", atomically: false, encoding: .utf8)
        }
        try trs("tests/a", "PASS")
        try trs(".libs/hidden", "FAIL")
        let scan = SuiteScan(root: root, outputFile: nil)
        #expect(scan.resultFiles() == ["\(root)/tests/a.trs"])
        #expect(scan.scan(complete: false).cases == ["tests/a": .pass])
        try trs("src/t/b", "FAIL")
        try trs("src/.deps/c", "PASS")
        try "not a result".write(toFile: "\(root)/tests/a.log", atomically: false, encoding: .utf8)
        #expect(scan.resultFiles() == ["\(root)/src/t/b.trs", "\(root)/tests/a.trs"])
        #expect(scan.scan(complete: false).cases == ["tests/a": .pass, "src/t/b": .fail])
        try fm.removeItem(atPath: "\(root)/tests/a.trs")
        #expect(scan.resultFiles() == ["\(root)/src/t/b.trs"])
    }
}
