import Foundation
import SyspectCore
import SyspectTestSupport
import Testing
@testable import SyspectExplore

/// `debian:` specs and `--debian` (docs/suites.md): the pure choices, the steps' errors, and one
/// real package end to end (GNU hello: builds in ~20 s, its suite runs in under a second).
@Suite struct DebianSuiteLogicTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    @Test func showsrcGivesTheSourceAndItsHighestVersion() throws {
        let text = try String(contentsOfFile: "\(Self.fixtures)/debian/showsrc-hello.txt", encoding: .utf8)
        #expect(DebianSourceInfo.parse(showsrc: text, package: "hello") == DebianSourceInfo(name: "hello", version: "2.10-3"))
        let two = "Package: lighttpd\nBinary: lighttpd, lighttpd-mod-webdav\nVersion: 1.4.69-1\n\n"
            + "Package: lighttpd\nBinary: lighttpd\nVersion: 1.4.69-1+deb12u1\n"
        // A binary package's name finds its source.
        #expect(DebianSourceInfo.parse(showsrc: two, package: "lighttpd-mod-webdav")?.name == "lighttpd")
        #expect(DebianSourceInfo.parse(showsrc: two, package: "lighttpd")?.version == "1.4.69-1+deb12u1")
        #expect(DebianSourceInfo.parse(showsrc: "", package: "hello") == nil)
        #expect(DebianSourceInfo.parse(showsrc: "W: Unable to locate package x\n", package: "x") == nil)
    }

    @Test(arguments: [
        ("1.0-1", "1.0-2"), ("1.0~rc1-1", "1.0-1"), ("1.9", "1.10"), ("2.0", "1:0.1"), ("2.10-3", "2.10-3+deb12u1"),
        ("1.4.69-1", "1.4.69-1.1"), ("1.0", "1.0a"),
    ])
    func debianVersionOrder(_ pair: (String, String)) {
        #expect(DebianVersion.less(pair.0, pair.1))
        #expect(!DebianVersion.less(pair.1, pair.0))
        #expect(!DebianVersion.less(pair.0, pair.0))
    }

    @Test func targetsAreTheProgramsNotTheTests() {
        let built = [
            "hello", "src/lighttpd", "src/.libs/lighttpd-angel", "src/.libs/lt-lighttpd-angel", "src/t/test_burl",
            "tests/fcgi-responder", "test-driver-bin", "src/parser_test", "build/unittests/runner", "obj-x86_64-linux-gnu/tool",
        ]
        #expect(DebianTargets.select(built) == ["hello", "lighttpd", "lighttpd-angel", "lt-lighttpd-angel", "tool"])
    }

    @Test func targetsAreLocatedInTheTreeForTheStaticAnalysis() {
        let built = ["hello", "src/lighttpd", "src/.libs/lighttpd-angel", "src/t/test_burl", "doc/examples/hello"]
        let found = DebianTargets.locations(of: ["hello", "lighttpd-angel", "lt-lighttpd-angel", "lt-hello", "absent"], among: built, tree: "/b")
        #expect(found == ["hello": "/b/hello", "lighttpd-angel": "/b/src/.libs/lighttpd-angel", "lt-lighttpd-angel": "/b/src/.libs/lighttpd-angel"])
    }

    @Test func elfProgramsAreToldFromLibrariesAndScripts() throws {
        func header(_ path: String) throws -> Data {
            let handle = try #require(FileHandle(forReadingAtPath: path))
            defer { try? handle.close() }
            return try handle.read(upToCount: 4096) ?? Data()
        }
        #expect(DebianTargets.isExecutableELF(try header("/bin/true")))
        // libm (a plain shared library: no PT_INTERP; glibc's own libc.so.6 has one and runs).
        let libm = try #require(["/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6"]
            .first { FileManager.default.fileExists(atPath: $0) })
        #expect(!DebianTargets.isExecutableELF(try header(libm)))
        #expect(!DebianTargets.isExecutableELF(Data("#!/bin/sh\necho hi\n".utf8)))
        #expect(!DebianTargets.isExecutableELF(Data([0x7f, 0x45, 0x4c, 0x46])))
    }

    @Test func overridesOfTheTestStepAreFollowed() {
        #expect(DebianTargets.overridesTests("%:\n\tdh $@\n\noverride_dh_auto_test:\n\tmake check-all\n"))
        #expect(!DebianTargets.overridesTests("%:\n\tdh $@\n\noverride_dh_auto_build:\n\tmake\n"))
        let script = DebianTargets.wrapper(package: "hello", testCommand: "dh_auto_test")
        #expect(script.contains("mount --bind \"$tree\" \"$SYSPECT_SUITE_BUILD\""))
        #expect(script.contains("dh_auto_test 2>&1 | tee \"$SYSPECT_PROBE_DIR/suite.out\""))
    }

    @Test func debianSpecGetsItsKeysFromThePackage() throws {
        let spec = try AppSpec.parse(text: "debian:\n  package: hello\n  binaries: [hello]\nreplicas: 2\n", file: "h.yaml", directory: "/")
        #expect(spec.name == "hello")
        #expect(spec.workload == "suite-debian-tests")
        #expect(spec.kind == .suite)
        #expect(spec.debian == DebianSource(package: "hello", binaries: ["hello"]))
        #expect(spec.replicas == 2)
        #expect(spec.runTimeout == 600)
        let cli = try AppSpec.parse(text: DebianSource(package: "lighttpd", binaries: ["lighttpd", "lighttpd-angel"]).specText,
                                    file: "--debian", directory: "/")
        #expect(cli.debian?.binaries == ["lighttpd", "lighttpd-angel"])
    }

    @Test(arguments: [
        ("debian:\n  package: hello\ncommand: [make, check]\n", "s.yaml:3: `command` cannot be set with `debian`"),
        ("debian:\n  binaries: [x]\n", "missing required field `debian.package`"),
        ("debian:\n  package: Hello World\n", "must be a Debian package name"),
        ("debian:\n  package: hello\n  version: 1\n", "unknown key `version` in debian"),
        ("debian: hello\n", "`debian` must be a mapping"),
        ("name: a\nworkload: {name: w, kind: health}\ncommand: [true]\nresults: {directory: x}\n", "`results` is for a test suite"),
        ("name: a\nworkload: {name: w, kind: suite}\ncommand: [true]\nresults: {folder: x}\n", "unknown key `folder` in results"),
    ])
    func badSuiteSpecs(_ example: (String, String)) {
        do {
            _ = try AppSpec.parse(text: example.0, file: "s.yaml", directory: "/")
            Issue.record("accepted: \(example.0)")
        } catch {
            #expect(error.description.contains(example.1), "\(error.description)")
        }
    }

    @Test func aFailingStepNamesItselfAndItsLog() throws {
        let folder = "/var/tmp/syspect-debian-tests/step-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let suite = DebianSuite(workDirectory: folder)
        #expect(throws: DebianSuiteError(step: .build, message: "`sh -c echo broken; exit 2` exited 2; read the log",
                                         log: "\(folder)/build.log")) {
            try suite.step(.build, ["sh", "-c", "echo broken; exit 2"], in: folder, fix: "read the log")
        }
        #expect(try String(contentsOfFile: "\(folder)/build.log", encoding: .utf8) == "broken\n")
    }

    @Test func aPackageWithoutATestSuiteIsRefused() throws {
        // A debhelper package with no build system: dh_auto_test has nothing to run.
        let tree = "/var/tmp/syspect-debian-tests/notests-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: "\(tree)/debian", withIntermediateDirectories: true)
        try "Source: notests\nMaintainer: X <x@example.org>\nBuild-Depends: debhelper-compat (= 13)\n\nPackage: notests\nArchitecture: all\nDescription: d\n d\n"
            .write(toFile: "\(tree)/debian/control", atomically: true, encoding: .utf8)
        try "notests (1.0-1) unstable; urgency=low\n\n  * x\n\n -- X <x@example.org>  Thu, 01 Jan 2026 00:00:00 +0000\n"
            .write(toFile: "\(tree)/debian/changelog", atomically: true, encoding: .utf8)
        try "#!/usr/bin/make -f\n%:\n\tdh $@\n".write(toFile: "\(tree)/debian/rules", atomically: true, encoding: .utf8)
        do {
            _ = try DebianSuite.testCommand(tree: tree, folder: tree)
            Issue.record("a package without tests was accepted")
        } catch {
            #expect(error.step == .tests)
            #expect(error.description.contains("has no test suite"), "\(error.description)")
            #expect(error.log == "\(tree)/tests-dry-run.log")
        }
    }
}

