import Foundation
import SyspectTestSupport
import Testing
@testable import SyspectCore
import SyspectPlan

/// Runs the built `syspect` binary (next to this test bundle in the build folder; `scripts/test`
/// builds it first) and compares its output with files in `Golden/`.
/// `SYSPECT_UPDATE_GOLDEN=1 swift test --filter PlanCLIGoldenTests` rewrites them.
@Suite("syspect plan / importance CLI (golden)", .serialized)
struct PlanCLIGoldenTests {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let binary: String? = {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        // The test executable may sit inside a bundle folder (…/debug/x.xctest/…).
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("syspect").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir.deleteLastPathComponent()
        }
        return nil
    }()

    static func run(_ arguments: [String]) throws -> Output {
        let path = try #require(binary, "the syspect executable is not in the build folder: run `swift build` first (scripts/test does)")
        let output = try runProgram(path, arguments)
        return Output(status: output.status, stdout: output.stdout, stderr: output.stderr)
    }

    static func golden(_ name: String, _ actual: String) throws {
        let file = SharedLoupedb.repoRoot + "/Tests/SyspectPlanTests/Golden/" + name
        if ProcessInfo.processInfo.environment["SYSPECT_UPDATE_GOLDEN"] == "1" {
            try actual.write(toFile: file, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOfFile: file, encoding: .utf8)
        #expect(actual == expected, "output differs from Golden/\(name)")
    }

    static let paperApps = "memcached,h2o,mongodb,lighttpd,haproxy,nginx,httpd,weborf,sqlite,redis,webfsd"

    @Test("syspect plan --os kerla: every bundled app")
    func kerlaAll() throws {
        let output = try Self.run(["plan", "--os", "kerla"])
        #expect(output.status == 0)
        #expect(output.stderr.isEmpty)
        try Self.golden("plan-kerla.txt", output.stdout)
    }

    @Test("the paper's Table 1 applications on Kerla, Fuchsia, Unikraft-7d6707f (markdown, with comparison)")
    func table1() throws {
        for os in ["Kerla", "fuchsia", "UNIKRAFT-7d6707f"] {
            let output = try Self.run(["plan", "--os", os, "--apps", Self.paperApps, "--format", "markdown", "--compare-greedy"])
            #expect(output.status == 0)
            try Self.golden("plan-table1-\(os.lowercased()).md", output.stdout)
        }
    }

    @Test("--os FILE and --data DIR give the same plan as the bundled list and data")
    func fileAndFolder() throws {
        let folder = NSTemporaryDirectory() + "syspect-os-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let list = folder + "/Kerla.syscalls"
        try FileManager.default.copyItem(atPath: SharedLoupedb.path + "/Kerla.syscalls", toPath: list)
        let bundled = try Self.run(["plan", "--os", "kerla", "--format", "json"])
        let fromFile = try Self.run(["plan", "--os", list, "--format", "json"])
        let fromFolder = try Self.run(["plan", "--os", "kerla", "--format", "json", "--data", SharedLoupedb.path])
        #expect(bundled.status == 0 && fromFile.status == 0 && fromFolder.status == 0)
        #expect(fromFile.stdout == bundled.stdout)
        #expect(fromFolder.stdout == bundled.stdout)
    }

    @Test("bad input: one line on stderr naming the problem and the fix, exit 1")
    func badInput() throws {
        let folder = NSTemporaryDirectory() + "syspect-bad-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "read\nwrtie\n".write(toFile: folder + "/toy.syscalls", atomically: true, encoding: .utf8)
        try "read 1\nopen x\n".write(toFile: folder + "/costs", atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["plan", "--os", "kerlaa"], "unknown OS 'kerlaa' (closest: Kerla)"),
            (["plan", "--os", folder + "/toy.syscalls"], "line 2: 'wrtie' (closest: write"),
            (["plan", "--os", "kerla", "--apps", "ngnix"], "'ngnix' (closest: nginx)"),
            (["plan", "--os", "kerla", "--costs", folder + "/costs"], "costs:2: cost 'x' is not a non-negative number"),
            (["plan", "--os", "kerla", "--data", folder + "/missing"], "does not exist"),
            (["importance", "--workload", "suite", "--apps", "h2o"], "h2o has no suite workload"),
        ]
        for (arguments, message) in cases {
            let output = try Self.run(arguments)
            #expect(output.status == 1, "\(arguments)")
            #expect(output.stdout.isEmpty, "\(arguments)")
            #expect(output.stderr.contains(message), "\(arguments): \(output.stderr)")
            #expect(output.stderr.split(separator: "\n").count == 1, "\(arguments): \(output.stderr)")
        }
        let usage = try Self.run(["plan", "--os", "kerla", "--workload", "bench"])
        #expect(usage.status == 64)
    }

    @Test("syspect importance: counts agree with the library, csv and json parse")
    func importance() throws {
        let csv = try Self.run(["importance", "--workload", "benchmark", "--format", "csv"])
        #expect(csv.status == 0)
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.first == "Syscall,Number,Required by,Required %,Traced by,Traced %")
        let table = try Self.run(["importance"])
        #expect(table.stdout.hasPrefix("API importance over 116 applications (workload: all): "))
        let json = try Self.run(["importance", "--format", "json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let data = BundledLoupedb.dataset.measurements
        let benchmark = APIImportance.compute(try Planner.targets(from: data, workload: .benchmark))
        let all = APIImportance.compute(try Planner.targets(from: data, workload: .all))
        #expect(lines.count - 1 == benchmark.count)
        #expect(lines[1] == "\(benchmark[0].name),\(benchmark[0].number),\(benchmark[0].requiredBy),\(PlanRendering.percent(benchmark[0].requiredShare)),\(benchmark[0].tracedBy),\(PlanRendering.percent(benchmark[0].tracedShare))")
        #expect(rows.count == all.count)
        #expect(rows.first?["name"] as? String == all.first?.name)
        #expect(rows.first?["requiredBy"] as? Int == all.first?.requiredBy)
    }

    @Test("plan --help shows the data attribution")
    func help() throws {
        let output = try Self.run(["plan", "--help"])
        let text = output.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("licensed CC BY 4.0"))
        #expect(text.contains("repository unikraft/loupedb"))
    }
}
