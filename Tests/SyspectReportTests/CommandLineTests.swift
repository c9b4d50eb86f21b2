import Foundation
import SyspectTestSupport
import SyspectCore
import Testing
@testable import SyspectReport

/// Golden-path and bad-input checks of `syspect report`, `syspect export …`, the man page and
/// the shell completions, against the built executable.
@Suite("report/export command line", .serialized)
struct CommandLineTests {
    static let syspect = TestSupport.syspectExecutable
    /// The published loupedb folder in the repository (`data/loupedb`, or `$SYSPECT_LOUPEDB`).
    static let sharedLoupedb = RepositoryData.loupedb
    static let skipMessage: Comment = "the syspect executable is not built next to the tests (run `swift build` first)"

    @Test("the man page and the bash, zsh and fish completions mention every subcommand", .enabled(if: syspect != nil, skipMessage))
    func manualAndCompletions() throws {
        let dump = try TestSupport.run(Self.syspect!, ["--experimental-dump-help"])
        try #require(dump.status == 0)
        let info = try ManualPage.toolInfo(json: Data(dump.stdout.utf8))
        let paths = ManualPage.commandPaths(info)
        #expect(paths.contains("syspect report") && paths.contains("syspect export seccomp") && paths.contains("syspect export stubs"))
        // Every command's help renders (`syspect help …`: `trace` passes `--help` on to its command).
        for path in paths.dropFirst() {
            let words = path.split(separator: " ").dropFirst().map(String.init)
            let help = try TestSupport.run(Self.syspect!, ["help"] + words)
            #expect(help.status == 0 && help.stdout.contains("USAGE: \(path)"), "\(path): \(help.stdout.suffix(500))\(help.stderr.suffix(500))")
        }
        let manual = try TestSupport.run(Self.syspect!, ["export", "manual", "--date", "2026-01-01"])
        #expect(manual.status == 0, "\(manual.stderr)")
        #expect(manual.stdout.hasPrefix(".TH SYSPECT 1 \"2026-01-01\""))
        for path in paths.dropFirst() {
            #expect(manual.stdout.contains(".SS \(ManualPage.escape(path))"), "man page lacks \(path)")
        }
        for shell in ["bash", "zsh", "fish"] {
            let script = try TestSupport.run(Self.syspect!, ["--generate-completion-script", shell])
            #expect(script.status == 0)
            for path in paths.dropFirst() {
                let leaf = String(path.split(separator: " ").last!)
                #expect(script.stdout.contains(leaf), "\(shell) completion lacks \(path)")
            }
        }
        // groff (from man-db's groff-base) reads it without a warning.
        if let groff = which("groff") {
            let dir = try TestSupport.temporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try manual.stdout.write(toFile: dir + "/syspect.1", atomically: true, encoding: .utf8)
            let checked = try TestSupport.run(groff, ["-man", "-ww", "-z", dir + "/syspect.1"])
            #expect(checked.status == 0 && checked.stderr.isEmpty, "groff: \(checked.stderr)")
        }
        // --help and --version are documented once, under the root.
        #expect(TestSupport.count("\\fB\\-\\-version\\fR", in: manual.stdout) == 1)
        // No roff line may start with a control character by accident (text lines escaped).
        for line in manual.stdout.split(separator: "\n") where line.hasPrefix("'") {
            Issue.record("line starts with ': \(line)")
        }
    }

    @Test("roff escaping: characters beyond ASCII become \\[uXXXX], hyphens minus signs")
    func roffEscaping() {
        #expect(ManualPage.escape("runs ≥ 2 — a-b") == "runs \\[u2265] 2 \\[u2014] a\\-b")
        #expect(ManualPage.escape(".x") == "\\&.x")
    }

