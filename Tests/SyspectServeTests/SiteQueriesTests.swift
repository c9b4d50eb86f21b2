import Foundation
import SyspectCore
import SyspectPlan
import SyspectStore
@testable import SyspectServe
import Testing

/// The site's queries over plain values (no socket, no store): the bundled loupedb data plus
/// hand-made measurements and explorations.
@Suite struct SiteQueriesTests {
    static let bundledOnly = SiteData(stored: [], explorations: [], bundled: BundledLoupedb.dataset)

    /// A measurement syspect made of redis's benchmark, with an exploration journal behind it.
    static let ownRedis = SyspectCore.Measurement(
        app: "redis", workload: "benchmark-redis-benchmark", kind: .benchmark,
        verdicts: [0: .required, 1: .required, 3: .either, 39: .stub, 435: .fake], staticBinary: [0, 1, 3, 39], source: "syspect")
    static let ownRecord = ExplorationRecord(
        key: "redis/benchmark-redis-benchmark/abc", app: "redis", workload: "benchmark-redis-benchmark", kind: .benchmark,
        specHash: "abc", specText: "name: redis", strategy: "one-by-one", startedAt: Date(timeIntervalSince1970: 1000),
        finishedAt: Date(timeIntervalSince1970: 2000),
        census: [CensusEntry(arch: .x86_64, number: 0, name: "read", calls: 5, failures: 0, errnos: [:]),
                 CensusEntry(arch: .x86_64, number: 72, name: "fcntl", calls: 1, failures: 0, errnos: [:])],
        probeCount: 4, wallSeconds: 10)

    static func probe(_ policy: String, _ outcome: ProbeOutcome, replica: Int = 1) -> ProbeRecord {
        ProbeRecord(exploration: ownRecord.key, policy: policy, replica: replica, outcome: outcome, reason: outcome == .pass ? "passed" : "script exited 1",
                    exitStatus: outcome == .pass ? 0 : 1, durationSeconds: 1.5, metric: nil, startedAt: Date(timeIntervalSince1970: 1500))
    }

    @Test func theBundledCatalogueHoldsEveryLoupedbApplication() {
        let catalogue = SiteQueries.catalogue(Self.bundledOnly, CatalogueQuery())
        #expect(catalogue.apps == 116)
        #expect(catalogue.entries.count == BundledLoupedb.dataset.measurements.count)
        #expect(catalogue.entries.allSatisfy { $0.source == .loupedb && !$0.explored && $0.probes == nil })
        let redis = catalogue.entries.first { $0.app == "redis" && $0.kind == .benchmark }!
        let m = BundledLoupedb.dataset.measurements.first { $0.app == "redis" && $0.workload == redis.workload }!
        #expect(redis.counts.traced == m.verdicts.count)
        #expect(redis.counts.required + redis.counts.stub + redis.counts.fake + redis.counts.either == redis.counts.traced)
        #expect(redis.href == "/apps/redis/\(redis.workload)")
    }

    @Test func theCatalogueFiltersByTextKindAndSource() {
        let data = SiteData(stored: [Self.ownRedis], explorations: [Self.ownRecord], bundled: BundledLoupedb.dataset)
        let redis = SiteQueries.catalogue(data, CatalogueQuery(text: "REDIS"))
        #expect(redis.entries.allSatisfy { $0.app.contains("redis") || $0.workload.contains("redis") })
        #expect(redis.entries.filter { $0.app == "redis" }.count == data.measurements.filter { $0.app == "redis" }.count)
        #expect(redis.entries.contains { $0.source == .syspect && $0.explored && $0.probes == 4 })
        let suites = SiteQueries.catalogue(data, CatalogueQuery(kind: .suite))
        #expect(!suites.entries.isEmpty && suites.entries.allSatisfy { $0.kind == .suite })
        let ours = SiteQueries.catalogue(data, CatalogueQuery(source: .syspect))
        #expect(ours.entries.map(\.sourceDetail) == ["syspect"])
        #expect(ours.total == BundledLoupedb.dataset.measurements.count + 1)
    }

