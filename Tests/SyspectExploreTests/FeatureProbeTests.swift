import Foundation
import SyspectCore
import SyspectStore
@testable import SyspectTrace
import Testing
@testable import SyspectExplore

private let setFD = SubFeature(syscall: 72, argument: "cmd", name: "F_SETFD",
                               match: .arguments([ArgumentCondition(index: 1, value: 2)]))
private let setFL = SubFeature(syscall: 72, argument: "cmd", name: "F_SETFL",
                               match: .arguments([ArgumentCondition(index: 1, value: 4)]))
private let tcgets = SubFeature(syscall: 16, argument: "request", name: "TCGETS",
                                match: .arguments([ArgumentCondition(index: 1, value: 0x5401)]))

/// Canonical keys of the probes below whole calls, and their translation to an interposition.
@Suite struct FeaturePolicyTests {
    @Test(arguments: ["plausible:1", "stub@fcntl:cmd=F_SETFD", "fake@fcntl:cmd=F_SETFL",
                      "absent@/proc/self/status", "stub@/proc/<pid>/stat", "absent@/dev/urandom"])
    func keysRoundTrip(_ key: String) throws {
        let policy = try #require(ProbePolicy(key: key, features: [setFD, setFL]))
        #expect(policy.key == key)
        #expect(!policy.isBaseline)
        #expect(policy.count == 1)
    }

    @Test func wholeCallKeysStillParse() {
        for key in ["baseline", "stub:41", "fake:41", "group:stub:3,5,7", "set:stub=3,5;fake=7"] {
            #expect(ProbePolicy(key: key)?.key == key)
        }
    }

    @Test func badKeysAreRejected() {
        // mmap has no plausible value; a feature not in the census; files have no fake mode.
        for key in ["plausible:9", "plausible:x", "stub@fcntl:cmd=F_SETFD", "fake@/proc/self/status", "absent@proc/x", "stub@"] {
            #expect(ProbePolicy(key: key) == nil, "\(key)")
        }
    }

    @Test func interpositionOfEachTarget() {
        let write = ProbePolicy(target: .plausible(1)).interposition(inKernel: true)
        #expect(write.fakeRules == [1: .argument(2)])
        #expect(write.fake.isEmpty && write.stub.isEmpty)
        let feature = ProbePolicy(target: .feature(setFD, .stub)).interposition(inKernel: false)
        #expect(feature.features == [FeatureInterposition(setFD, .stub)])
        #expect(!feature.inKernel)
        let file = ProbePolicy(target: .file("/proc/self/status", .absent)).interposition(inKernel: true)
        #expect(file.files == ["/proc/self/status": .absent])
        // A final run's fake of write uses the value that made its probe pass.
        let final = ProbePolicy(stub: [3], fake: [1, 2]).interposition(inKernel: true, fakeValues: [1: .argument(2)])
        #expect(final.fake == [2: 0])
        #expect(final.fakeRules == [1: .argument(2)])
        #expect(final.stub == [3])
    }

    /// Sub-feature rules go to the kernel only when allowed, argument matches only.
    @Test func filterRulesForFeatures() {
        var i = Interposition(inKernel: true)
        i.features = [FeatureInterposition(setFD, .stub), FeatureInterposition(setFL, .fake(.constant(7)))]
        i.files = ["/proc/self/status": .stub]
        let rules = ArgumentInterposer.filterRules(i, kernelMayApply: true)
        #expect(rules.first?.action == .errno(38))
        #expect(rules[1].action == .trace(data: 0))  // a non-zero fake needs the tracer
        #expect(rules.contains { $0.number == 257 && $0.conditions.isEmpty })  // openat trapped for paths
        #expect(ArgumentInterposer.filterRules(i, kernelMayApply: false).first?.action == .trace(data: 0))
    }
}

/// A workload where fcntl and write are required whole, F_SETFD can be stubbed, F_SETFL is
/// required, TCGETS either; write passes with its plausible value; /proc/self/status can be
/// absent but not stubbed.
final class FeatureScriptedRunner: ProbeRunning, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var ran: [ProbeRequest] = []
    private(set) var fakeValuesSeen: [[Int: FakeValueRule]] = []
    let fakeValues: [Int: FakeValueRule]

    init(fakeValues: [Int: FakeValueRule] = [:]) {
        self.fakeValues = fakeValues
    }

    func withFakeValues(_ values: [Int: FakeValueRule]) -> any ProbeRunning {
        lock.withLock { fakeValuesSeen.append(values) }
        return ScriptedWithValues(parent: self, values: values)
    }

    func outcome(_ p: ProbePolicy, values: [Int: FakeValueRule]) -> ProbeOutcome {
        switch p.target {
        case .plausible(let n): return n == 1 ? .pass : .fail
        case .feature(let f, let mode): return f == setFD && mode == .stub || f == tcgets ? .pass : .fail
        case .file(_, let mode): return mode == .absent ? .pass : .fail
        case nil:
            if p.stub.contains(72) || p.fake.contains(72) || p.stub.contains(1) { return .fail }
            if p.fake.contains(1) && values[1] == nil { return .fail }
            return .pass
        }
    }

    func run(_ request: ProbeRequest, census: Bool, values: [Int: FakeValueRule]) -> ProbeRun {
        lock.withLock { ran.append(request) }
        let outcome = outcome(request.policy, values: values)
        var run = ProbeRun(outcome: outcome, reason: "scripted", exitStatus: outcome == .pass ? 0 : 1, durationSeconds: 0.01,
                           census: census ? [1, 16, 72].map { CensusEntry(arch: .x86_64, number: $0, name: "c\($0)", calls: 2, failures: 0, errnos: [:]) } : [],
                           directory: "/nonexistent")
        if census {
            run.features = [FeatureUse(feature: setFD, calls: 3), FeatureUse(feature: setFL, calls: 5), FeatureUse(feature: tcgets, calls: 1)]
            run.pseudoFiles = [PseudoFileUse(path: "/proc/self/status", calls: ["openat": 1])]
        }
        return run
    }

    func run(_ request: ProbeRequest, census: Bool) -> ProbeRun { run(request, census: census, values: fakeValues) }
}

