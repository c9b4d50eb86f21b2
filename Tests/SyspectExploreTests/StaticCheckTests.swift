import Foundation
import SyspectCore
import SyspectStore
import Testing
@testable import SyspectExplore

/// An analyser that returns a given analysis (or fails), recording what it was asked.
final class GivenAnalyzer: StaticAnalyzing, @unchecked Sendable {
    let result: Result<StaticAnalysis, CLIError>
    private let lock = NSLock()
    private(set) var asked: [[String]] = []

    init(_ result: Result<StaticAnalysis, CLIError>) { self.result = result }

    func analyze(binaries: [String]) throws -> StaticAnalysis {
        lock.withLock { asked.append(binaries) }
        return try result.get()
    }

    /// An analysis whose one object lists exactly these x86-64 (and i386) numbers.
    static func analysis(_ numbers: [Int], i386: [Int] = [], x32: [Int] = [], binary: String = "/usr/bin/app") -> StaticAnalysis {
        func sites(_ ns: [Int], _ kind: StaticSiteKind) -> [Int: [StaticSite]] {
            Dictionary(uniqueKeysWithValues: ns.map { ($0, [StaticSite(address: UInt64(0x1000 + $0), function: "f", kind: kind, number: $0)]) })
        }
        return StaticAnalysis(targets: [binary], mode: .callGraph,
                              objects: [StaticObject(path: binary, buildID: "00ff", sites: sites(numbers, .syscall), i386Sites: sites(i386, .int80),
                                                     x32Sites: sites(x32, .syscall))])
    }
}

/// Issue 13, Must 4: a call the census sees outside the static set is reported, never ignored.
@Suite struct StaticCheckTests {
    static func entry(_ arch: Arch, _ number: Int, _ name: String) -> CensusEntry {
        CensusEntry(arch: arch, number: number, name: name, calls: 3, failures: 0, errnos: [:])
    }

    @Test("outside: x86-64 calls against the x86-64 set, i386 against the i386 set, x32 against the x32 set")
    func outsidePerArch() {
        let census = [Self.entry(.x86_64, 0, "read"), Self.entry(.x86_64, 302, "prlimit64"), Self.entry(.i386, 20, "getpid"),
                      Self.entry(.i386, 1, "exit"), Self.entry(.x32, 0, "read")]
        // 20 is in the x86-64 set (writev) but the census's 20 is i386 getpid: still outside.
        let analysis = GivenAnalyzer.analysis([0, 20], i386: [1], x32: [0])
        let outside = StaticCheck.outside(census: census, analysis: analysis)
        #expect(outside == [Self.entry(.i386, 20, "getpid"), Self.entry(.x86_64, 302, "prlimit64")])
        #expect(StaticCheck.outside(census: census.filter { $0.arch == .x86_64 && $0.number == 0 }, analysis: analysis).isEmpty)
        // An x32 call the analysis saw only as x86-64 is outside.
        #expect(StaticCheck.outside(census: [Self.entry(.x32, 0, "read")], analysis: GivenAnalyzer.analysis([0])).count == 1)
        let warning = StaticCheck.warning(outside, analysis: analysis)
        #expect(warning.contains("2 calls outside the static set") && warning.contains("prlimit64 (302)") && warning.contains("i386 getpid (20)"))
    }

    let spec = AppSpec(name: "app", workload: "health-test", kind: .health, command: ["sh"], targets: ["sh"],
                       replicas: 1, directory: "/", text: "name: app # \(UUID())")

    func explore(_ analyzer: GivenAnalyzer, census: [Int]) throws -> (ExploreResult, ExplorationStatic?, [SyspectCore.Measurement]) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("static-check-\(UUID()).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let store = try SQLiteStore(path: path)
        var options = ExploreOptions(jobs: 2, workDirectory: "/var/tmp/syspect-unused")
        options.staticAnalyzer = analyzer
        let runner = ScriptedRunner(census: census) { _ in .pass }
        let result = try Explorer(spec: spec, store: store, options: options, runner: runner).run()
        return (result, try store.staticAnalysis(exploration: result.exploration.key), try store.measurements(apps: ["app"], kind: nil))
    }

    @Test("explore stores the analysis with the calls the census saw outside it, and the measurement carries the static set")
    func exploreReportsCallsOutside() throws {
        // The census traces 0…3; the analysis misses 2.
        let analysis = GivenAnalyzer.analysis([0, 1, 3, 60, 231])
        let analyzer = GivenAnalyzer(.success(analysis))
        let (result, stored, measurements) = try explore(analyzer, census: [0, 1, 2, 3])
        let expectedOutside = StaticCheck.outside(census: result.exploration.census, analysis: analysis)
        #expect(expectedOutside.map(\.number) == [2])
        let record = try #require(result.staticOutcome?.record)
        #expect(record.outsideStatic == expectedOutside)
        // Stored as Unix seconds in a double: the time comes back to well under a millisecond.
        var reloaded = try #require(stored)
        #expect(abs(reloaded.analysedAt.timeIntervalSince(record.analysedAt)) < 0.001)
        reloaded.analysedAt = record.analysedAt
        #expect(reloaded == record)
        #expect(measurements.first?.staticBinary == analysis.syscalls)
        // The spec's target was resolved through PATH to a real path.
        #expect(analyzer.asked == [[try StaticCheck.targetPaths(spec)[0]]])
        #expect(analyzer.asked.first?.first?.hasPrefix("/") == true)
    }

    @Test("a sound analysis reports nothing outside")
    func soundAnalysis() throws {
        let (result, stored, _) = try explore(GivenAnalyzer(.success(GivenAnalyzer.analysis([0, 1, 2, 3, 9]))), census: [0, 1, 2, 3])
        #expect(result.staticOutcome?.record?.outsideStatic == [])
        #expect(stored?.outsideStatic == [])
    }

    @Test("an analysis that fails is reported and the explore goes on without a static set")
    func failingAnalysis() throws {
        let (result, stored, measurements) = try explore(GivenAnalyzer(.failure(CLIError("not an ELF file"))), census: [0, 1])
        #expect(result.staticOutcome == .failed("not an ELF file"))
        #expect(stored == nil)
        #expect(measurements.first?.staticBinary == nil)
        #expect(measurements.first?.verdicts.count == 2)
    }

    @Test("a target that is neither a path nor in PATH is named")
    func missingTarget() {
        var spec = self.spec
        spec.targets = ["no-such-program-\(UUID())"]
        #expect(throws: StaticCheckError.targetNotFound(spec.targets[0])) { try StaticCheck.targetPaths(spec) }
    }
}
