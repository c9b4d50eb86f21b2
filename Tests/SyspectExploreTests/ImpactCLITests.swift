import Foundation
import SyspectCore
import SyspectStore
import Testing

/// `syspect explore --impact` and `syspect show --impact` end to end, on `true` (a complete
/// explore in seconds; no metric, so only the resource measures are compared).
@Suite(.serialized) struct ImpactCLITests {
    let folder = "/var/tmp/syspect-impact-cli-tests/\(UUID().uuidString.prefix(8))"

    func writeSpec() throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = "\(folder)/true.yaml"
        try "name: true-impact\nworkload: {name: health-true, kind: health}\ncommand: [true]\ntimeouts: {run: 3}\nreplicas: 1\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func exploreMeasuresAndShowPrintsTheTable() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let spec = try writeSpec()
        let common = ["--db", "\(folder)/t.db", "--work-dir", "\(folder)/p"]
        let (status, stdout, stderr) = try syspect(
            ["explore", spec, "--impact", "--impact-runs", "2", "--impact-syscalls", "close", "--jobs", "2"] + common)
        #expect(status == 0, "\(stderr)")
        #expect(stdout.contains("impact of stubbing and faking"), "\(stdout)")
        #expect(stdout.contains("close "), "\(stdout)")
        #expect(stderr.contains("impact [4/"), "\(stderr)")

        // Again: everything is journaled, nothing runs.
        let (again, _, againErr) = try syspect(
            ["explore", spec, "--impact", "--impact-runs", "2", "--impact-syscalls", "close"] + common)
        #expect(again == 0)
        #expect(!againErr.contains("impact ["), "\(againErr)")
        #expect(againErr.contains("already journaled"), "\(againErr)")

        let (showStatus, json, showErr) = try syspect(["show", "true-impact", "--impact", "--json", "--db", "\(folder)/t.db"])
        #expect(showStatus == 0, "\(showErr)")
        struct Document: Decodable {
            struct Result: Decodable {
                struct Comparison: Decodable { var measure: String; var flagged: Bool }
                var syscall: Int; var name: String; var flagged: Bool; var mode: String; var baselineRuns: Int; var policyRuns: Int
                var comparisons: [Comparison]
            }
            var app: String
            var results: [Result]
        }
        let documents = try JSONDecoder().decode([Document].self, from: Data(json.utf8))
        let results = try #require(documents.first?.results)
        #expect(!results.isEmpty)
        for r in results {
            #expect(r.syscall == 3 && r.name == "close")
            #expect(r.flagged == r.comparisons.contains { $0.flagged })
            #expect(r.baselineRuns == 2 && r.policyRuns == 2)
            // `true` prints no metric: FDs, memory, CPU and wall are compared.
            #expect(Set(r.comparisons.map(\.measure)) == ["fds", "memory", "cpu", "wall"])
        }
    }

    /// A flagged stub of munmap for redis (the bundled loupedb says `either`) makes the plan fake it.
    @Test func planStrictImpactTakesAwayFlaggedModes() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let db = "\(folder)/plan.db"
        let store = try SQLiteStore(path: db)
        let key = "redis/benchmark-redis-benchmark@test"
        try store.beginExploration(ExplorationRecord(key: key, app: "redis", workload: "benchmark-redis-benchmark", kind: .benchmark,
                                                     specHash: "h", specText: "", strategy: "adaptive", startedAt: Date()))
        let munmap = SyscallTable.number(named: "munmap")!
        try store.saveImpact([ImpactResult(
            exploration: key, app: "redis", syscall: munmap, mode: "stub", baselineRuns: 5, policyRuns: 5, policyFailures: 0,
            test: "welch", alpha: 0.05, threshold: 0.03, metricBetter: "higher",
            comparisons: [ImpactComparison(measure: .memory, baselineMean: 1e7, policyMean: 1.2e7, change: 0.2, pValue: 0.001, flagged: true)],
            measuredAt: Date())])
        func decision(_ extra: [String]) throws -> (String?, String) {
            let (status, json, stderr) = try syspect(["plan", "--os", "kerla", "--apps", "redis", "--format", "json", "--db", db] + extra)
            #expect(status == 0, "\(stderr)")
            let plan = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])["plan"] as? [String: Any]
            let steps = try #require(plan?["steps"] as? [[String: Any]])
            let decisions = steps.flatMap { step in ["stub", "fake", "implement"].flatMap { step[$0] as? [[String: Any]] ?? [] } }
            return (decisions.first { $0["name"] as? String == "munmap" }?["decision"] as? String, stderr)
        }
        #expect(try decision([]).0 == "stub")
        let (strict, note) = try decision(["--strict-impact"])
        #expect(strict == "fake")
        #expect(note.contains("redis/benchmark-redis-benchmark: munmap either -> fake (flagged stub: memory)"), "\(note)")
    }

    @Test func unknownImpactSyscallIsAUsageError() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let spec = try writeSpec()
        let (status, _, stderr) = try syspect(["explore", spec, "--impact", "--impact-syscalls", "wirte", "--db", "\(folder)/t.db"])
        #expect(status == 64)
        #expect(stderr.contains("unknown system call 'wirte'"), "\(stderr)")
    }
}