/// Whether this machine's apt has a source index for hello (the deb-src line of docs/suites.md).
func debSrcAvailable() -> Bool {
    guard let output = try? runProgram("/usr/bin/apt-cache", ["showsrc", "hello"]) else { return false }
    return output.stdout.contains("Version:")
}

/// GNU hello end to end: fetch, build-dep, build, explore (adaptive), show, plan. Needs root,
/// the network and the deb-src source that scripts/setup adds.
@Suite(.serialized, .enabled(if: debSrcAvailable(),
    "no deb-src apt source (apt-cache showsrc hello finds nothing): add the deb-src line of docs/suites.md, as scripts/setup does"))
struct DebianSuiteEndToEndTests {
    static let folder = "/var/tmp/syspect-debian-tests/hello"

    @Test func helloSuiteExploredTestCaseByTestCase() throws {
        let db = "\(Self.folder)/\(UUID().uuidString.prefix(8)).db"
        try FileManager.default.createDirectory(atPath: Self.folder, withIntermediateDirectories: true)
        let (status, out, err) = try syspect(["explore", "--debian", "hello", "--replicas", "1", "--db", db, "--work-dir", "\(Self.folder)/work"])
        #expect(status == 0, "\(err)")
        #expect(err.contains("targets: hello"), "\(err)")
        // hello's 5 cases: 4 pass, tests/greeting-2 skips on every run (ignored).
        #expect(out.contains("test cases: 4 must pass in every probe"), "\(out)")
        #expect(out.contains("hello / suite-debian-tests (suite"), "\(out)")
        // The static stage finds the target in the build tree (a name, not on PATH).
        #expect(!err.contains("no static analysis"), "\(err)")

        let (showStatus, shown, showErr) = try syspect(["show", "hello", "--db", db])
        #expect(showStatus == 0, "\(showErr)")
        #expect(shown.contains("(Figure 4; static set: syspect, "), "\(shown)")
        // Calls hello needs break must-pass cases (which ones depends on where early stop caught
        // the suite), and only those: never the case that skips on every run.
        let section = try #require(shown.components(separatedBy: "test cases broken per call").last, "\(shown)")
        let mustPass = ["tests/greeting-1", "tests/hello-1", "tests/last-1", "tests/traditional-1"]
        let listed = section.split(separator: "\n").dropFirst().filter { $0.hasPrefix("  ") }
        #expect(!listed.isEmpty, "\(shown)")
        for line in listed {
            #expect(mustPass.contains { line.contains($0) }, "\(line)")
            #expect(!line.contains("tests/greeting-2"), "\(line)")
        }

        // Stored as a suite workload: exported to loupedb's layout, planned with --workload suite.
        let exported = "\(Self.folder)/\(UUID().uuidString.prefix(8))-loupedb"
        let (exportStatus, _, exportErr) = try syspect(["db", "export-loupedb", exported, "--db", db])
        #expect(exportStatus == 0, "\(exportErr)")
        #expect(FileManager.default.fileExists(atPath: "\(exported)/hello/suite-debian-tests"))
        let (planStatus, plan, planErr) = try syspect(["plan", "--os", "unikraft", "--workload", "suite", "--data", exported])
        #expect(planStatus == 0, "\(planErr)")
        #expect(plan.contains("hello"), "\(plan)")

        // The same command again: the build is cached and the exploration is finished.
        let (again, _, againErr) = try syspect(["explore", "--debian", "hello", "--replicas", "1", "--db", db, "--work-dir", "\(Self.folder)/work"])
        #expect(again == 0)
        #expect(againErr.contains("built before"), "\(againErr)")
    }

    @Test func aPackageThatCannotBeFoundIsOneLineNamingTheStep() throws {
        let (status, _, err) = try syspect(["explore", "--debian", "no-such-package-syspect", "--work-dir", "\(Self.folder)/work",
                                            "--db", "\(Self.folder)/missing.db"])
        #expect(status == 3)
        #expect(err.contains("debian look-up: no source package for no-such-package-syspect"), "\(err)")
        #expect(err.contains("deb-src"), "\(err)")
    }
}
