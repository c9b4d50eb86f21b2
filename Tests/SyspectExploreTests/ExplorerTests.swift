import Foundation
import SyspectCore
import SyspectStore
import Testing
@testable import SyspectExplore

/// A runner whose outcomes come from a rule instead of a real workload: it tests the explorer's
/// bookkeeping (journal, resume, merge, culprit search), not applications.
final class ScriptedRunner: ProbeRunning, @unchecked Sendable {
    let rule: @Sendable (ProbeRequest) -> ProbeOutcome
    let census: [CensusEntry]
    var targetsNeverRun: [String] = []
    private let lock = NSLock()
    private(set) var ran: [ProbeRequest] = []

    init(census: [Int] = [0, 1, 2, 3], rule: @escaping @Sendable (ProbeRequest) -> ProbeOutcome) {
        self.census = census.map { CensusEntry(arch: .x86_64, number: $0, name: "c\($0)", calls: 1, failures: 0, errnos: [:]) }
        self.rule = rule
    }

    func run(_ request: ProbeRequest, census: Bool) -> ProbeRun {
        lock.withLock { ran.append(request) }
        let outcome = rule(request)
        return ProbeRun(outcome: outcome, reason: outcome == .pass ? "ok" : "scripted \(outcome.rawValue)",
                        exitStatus: outcome == .pass ? 0 : 1, durationSeconds: 0.01, metric: 1,
                        census: census ? self.census : [], targetsNeverRun: targetsNeverRun,
                        directory: "/nonexistent", outputTail: "script output here")
    }
}

@Suite struct ExplorerTests {
    let spec = AppSpec(name: "app", workload: "health-test", kind: .health, command: ["app"], targets: ["app"],
                       replicas: 2, directory: "/", text: "name: app # \(UUID())")

    @discardableResult
    func withStore<T>(_ body: (SQLiteStore) throws -> T) throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("explore-\(UUID()).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        return try body(try SQLiteStore(path: path))
    }

    func explorer(_ store: SQLiteStore, _ runner: ScriptedRunner, jobs: Int = 2) throws -> Explorer {
        try Explorer(spec: spec, store: store, options: ExploreOptions(jobs: jobs, workDirectory: "/var/tmp/syspect-unused"),
                     runner: runner)
    }

    /// stub fails for 1 and 3, fake fails for 2 and 3.
    static let rule: @Sendable (ProbeRequest) -> ProbeOutcome = { request in
        let p = request.policy
        if p.stub.contains(1) || p.stub.contains(3) || p.fake.contains(2) || p.fake.contains(3) { return .fail }
        return .pass
    }

    @Test func verdictsFromAFullExplore() throws {
        try withStore { store in
            let runner = ScriptedRunner(rule: Self.rule)
            let result = try explorer(store, runner).run()
            #expect(result.measurement.verdicts == [0: .either, 1: .fake, 2: .stub, 3: .required])
            #expect(result.report.finalPassed)
            // baseline 2 + 4 calls × 2 modes × 2 replicas + final 2
            #expect(runner.ran.count == 2 + 16 + 2)
            let stored = try #require(try store.exploration(key: result.exploration.key))
            #expect(stored.probeCount == 20)
            #expect(stored.wallSeconds > 0)
            #expect(stored.finishedAt != nil)
            #expect(stored.census.count == 4)
            #expect(try store.probes(exploration: stored.key).count == 20)
            let saved = try store.measurements(apps: ["app"], kind: nil)
            #expect(saved.first?.verdicts == result.measurement.verdicts)
            let summary = ExplorationSummary(stored, probes: try store.probes(exploration: stored.key))
            #expect(summary.report == result.report)
            #expect(summary.replicas == 2)
        }
    }

    @Test func resumeSkipsFinishedProbes() throws {
        try withStore { store in
            // First session: launches start failing after 9 probes; the explore stops.
            let counter = Counter()
            let broken = ScriptedRunner { request in counter.next() <= 9 ? Self.rule(request) : .error }
            #expect(throws: ExploreError.self) { try explorer(store, broken, jobs: 1).run() }
            let key = Explorer.key(for: spec)
            let firstJournal = Journal(try store.probes(exploration: key))
            #expect(firstJournal.count == 9)

            // Second session: only what is missing runs.
            let runner = ScriptedRunner(rule: Self.rule)
            let result = try explorer(store, runner).run()
            let rerun = runner.ran.filter { firstJournal.isFinished($0) }
            #expect(rerun.isEmpty, "finished probes ran again: \(rerun)")
            #expect(runner.ran.count == 20 - 9)
            #expect(result.measurement.verdicts == [0: .either, 1: .fake, 2: .stub, 3: .required])
            #expect(result.exploration.probeCount == 9 + 3 + 11, "errors are journaled too")

            // Third session: nothing left to run.
            let idle = ScriptedRunner(rule: Self.rule)
            _ = try explorer(store, idle).run()
            #expect(idle.ran.isEmpty)
        }
    }

