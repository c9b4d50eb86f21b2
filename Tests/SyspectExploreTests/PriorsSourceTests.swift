import Foundation
import SyspectCore
import SyspectStore
import Testing
@testable import SyspectExplore

/// Issue 12 item 7: a fresh database gets the adaptive fast path from the bundled loupedb
/// measurements, and the exploration records where its priors came from.
@Suite struct PriorsSourceTests {
    static func measurement(_ app: String, _ verdicts: [Int: Verdict]) -> SyspectCore.Measurement {
        SyspectCore.Measurement(app: app, workload: "w", kind: .benchmark, verdicts: verdicts, source: "test")
    }

    static let dataset = PriorsDataset(name: "test data v1", measurements: [
        measurement("a", [1: .either, 2: .stub]), measurement("b", [1: .either]), measurement("me", [1: .required]),
    ])

    @Test func otherApplicationsInTheStoreComeFirst() {
        let (priors, source) = Priors.choose(app: "me", stored: [Self.measurement("me", [1: .required]), Self.measurement("x", [1: .fake])],
                                             fallback: .dataset(Self.dataset))
        #expect(source == PriorsSource(origin: .store, apps: 1))
        #expect(source.description == "store: 1 other app")
        #expect(priors.rate(1, .fake) == 1 && priors.rate(1, .stub) == 0)
    }

    @Test func withoutOtherApplicationsTheFallbackLeavesTheAppOut() {
        // The store holds only the explored app's own rows: the dataset is used, minus "me".
        let (priors, source) = Priors.choose(app: "me", stored: [Self.measurement("me", [1: .either])], fallback: .dataset(Self.dataset))
        #expect(source == PriorsSource(origin: .bundled, apps: 2, dataset: "test data v1"))
        #expect(source.description == "bundled test data v1: 2 other apps")
        #expect(priors.rate(1, .stub) == 1, "me's own required row would have lowered it")
        #expect(priors.rate(2, .stub) == 1)
    }

    @Test func noFallbackMeansNoPriors() {
        let (priors, source) = Priors.choose(app: "me", stored: [], fallback: .none)
        #expect(source.origin == .none)
        #expect(priors == Priors())
        let (_, onlyMe) = Priors.choose(app: "me", stored: [], fallback: .dataset(PriorsDataset(name: "d", measurements: [Self.measurement("me", [1: .either])])))
        #expect(onlyMe.origin == .none)
    }

    @Test func bundledLoupedbIsTheDefaultFallback() throws {
        let (priors, source) = Priors.choose(app: "sqlite", stored: [], fallback: ExploreOptions().priorsFallback)
        #expect(source.origin == .bundled)
        #expect(source.dataset == "loupedb at \(BundledLoupedb.sourceCommit)")
        let apps = Set(BundledLoupedb.dataset.measurements.map(\.app))
        #expect(apps.contains("sqlite"), "the bundled data has sqlite: leave-one-out is tested")
        #expect(source.apps == apps.count - 1)
        #expect(priors.rate(SyscallTable.number(named: "brk")!, .stub) != nil)
    }

    /// The explorer on an empty database: bundled priors group the calls, fewer probes than
    /// with no priors at all, the same verdicts, and the source is stored with the exploration.
    @Test func freshDatabaseExploreUsesBundledPriors() throws {
        // Calls that loupedb finds `either` in most applications.
        let census = ["munmap", "brk", "rt_sigprocmask", "access", "set_tid_address", "set_robust_list", "prlimit64", "getrandom", "rseq"]
            .map { SyscallTable.number(named: $0)! }
        let spec = AppSpec(name: "fresh", workload: "health-test", kind: .health, command: ["fresh"], targets: ["fresh"],
                           replicas: 2, directory: "/", text: "name: fresh # \(UUID())")
        var results: [String: (ran: Int, verdicts: [Int: Verdict], stored: PriorsSource?)] = [:]
        for (name, fallback) in [("bundled", PriorsFallback.bundledLoupedb), ("none", .none)] {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("priors-\(UUID()).db").path
            defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
            let store = try SQLiteStore(path: path)
            var options = ExploreOptions(jobs: 2, strategy: .adaptive, workDirectory: "/var/tmp/syspect-unused")
            options.priorsFallback = fallback
            let runner = ScriptedRunner(census: census) { _ in .pass }
            let result = try Explorer(spec: spec, store: store, options: options, runner: runner).run()
            results[name] = (runner.ran.count, result.measurement.verdicts,
                                      try SQLiteStore(path: path).exploration(key: result.exploration.key)?.priors)
        }
        let bundled = try #require(results["bundled"]), none = try #require(results["none"])
        #expect(bundled.stored?.origin == .bundled)
        #expect(bundled.stored?.apps == Set(BundledLoupedb.dataset.measurements.map(\.app)).count)
        #expect(none.stored == PriorsSource(origin: .none, apps: 0))
        #expect(bundled.verdicts == none.verdicts)
        #expect(bundled.ran < none.ran, "bundled priors ran \(bundled.ran) probes, no priors \(none.ran)")
    }
}
