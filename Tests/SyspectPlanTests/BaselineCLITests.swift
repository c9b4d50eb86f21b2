import Foundation
import SyspectTestSupport
import Testing
@testable import SyspectCore
import SyspectPlan

/// `syspect plan --baseline static|naive` on the bundled data (no results database): loupedb's
/// static_binary sets, named as such; apps without one are left out and named. Expectations
/// come from the library on the same data, never from numbers written down.
@Suite("syspect plan --baseline (the built binary)", .serialized)
struct BaselineCLITests {
    /// A database path that does not exist: no syspect static sets, and none is created.
    static let noDatabase = NSTemporaryDirectory() + "syspect-no-db-\(UUID().uuidString)/none.db"

    @Test("--baseline static: loupedb's sets, memcached left out, the last step implements their union")
    func staticFromLoupedb() throws {
        let apps = ["sqlite", "redis", "nginx", "memcached"]
        let output = try PlanCLIGoldenTests.run(["plan", "--os", "kerla", "--apps", apps.joined(separator: ","),
                                                 "--baseline", "static", "--db", Self.noDatabase, "--format", "json"])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(!FileManager.default.fileExists(atPath: Self.noDatabase))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
        let baseline = try #require(json["baseline"] as? [String: Any])
        let sets = try #require(baseline["staticSets"] as? [String: [String: Any]])
        #expect(baseline["withoutStaticSet"] as? [String] == ["memcached"])
        #expect(Set(sets.keys) == ["sqlite", "redis", "nginx"])
        #expect(sets.values.allSatisfy { $0["source"] as? String == "loupedb" })

        // The same from the library.
        let data = BundledLoupedb.dataset.measurements.filter { apps.contains($0.app) }
        let targets = try Planner.targets(from: data, workload: .all)
        let expected = PlanBaseline.static.targets(targets, staticSets: StaticSet.byApp(data))
        for (app, set) in expected.sources {
            #expect((sets[app]?["syscalls"] as? [Int]).map(Set.init) == set.syscalls, "\(app)")
        }
        let kerla = try #require(BundledLoupedb.dataset.osSupport["Kerla"])
        let union = expected.targets.reduce(into: Set<Int>()) { $0.formUnion($1.verdicts.keys) }.subtracting(kerla.syscalls)
        let plan = try #require(json["plan"] as? [String: Any])
        let steps = try #require(plan["steps"] as? [[String: Any]])
        #expect(steps.last?["implementedCount"] as? Int == union.count)
        #expect(plan["apps"] as? [String] == expected.targets.map(\.app))

        let table = try PlanCLIGoldenTests.run(["plan", "--os", "kerla", "--apps", apps.joined(separator: ","),
                                                "--baseline", "static", "--db", Self.noDatabase])
        #expect(table.stdout.contains("Baseline: static binary analysis: every call it finds implemented."))
        #expect(table.stdout.contains("Static sets from loupedb's static_binary.csv: nginx \(expected.sources["nginx"]!.syscalls.count)"))
        #expect(table.stdout.contains("Left out, no static analysis known: memcached"))
    }

    @Test("--baseline naive: every traced call implemented; the curve is never below our stub/fake plan")
    func naive() throws {
        let args = ["plan", "--os", "kerla", "--apps", "sqlite,redis,nginx,haproxy", "--format", "json", "--db", Self.noDatabase]
        let naive = try PlanCLIGoldenTests.run(args + ["--baseline", "naive"])
        let ours = try PlanCLIGoldenTests.run(args)
        #expect(naive.status == 0 && ours.status == 0)
        struct Document: Decodable { struct Plan: Decodable { var curve: [Double] }; var plan: Plan }
        func curve(_ text: String) throws -> [Double] { try JSONDecoder().decode(Document.self, from: Data(text.utf8)).plan.curve }
        let n = try curve(naive.stdout), o = try curve(ours.stdout)
        #expect(n.count == o.count)
        for i in n.indices { #expect(o[i] <= n[i], "\(i) apps") }
        #expect(n.last! > o.last!, "stubbing and faking save something on these apps")
    }

    @Test("--baseline with an unknown name is a usage error")
    func badBaseline() throws {
        let output = try PlanCLIGoldenTests.run(["plan", "--os", "kerla", "--baseline", "dynamic"])
        #expect(output.status == 64)
        #expect(output.stderr.contains("naive") && output.stderr.contains("static"))
    }
}