struct ScriptedWithValues: ProbeRunning {
    let parent: FeatureScriptedRunner
    let values: [Int: FakeValueRule]
    func run(_ request: ProbeRequest, census: Bool) -> ProbeRun { parent.run(request, census: census, values: values) }
}

/// The explorer's phase below whole calls, with a scripted workload.
@Suite struct FeatureExplorerTests {
    func explore(_ options: (inout ExploreOptions) -> Void, _ body: (ExploreResult, SQLiteStore, FeatureScriptedRunner) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("features-\(UUID()).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let store = try SQLiteStore(path: path)
        let spec = AppSpec(name: "app", workload: "health-test", kind: .health, command: ["app"], targets: ["app"],
                           replicas: 2, directory: "/", text: "name: app # \(UUID())")
        var o = ExploreOptions(jobs: 2, strategy: .oneByOne, workDirectory: "/var/tmp/syspect-unused")
        options(&o)
        let runner = FeatureScriptedRunner()
        let result = try Explorer(spec: spec, store: store, options: o, runner: runner).run()
        try body(result, store, runner)
    }

    @Test func featuresFilesAndPlausibleValues() throws {
        try explore({ $0.features = .required; $0.files = true; $0.fakeValues = .both }) { result, store, runner in
            // write: stub fails, fake 0 fails, its plausible value passes → fake.
            #expect(result.measurement.verdicts == [1: .fake, 16: .either, 72: .required])
            #expect(result.report.finalPassed)
            let findings = try store.findings(exploration: result.exploration.key)
            let verdicts = Dictionary(uniqueKeysWithValues: findings.features.map { ($0.use.feature.key, $0.verdict) })
            // Only the required call's sub-features are probed; ioctl could be stubbed whole.
            #expect(verdicts == ["fcntl:cmd=F_SETFD": .stub, "fcntl:cmd=F_SETFL": .required, "ioctl:request=TCGETS": nil])
            #expect(findings.files == [FileFinding(use: PseudoFileUse(path: "/proc/self/status", calls: ["openat": 1]),
                                                   absentPasses: true, stubPasses: false)])
            #expect(findings.fakeValues == [1: .argument(2)])
            #expect(runner.fakeValuesSeen == [[1: .argument(2)]])
            // `show` replays the same final run from the journal alone.
            let stored = try #require(try store.exploration(key: result.exploration.key))
            let summary = ExplorationSummary(stored, probes: try store.probes(exploration: stored.key))
            #expect(summary.report == result.report)
            // baseline 2 + 3 calls × 2 modes × 2 + plausible 2 + 2 features × 2 modes × 2 + 1 file × 2 modes × 2 + final 2
            #expect(runner.ran.count == 2 + 12 + 2 + 8 + 4 + 2)
        }
    }

    @Test func allScopeProbesEveryTracedSubFeature() throws {
        try explore({ $0.features = .all }) { result, store, runner in
            let findings = try store.findings(exploration: result.exploration.key)
            #expect(findings.features.allSatisfy { $0.verdict != nil })
            #expect(findings.features.first { $0.use.feature == tcgets }?.verdict == .either)
            #expect(findings.files.allSatisfy { $0.absentPasses == nil })  // --files not given
            #expect(result.measurement.verdicts[1] == .required)  // --fake-values zero
        }
    }

    @Test func censusIsStoredWithoutProbes() throws {
        try explore({ _ in }) { result, store, runner in
            let findings = try store.findings(exploration: result.exploration.key)
            #expect(findings.features.count == 3)
            #expect(findings.features.allSatisfy { $0.verdict == nil })
            #expect(findings.files.count == 1)
            // baseline 2 + 3 calls × 2 modes × 2; the final set is ioctl stubbed alone, already probed.
            #expect(runner.ran.count == 2 + 12)
        }
    }
}

/// docs/explore.md holds the fake-value table rendered from `FakeValues.entries` (data, not a
/// hand-kept copy): this fails, printing the table to paste, when they drift apart.
@Suite struct FakeValueDocTests {
    static func table() -> String {
        var out = "| syscall | plausible fake value | why |\n|---|---|---|\n"
        for e in FakeValues.entries {
            out += "| \(e.name) | \(e.rule.map { "`\($0.text)`" } ?? "0 (none better)") | \(e.why) |\n"
        }
        return out
    }

    @Test func docsHoldTheTable() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/explore.md").path
        let text = try String(contentsOfFile: docs, encoding: .utf8)
        #expect(text.contains(Self.table()), "docs/explore.md lacks the current table:\n\(Self.table())")
    }
}