    @Test func theStoreHidesTheBundledCopyOfAnImportedRun() {
        let imported = BundledLoupedb.dataset.measurements.first { $0.app == "nginx" }!
        var changed = imported
        changed.verdicts = [0: .required]
        let data = SiteData(stored: [changed], explorations: [], bundled: BundledLoupedb.dataset)
        let nginx = data.measurements.filter { $0.id == imported.id && $0.source == imported.source }
        #expect(nginx == [changed])
    }

    @Test func plansAndComparisonsPreferTheMeasurementMadeHere() {
        let data = SiteData(stored: [Self.ownRedis], explorations: [Self.ownRecord], bundled: BundledLoupedb.dataset)
        let chosen = data.planMeasurements.filter { $0.id == Self.ownRedis.id }
        #expect(chosen == [Self.ownRedis])
    }

    @Test func aWorkloadDetailCarriesProbeEvidenceGridStaticBoundAndDownloads() {
        let extras = ExplorationExtras(
            record: Self.ownRecord,
            probes: [Self.probe("baseline", .pass), Self.probe("stub:39", .pass), Self.probe("fake:39", .fail),
                     Self.probe("group:stub:3,39", .pass), Self.probe("stub:0", .fail)])
        let d = SiteQueries.workloadDetail(Self.ownRedis, extras: extras)
        #expect(d.counts == VerdictCounts(Self.ownRedis.verdicts))
        let getpid = d.calls.first { $0.number == 39 }!
        #expect(getpid.verdict == .stub)
        #expect(getpid.evidence.map(\.policy) == ["fake:39", "group:stub:3,39", "stub:39"])
        #expect(d.calls.first { $0.number == 3 }!.evidence.map(\.policy) == ["group:stub:3,39"])
        #expect(d.calls.first { $0.number == 1 }!.evidence.isEmpty)
        #expect(d.grid.count == SyscallTable.x86_64Numbers.count)
        #expect(d.grid.first { $0.number == 72 }!.status == "traced")
        #expect(d.grid.first { $0.number == 435 }!.status == "fake")
        #expect(d.grid.first { $0.number == 60 }!.status == "untraced")
        #expect(d.grid.filter(\.staticOnly).isEmpty, "every static call of this run is traced")
        var withSources = Self.ownRedis
        withSources.staticSources = [60, 0]
        let boxes = SiteQueries.workloadDetail(withSources, extras: extras).grid
        #expect(boxes.filter(\.staticOnly).map(\.number) == [60], "untraced and listed by static analysis: the report's darker box")
        #expect(d.staticBound == StaticBound(count: 4, source: "syspect", tracedOutside: [435]))
        #expect(d.exploration?.probes == 5 && d.exploration?.passed == 3 && d.exploration?.failed == 2)
        #expect(d.downloads.map(\.format) == ["json", "csv", "seccomp", "loupedb"])
        #expect(d.downloads[0].href == "/api/v1/apps/redis/benchmark-redis-benchmark/export?format=json")
    }

    @Test func anUnknownAppOrWorkloadIsA404NamingCloseNames() {
        #expect(throws: SiteError.self) { try SiteQueries.measurements(Self.bundledOnly, app: "rediss", workload: nil) }
        do {
            _ = try SiteQueries.measurements(Self.bundledOnly, app: "rediss", workload: nil)
        } catch {
            #expect(error.status == .notFound)
            #expect(error.message.contains("closest: redis"))
        }
        do {
            _ = try SiteQueries.measurements(Self.bundledOnly, app: "redis", workload: "nope")
            Issue.record("no error")
        } catch {
            #expect(error.status == .notFound && error.message.contains("its workloads:"))
        }
    }

