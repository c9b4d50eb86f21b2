import Foundation
import SyspectCore
@testable import SyspectStore
import Testing
@testable import SyspectExplore

/// Issue 13, Must 2-4 end to end with the built binary and real parts (the sandboxed sqlite3
/// fixture, this machine's libraries, an SQLite results database): `explore` stores the static
/// analysis of its target, `show` prints it beside loupedb's static_binary set, `plan --baseline
/// static` and `report` use it. Every expectation is derived from what was stored.
@Suite(.serialized) struct StaticExploreCLITests {
    let folder = "/var/tmp/syspect-static-cli-tests/\(UUID().uuidString.prefix(8))"

    /// The small sqlite fixture named as loupedb names sqlite ("sqlite"), so loupedb's
    /// static_binary.csv of sqlite is the reference.
    func spec() throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sqlite-small.yaml")
        let text = try String(contentsOf: source, encoding: .utf8)
        #expect(text.contains("\nname: sqlite-test\n"))
        let path = "\(folder)/sqlite-static.yaml"
        try text.replacingOccurrences(of: "\nname: sqlite-test\n", with: "\nname: sqlite\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func exploreStoresTheStaticAnalysisAndShowPlanReportUseIt() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let specPath = try spec()
        let db = "\(folder)/static.db"
        let explore = ["explore", specPath, "--db", db, "--work-dir", "\(folder)/probes", "--jobs", "3"]
        let (status, exploreOut, exploreErr) = try syspect(explore)
        try #require(status == 0, "\(exploreErr)")

        // Stored: the analysis of the resolved target, its objects by build-id, the check.
        let store = try SQLiteStore(path: db)
        let key = Explorer.key(for: try AppSpec.load(path: specPath))
        let exploration = try #require(try store.exploration(key: key))
        let stored = try #require(try store.staticAnalysis(exploration: key))
        let analysis = stored.analysis
        let sqlite3 = try StaticCheck.targetPaths(try AppSpec.load(path: specPath))
        #expect(analysis.targets == sqlite3)
        #expect(analysis.objects.first?.path == sqlite3.first)
        #expect(analysis.objects.count > 1, "sqlite3 loads libraries (libsqlite3, libc, …)")
        #expect(analysis.objects.allSatisfy { !$0.buildID.isEmpty }, "Debian's objects carry build-ids")
        #expect(stored.outsideStatic == StaticCheck.outside(census: exploration.census, analysis: analysis))
        let measurement = try #require(try store.measurements(apps: ["sqlite"], kind: nil).first { $0.source == "syspect" })
        #expect(measurement.staticBinary == analysis.syscalls)
        // Must 4: explore names the calls outside the static set, exactly when there are some.
        if stored.outsideStatic.isEmpty {
            #expect(!exploreErr.contains("outside the static set"))
        } else {
            #expect(exploreErr.contains(StaticCheck.warning(stored.outsideStatic, analysis: analysis)))
        }
        let counts = "static \(analysis.syscalls.count)  traced \(measurement.verdicts.count)  required \(measurement.required.count)"
        #expect(exploreOut.contains(counts))

        // show: Figure 4 numbers, and ours beside loupedb's static_binary (Must 2).
        let (showStatus, show, _) = try syspect(["show", "sqlite", "--db", db])
        #expect(showStatus == 0)
        #expect(show.contains(counts + "   (Figure 4; static set: syspect, call graph, \(analysis.objects.count) objects"))
        let theirs = BundledLoupedb.dataset.measurements.filter { $0.app == "sqlite" && $0.staticBinary != nil }
        try #require(!theirs.isEmpty, "the bundled loupedb has sqlite's static_binary.csv")
        let comparison = StaticSetComparison(ours: analysis.syscalls, theirs: theirs.reduce(into: Set<Int>()) { $0.formUnion($1.staticBinary!) })
        #expect(show.contains("static beside loupedb's static_binary (" + theirs.map { $0.source.replacingOccurrences(of: "loupedb:", with: "") }
            .joined(separator: ", ") + "): " + comparison.line()))

        // show --json: the same under "static".
        struct Document: Decodable {
            struct Static: Decodable {
                struct Analysis: Decodable { struct Object: Decodable { var path: String; var buildID: String }; var objects: [Object] }
                struct Reference: Decodable { var comparison: StaticSetComparison }
                var source: String, staticCount: Int, traced: Int, required: Int, syscalls: [Int]
                var analysis: Analysis?, loupedb: Reference?, outsideStatic: [CensusEntry]
            }
            var `static`: Static?
        }
        let (_, json, _) = try syspect(["show", "sqlite", "--db", db, "--json"])
        let document = try #require(try JSONDecoder().decode([Document].self, from: Data(json.utf8)).first?.static)
        #expect(document.source == "syspect" && document.staticCount == analysis.syscalls.count)
        #expect(document.syscalls == analysis.syscalls.sorted())
        #expect(document.analysis?.objects.map(\.buildID) == analysis.objects.map(\.buildID))
        #expect(document.loupedb?.comparison == comparison)
        #expect(document.outsideStatic == stored.outsideStatic)

        // Run again: the journal resumes, the analysis is redone (from the object cache) and
        // stored again without a second copy of any object.
        let objectRows = try scalar(store, "SELECT COUNT(*) FROM static_object")
        let (again, _, againErr) = try syspect(explore)
        #expect(again == 0, "\(againErr)")
        #expect(try scalar(store, "SELECT COUNT(*) FROM static_object") == objectRows)
        #expect(try store.staticAnalysis(exploration: key)?.analysis.syscalls == analysis.syscalls)

        // plan --baseline static: ours for sqlite (from the database), loupedb's for redis.
        let (planStatus, plan, planErr) = try syspect(["plan", "--os", "kerla", "--apps", "sqlite,redis", "--baseline", "static", "--db", db])
        #expect(planStatus == 0, "\(planErr)")
        #expect(plan.contains("Static sets from syspect's own analysis (results database): sqlite \(analysis.syscalls.count) (call graph, \(analysis.objects.count) objects"))
        #expect(plan.contains("Static sets from loupedb's static_binary.csv: redis "))

        // report: our static bar, marked as ours.
        let (reportStatus, html, reportErr) = try syspect(["report", "--db", db, "--apps", "sqlite", "--os", "none", "-o", "-"])
        #expect(reportStatus == 0, "\(reportErr)")
        #expect(html.contains("static binary \(analysis.syscalls.count) (syspect)"))
    }

    /// Reads the first column of a one-row query as an integer.
    func scalar(_ store: SQLiteStore, _ sql: String) throws -> Int64? {
        try store.database.read { db in
            guard let row = try db.query(sql, []).first, case .integer(let v) = row.values[0] else { return nil }
            return v
        }
    }
}