    @Test func failingBaselineStopsWithTheOutput() throws {
        try withStore { store in
            let runner = ScriptedRunner { _ in .fail }
            do {
                _ = try explorer(store, runner).run()
                Issue.record("a failing baseline did not stop the explore")
            } catch let error as ExploreError {
                guard case .baselineFailed = error else { Issue.record("wrong error \(error)"); return }
                #expect(error.description.contains("script output here"))
            }
            let onlyBaseline = runner.ran.allSatisfy { $0.policy.isBaseline }
            #expect(onlyBaseline)
            // Journaled, but as `error`: the next explore runs the baseline afresh.
            let probes = try store.probes(exploration: Explorer.key(for: spec))
            #expect(probes.count == 2)
            #expect(probes.allSatisfy { $0.outcome == .error && $0.reason.hasPrefix("baseline not usable") })
        }
    }

    @Test func flakyBaselineIsDetected() throws {
        try withStore { store in
            let runner = ScriptedRunner { $0.replica == 2 ? .fail : .pass }
            do {
                _ = try explorer(store, runner).run()
                Issue.record("a flaky baseline did not stop the explore")
            } catch let error as ExploreError {
                guard case .baselineFlaky(let passed, let replicas, _, _, _) = error else { Issue.record("wrong error \(error)"); return }
                #expect(passed == 1 && replicas == 2)
                #expect(error.description.contains("flaky"))
            }
        }
    }

    @Test func targetThatNeverRunsIsAnError() throws {
        try withStore { store in
            let runner = ScriptedRunner { _ in .pass }
            runner.targetsNeverRun = ["app-server"]
            #expect(throws: ExploreError.self) { try explorer(store, runner).run() }
            #expect(runner.ran.count == 2)
        }
    }

    @Test func failingFinalRunFindsTheConflict() throws {
        try withStore { store in
            // Each call can be stubbed alone, but stubbing 1 and 2 together fails.
            let runner = ScriptedRunner { request in
                request.policy.stub.isSuperset(of: [1, 2]) ? .fail : .pass
            }
            let result = try explorer(store, runner).run()
            #expect(!result.report.finalPassed)
            #expect(result.report.conflicts == [[Assignment(1, .stub), Assignment(2, .stub)]])
            // 1 passes faked too (either): faking it instead resolves the conflict, nothing is lost.
            #expect(result.report.resolutions.first?.switched == [Assignment(1, .fake)])
            #expect(result.report.passingSet == [Assignment(0, .stub), Assignment(1, .fake), Assignment(2, .stub), Assignment(3, .stub)])
            #expect(result.report.dropped.isEmpty)
            #expect(result.probeVerdicts[1] == .either)
            #expect(result.measurement.verdicts[1] == .fake, "the switched call keeps the mode that passed together")
            #expect(result.measurement.verdicts[2] == .either)
            let summary = ExplorationSummary(result.exploration, probes: try store.probes(exploration: result.exploration.key))
            #expect(summary.report == result.report)
        }
    }

    @Test func conflictNoModeResolvesCountsACallAsRequired() throws {
        try withStore { store in
            // 1 and 2 each pass stubbed or faked alone, never both interposed in any modes.
            let runner = ScriptedRunner { request in
                let p = request.policy
                return p.stub.union(p.fake).isSuperset(of: [1, 2]) ? .fail : .pass
            }
            let result = try explorer(store, runner).run()
            let resolution = try #require(result.report.resolutions.first)
            #expect(resolution.failedSwitches.count == 3, "fake 1, fake 2, fake both: \(resolution.failedSwitches)")
            #expect(resolution.dropped == Assignment(2, .stub))
            #expect(result.report.passingSet == [Assignment(0, .stub), Assignment(1, .stub), Assignment(3, .stub)])
            #expect(result.measurement.verdicts[2] == .required, "the dropped call is counted as required")
            #expect(result.measurement.verdicts[1] == .either)
            // Resumed with nothing left: the same report from the journal, no probe run.
            let idle = ScriptedRunner { _ in .error }
            #expect(try explorer(store, idle).run().report == result.report)
            #expect(idle.ran.isEmpty)
        }
    }

    @Test func workDirectoryUnderTmpIsRefused() throws {
        try withStore { store in
            #expect(throws: ExploreError.self) {
                try Explorer(spec: spec, store: store, options: ExploreOptions(workDirectory: "/tmp/x"))
            }
        }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}