    @Test func comparingCombinesEachAppsWorkloads() throws {
        let c = try SiteQueries.compare(Self.bundledOnly, apps: ["redis", "nginx", "redis"], workload: .all)
        #expect(c.apps == ["redis", "nginx"])
        let targets = PlanTarget.targets(from: BundledLoupedb.dataset.measurements.filter { ["redis", "nginx"].contains($0.app) }, workload: .all)
        #expect(Set(c.rows.map(\.number)) == Set(targets.flatMap { $0.verdicts.keys }))
        for t in targets {
            #expect(c.counts[t.app] == VerdictCounts(t.verdicts))
            for row in c.rows { #expect(row.verdicts[t.app] == t.verdicts[row.number]) }
        }
        #expect(throws: SiteError.self) { try SiteQueries.compare(Self.bundledOnly, apps: ["redis"], workload: .all) }
    }

    @Test func aPlanOfEveryAppMatchesThePlanner() throws {
        let view = try SiteQueries.plan(Self.bundledOnly, PlanRequest(os: "kerla", curves: true))
        let targets = try Planner.targets(from: BundledLoupedb.dataset.measurements, workload: .all)
        let expected = try Planner.plan(targets: targets, os: BundledLoupedb.dataset.osSupport["Kerla"]!, workload: .all)
        #expect(view.os == "Kerla")
        #expect(view.apps.count == 116)
        #expect(view.steps == expected.steps)
        #expect(view.curves?.curves.count ?? 0 >= 4)
        #expect(view.skeleton.cSource.contains("ENOSYS"))
        #expect(view.stubsHref == "/api/v1/plan/stubs?os=kerla&workload=all")
        let costed = PlanRequest(os: "Kerla", apps: ["redis", "nginx"], costs: "read 2\nwrite 3")
        #expect(SiteQueries.queryString(costed) == "os=Kerla&apps=redis%2Cnginx&workload=all&costs=read%202%0Awrite%203")
        #expect(try APIRoutes.planRequest(RequestInput.form(SiteQueries.queryString(costed))) == PlanRequest(
            os: "Kerla", osName: nil, apps: ["redis", "nginx"], costs: "read 2\nwrite 3"), "the link gives the same plan back")
        #expect(SiteQueries.escape("a b/é~") == "a%20b%2F%C3%A9~")
    }

    @Test func anUploadedSupportListPlansAndABadOneIsRefused() throws {
        let view = try SiteQueries.plan(Self.bundledOnly, PlanRequest(osList: "read\nwrite\n# comment\n60\n", osName: "tiny", apps: ["redis", "nginx"], curves: false))
        #expect(view.os == "tiny" && view.osSyscallCount == 3 && view.apps == ["nginx", "redis"] && view.curves == nil)
        do {
            _ = try SiteQueries.plan(Self.bundledOnly, PlanRequest(osList: "read\nnot_a_syscall\n"))
            Issue.record("no error")
        } catch {
            #expect(error.status == .badRequest && error.message.contains("not_a_syscall"))
        }
        do {
            _ = try SiteQueries.plan(Self.bundledOnly, PlanRequest(os: "Kerlaa"))
            Issue.record("no error")
        } catch {
            #expect(error.status == .notFound && error.message.contains("closest: Kerla"))
        }
        do {
            _ = try SiteQueries.plan(Self.bundledOnly, PlanRequest(os: "Kerla", apps: ["nosuchapp"]))
            Issue.record("no error")
        } catch {
            #expect(error.status == .notFound && error.message.contains("nosuchapp"))
        }
        do {
            _ = try SiteQueries.plan(Self.bundledOnly, PlanRequest(os: "Kerla", costs: "read lots\n"))
            Issue.record("no error")
        } catch {
            #expect(error.status == .badRequest)
        }
    }

    @Test func theLoupedbTarUnpacksWithTar() throws {
        let m = BundledLoupedb.dataset.measurements.first { $0.app == "redis" }!
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("syspect-serve-tar-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try SiteExports.loupedbTar(m).write(to: folder.appendingPathComponent("x.tar"))
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        tar.arguments = ["-xf", "x.tar"]
        tar.currentDirectoryURL = folder
        try tar.run()
        tar.waitUntilExit()
        #expect(tar.terminationStatus == 0)
        let dyn = try String(contentsOf: folder.appendingPathComponent("\(LoupedbWriter.folder(of: m))/data/dyn.csv"), encoding: .utf8)
        #expect(dyn == LoupedbWriter.dynCSV(m))
        let readme = try String(contentsOf: folder.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("CC BY 4.0"))
    }

    @Test func longTarPathsUseTheUstarPrefix() {
        let path = String(repeating: "a", count: 80) + "/" + String(repeating: "b", count: 90) + "/dyn.csv"
        let header = Tar.header(path: path, size: 3)
        #expect(String(decoding: header[0..<100].prefix { $0 != 0 }, as: UTF8.self) == String(repeating: "b", count: 90) + "/dyn.csv")
        #expect(String(decoding: header[345..<500].prefix { $0 != 0 }, as: UTF8.self) == String(repeating: "a", count: 80))
    }
}
