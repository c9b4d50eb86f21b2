import Foundation
import SyspectCore
import SyspectStore
import Testing
@testable import SyspectExplore

/// A scripted runner that also records the timeouts the explorer gives it (the adaptive
/// strategy's baseline-derived timeouts) and reports fixed baseline timings.
final class TimingRunner: ProbeRunning, @unchecked Sendable {
    let scripted: ScriptedRunner
    let duration: Double
    let ready: Double
    private let lock = NSLock()
    private var _timeouts: [(ready: Double, run: Double)] = []
    var timeouts: [(ready: Double, run: Double)] { lock.withLock { _timeouts } }

    init(duration: Double, ready: Double, census: [Int] = [0, 1, 2, 3],
         rule: @escaping @Sendable (ProbeRequest) -> ProbeOutcome) {
        scripted = ScriptedRunner(census: census, rule: rule)
        self.duration = duration
        self.ready = ready
    }

    func run(_ request: ProbeRequest, census: Bool) -> ProbeRun {
        var run = scripted.run(request, census: census)
        run.durationSeconds = duration
        run.readySeconds = ready
        return run
    }

    func withTimeouts(ready: Double, run: Double) -> any ProbeRunning {
        lock.withLock { _timeouts.append((ready, run)) }
        return self
    }
}

@Suite struct SpeedTests {
    let spec = AppSpec(name: "app", workload: "benchmark-test", kind: .benchmark, command: ["app"], targets: ["app"],
                       readyTimeout: 10, runTimeout: 60, replicas: 2, directory: "/", text: "name: app # \(UUID())")

    func withStore<T>(_ body: (SQLiteStore) throws -> T) throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("speed-\(UUID()).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        return try body(try SQLiteStore(path: path))
    }

    func explorer(_ store: SQLiteStore, _ runner: any ProbeRunning, _ strategy: StrategyName, jobs: Int = 1,
                  priorsFallback: PriorsFallback = .bundledLoupedb) throws -> Explorer {
        var options = ExploreOptions(jobs: jobs, strategy: strategy, workDirectory: "/var/tmp/syspect-unused")
        options.priorsFallback = priorsFallback
        return try Explorer(spec: spec, store: store, options: options, runner: runner)
    }

    /// Issue 7, known gap: a resumed session skips the journaled baseline but must still run
    /// its probes under the baseline-derived timeouts.
    @Test func resumedAdaptiveExploreKeepsTheBaselineTimeouts() throws {
        try withStore { store in
            // Session 1: baseline (2 replicas, 1.5 s each, port ready after 0.3 s), then 3 probes,
            // then every launch fails: the explore stops.
            let counter = Counter()
            let first = TimingRunner(duration: 1.5, ready: 0.3) { _ in counter.next() <= 5 ? .pass : .error }
            #expect(throws: ExploreError.self) { try explorer(store, first, .adaptive).run() }
            #expect(first.timeouts.count == 1)
            #expect(first.timeouts.first?.ready == 3)   // 10 × 0.3 s
            #expect(first.timeouts.first?.run == 15)    // 10 × 1.5 s

            // Session 2: the baseline is journaled and not run again, yet the timeouts apply.
            let second = TimingRunner(duration: 99, ready: 99) { _ in .pass }
            _ = try explorer(store, second, .adaptive).run()
            #expect(!second.scripted.ran.contains { $0.policy.isBaseline })
            #expect(second.timeouts.count == 1)
            // The journal keeps durations only: the whole 1.5 s run bounds the start-up.
            #expect(second.timeouts.first?.ready == 10)  // min(spec 10, 10 × 1.5)
            #expect(second.timeouts.first?.run == 15)
        }
    }

    @Test func oneByOneKeepsTheSpecTimeouts() throws {
        try withStore { store in
            let runner = TimingRunner(duration: 1.5, ready: 0.3) { _ in .pass }
            _ = try explorer(store, runner, .oneByOne).run()
            #expect(runner.timeouts.isEmpty)
        }
    }

    /// After the baseline the real runner keeps the shorter timeouts and stops the application
    /// at once (no SIGTERM grace: the outcome is decided when the script ends).
    @Test func shorterRunsAfterTheBaseline() throws {
        let runner = ProbeRunner(spec: spec, workDirectory: "/var/tmp/syspect-unused")
        #expect(runner.stopGrace == 2)
        let shorter = try #require(runner.withTimeouts(ready: 3, run: 15) as? ProbeRunner)
        #expect(shorter.spec.readyTimeout == 3)
        #expect(shorter.spec.runTimeout == 15)
        #expect(shorter.stopGrace == 0)
    }

    /// Leave-one-out: the explored application's own measurements (e.g. its loupedb row) are
    /// never its priors; other applications' are. (Without the bundled loupedb fallback, which
    /// a store holding no other application would use: PriorsSourceTests.)
    @Test func priorsLeaveTheExploredApplicationOut() throws {
        let census = Array(0..<8)
        let everything = Dictionary(uniqueKeysWithValues: census.map { ($0, Verdict.either) })
        // Own measurement ignored: every call alone (baseline 2 + 8 calls × 2 modes × 2 replicas
        // + final 2). Another application's: one group per mode (2 + 2 × 2; the final run, every
        // call stubbed, is the stub group's policy, already journaled).
        for (app, probes) in [("app", 36), ("other", 6)] {
            try withStore { store in
                try store.save(SyspectCore.Measurement(app: app, workload: "w", kind: .benchmark,
                                                       verdicts: everything, source: "loupedb"))
                let runner = ScriptedRunner(census: census) { _ in .pass }
                _ = try explorer(store, runner, .adaptive, jobs: 2, priorsFallback: .none).run()
                #expect(runner.ran.count == probes, "priors from \(app): \(runner.ran.map(\.policy.key))")
            }
        }
    }
}