    @Test("syspect report writes a page; bad input is one line naming the fix, exit 1", .enabled(if: syspect != nil, skipMessage))
    func report() throws {
        let dir = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ok = try TestSupport.run(Self.syspect!, ["report", "--apps", "redis,nginx", "--os", "Kerla", "-o", dir + "/r.html"])
        #expect(ok.status == 0, "\(ok.stderr)")
        let html = try String(contentsOfFile: dir + "/r.html", encoding: .utf8)
        let runs = BundledLoupedb.dataset.measurements.filter { ["redis", "nginx"].contains($0.app) }.count
        #expect(TestSupport.count("<svg class=\"grid\"", in: html) == runs)
        #expect(html.contains("Support plan for Kerla"))
        #expect(html.contains("CC BY 4.0"))

        let badApp = try TestSupport.run(Self.syspect!, ["report", "--apps", "rediss", "-o", dir + "/x.html"])
        #expect(badApp.status == 1)
        #expect(badApp.stderr.contains("rediss") && badApp.stderr.contains("closest: redis"))
        #expect(badApp.stderr.split(separator: "\n").count == 1)
        let badOS = try TestSupport.run(Self.syspect!, ["report", "--os", "Plan9", "-o", dir + "/x.html"])
        #expect(badOS.status == 1)
        #expect(badOS.stderr.contains("Kerla"))
        // From a results database: import the loupedb folder the bundled data came from, draw from it.
        let db = dir + "/r.db"
        try #require(FileManager.default.fileExists(atPath: Self.sharedLoupedb), "no loupedb folder at \(Self.sharedLoupedb)")
        do {
            let imported = try TestSupport.run(Self.syspect!, ["db", "import-loupedb", Self.sharedLoupedb, "--db", db])
            #expect(imported.status == 0, "cannot import \(Self.sharedLoupedb) into a store: \(imported.stderr)")
            let fromDb = try TestSupport.run(Self.syspect!, ["report", "--db", db, "--apps", "redis,nginx", "--os", "none", "-o", dir + "/db.html"])
            #expect(fromDb.status == 0, "\(fromDb.stderr)")
            let dbHTML = try String(contentsOfFile: dir + "/db.html", encoding: .utf8)
            #expect(dbHTML.contains("Data: results database"))
            // The store keeps every imported run (nginx/suite-nginx-tests has two): each is drawn,
            // and repeated workloads are labelled with their source.
            #expect(TestSupport.count("<svg class=\"grid\"", in: dbHTML) >= runs)
            #expect(TestSupport.count("<span class=\"runsource\">", in: dbHTML) != 1)
            #expect(!dbHTML.contains("<section id=\"plan\""))
        }
        let noDb = try TestSupport.run(Self.syspect!, ["report", "--db", dir + "/none.db", "-o", dir + "/x.html"])
        #expect(noDb.status == 1 && noDb.stderr.contains("no results database"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/none.db"))

        let badOut = try TestSupport.run(Self.syspect!, ["report", "--apps", "redis", "-o", dir + "/missing/x.html"])
        #expect(badOut.status == 1)
        #expect(badOut.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.html"))
    }

    @Test("export seccomp and export stubs from the bundled data", .enabled(if: syspect != nil, skipMessage))
    func exports() throws {
        let seccomp = try TestSupport.run(Self.syspect!, ["export", "seccomp", "nginx", "--workload", "benchmark"])
        #expect(seccomp.status == 0, "\(seccomp.stderr)")
        let (problems, rules) = try DocumentedSeccompShape.check(Data(seccomp.stdout.utf8))
        #expect(problems.isEmpty, "\(problems)")
        let benchmark = BundledLoupedb.dataset.measurements.filter { $0.app == "nginx" && $0.kind == .benchmark }
        let expected = Set(benchmark.flatMap(\.traced).compactMap { SyscallTable.name(of: $0) }).union(["execve"])
        #expect(Set(rules.flatMap(\.names)) == expected)

        let unknownWorkload = try TestSupport.run(Self.syspect!, ["export", "seccomp", "nginx", "--workload", "nope"])
        #expect(unknownWorkload.status == 1)
        #expect(unknownWorkload.stderr.contains("benchmark-"))

        let stubs = try TestSupport.run(Self.syspect!, ["export", "stubs", "--os", "Kerla", "--apps", "redis,nginx"])
        #expect(stubs.status == 0, "\(stubs.stderr)")
        #expect(stubs.stdout.contains("return -ENOSYS;"))
        #expect(stubs.stdout.contains("syspect_planned_syscalls[]"))
        #expect(stubs.stdout.contains("nginx ("))
    }
}
