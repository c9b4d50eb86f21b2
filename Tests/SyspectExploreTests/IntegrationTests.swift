import Foundation
import SyspectCore
import SyspectStore
import Testing
@testable import SyspectExplore

/// Real probes: redis-server and sqlite3 (installed by scripts/setup) in sandboxes, as root.
/// Serialized: they start servers on fixed ports (in their own namespaces) and count processes.
@Suite(.serialized) struct IntegrationTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    /// Probe folders (not under /tmp: the sandbox replaces /tmp).
    static let work = "/var/tmp/syspect-explore-tests"

    /// The redis fixture with a unique token in the environment, to find its processes in /proc.
    func redisSpec(mode: String? = nil, token: String) throws -> AppSpec {
        var spec = try AppSpec.load(path: "\(Self.fixtures)/redis-ping.yaml")
        spec.environment["SYSPECT_TEST_TOKEN"] = token
        if let mode { spec.environment["SYSPECT_TEST_SCRIPT_MODE"] = mode }
        return spec
    }

    func runner(_ spec: AppSpec) -> ProbeRunner {
        ProbeRunner(spec: spec, workDirectory: "\(Self.work)/\(UUID().uuidString.prefix(8))")
    }

    @Test func baselineProbePassesWithCensusMetricAndLogs() throws {
        let token = UUID().uuidString
        let run = runner(try redisSpec(token: token)).run(ProbeRequest(.baseline, replica: 1), census: true)
        #expect(run.outcome == .pass, "\(run.reason): \(run.outputTail)")
        #expect(run.metric == 42)
        #expect(run.exitStatus == 0)
        let numbers = Set(run.census.filter { $0.arch == .x86_64 }.map(\.number))
        for name in ["socket", "bind", "listen", "epoll_wait"] {
            #expect(numbers.contains(SyscallTable.number(named: name)!), "\(name) not in the census")
        }
        #expect(FileManager.default.fileExists(atPath: "\(run.directory)/app.stdout"))
        #expect(FileManager.default.fileExists(atPath: "\(run.directory)/script.stdout"))
        #expect(survivors(token).isEmpty)
    }

    @Test func twoParallelProbesOnTheSamePortBothPass() throws {
        let token = UUID().uuidString
        let probes = runner(try redisSpec(token: token))
        let results = ResultList()
        let group = DispatchGroup()
        for replica in 1...2 {
            group.enter()
            Thread {
                results.append(probes.run(ProbeRequest(.baseline, replica: replica), census: false))
                group.leave()
            }.start()
        }
        group.wait()
        #expect(results.values.count == 2)
        for run in results.values { #expect(run.outcome == .pass, "\(run.reason): \(run.outputTail)") }
        #expect(survivors(token).isEmpty)
    }

    @Test func scriptChildrenDoNotSurviveTheProbe() throws {
        let token = UUID().uuidString
        let run = runner(try redisSpec(mode: "survivor", token: token)).run(ProbeRequest(.baseline, replica: 1), census: false)
        #expect(run.outcome == .pass, "\(run.reason)")
        #expect(survivors(token).isEmpty, "the script's background sleep outlived the probe")
    }

    @Test func serverDeathFailsTheProbeAtOnce() throws {
        let token = UUID().uuidString
        let run = runner(try redisSpec(mode: "shutdown", token: token)).run(ProbeRequest(.baseline, replica: 1), census: false)
        #expect(run.outcome == .fail)
        #expect(run.reason.contains("before the test script ended"), "\(run.reason)")
        #expect(run.durationSeconds < 5, "took \(run.durationSeconds) s: the script sleeps 30 s after the shutdown")
        #expect(survivors(token).isEmpty)
    }

    @Test func scriptTimeoutKillsEverything() throws {
        let token = UUID().uuidString
        var spec = try redisSpec(mode: "hang", token: token)
        spec.runTimeout = 1.5
        let run = runner(spec).run(ProbeRequest(.baseline, replica: 1), census: false)
        #expect(run.outcome == .fail)
        #expect(run.reason.contains("did not finish within"), "\(run.reason)")
        #expect(run.durationSeconds < 6)
        #expect(survivors(token).isEmpty)
    }

    @Test func failingScriptReportsItsStatusAndOutput() throws {
        let run = runner(try redisSpec(mode: "fail", token: UUID().uuidString)).run(ProbeRequest(.baseline, replica: 1), census: false)
        #expect(run.outcome == .fail)
        #expect(run.exitStatus == 3)
        #expect(run.reason == "the test script exited 3")
        #expect(run.outputTail.contains("failing on purpose"))
    }

    @Test func portThatNeverOpensFailsAfterTheReadyTimeout() throws {
        var spec = try redisSpec(token: UUID().uuidString)
        spec.ready = .port(6390)
        spec.readyTimeout = 1
        let run = runner(spec).run(ProbeRequest(.baseline, replica: 1), census: false)
        #expect(run.outcome == .fail)
        #expect(run.reason.contains("port 6390 never opened within 1 s"), "\(run.reason)")
    }

    @Test func stubbingSocketBreaksRedisAndFakingGetpidDoesNot() throws {
        let probes = runner(try redisSpec(token: UUID().uuidString))
        let socket = SyscallTable.number(named: "socket")!
        let stubbed = probes.run(ProbeRequest(.single(socket, .stub), replica: 1), census: false)
        #expect(stubbed.outcome == .fail)
        #expect(stubbed.durationSeconds < 5, "a server that exits at start-up must fail at once")
        let getpid = SyscallTable.number(named: "getpid")!
        let faked = probes.run(ProbeRequest(.single(getpid, .fake), replica: 1), census: false)
        #expect(faked.outcome == .pass, "\(faked.reason)")
    }

    @Test func exploreSqlite3EndToEnd() throws {
        let spec = try AppSpec.load(path: "\(Self.fixtures)/sqlite-small.yaml")
        let result = try withStore { store in
            try Explorer(spec: spec, store: store,
                         options: ExploreOptions(jobs: 2, replicas: 1, workDirectory: Self.work)).run()
        }
        let v = result.measurement.verdicts
        #expect(v.count >= 10)
        #expect(v[SyscallTable.number(named: "openat")!] == .required)
        #expect(v[SyscallTable.number(named: "mmap")!] == .required)
        #expect(v.values.contains { !$0.isRequired }, "some calls of sqlite3 can be stubbed or faked")
        // baseline + stub and fake of every traced call + at least one final run.
        #expect(result.exploration.probeCount >= 1 + 2 * v.count + 1)
        #expect(v[SyscallTable.number(named: "execve")!] == .either, "the launch exec always passes")
        print("sqlite3: \(v.count) traced, \(result.exploration.probeCount) probes, \(result.exploration.wallSeconds) s, counts \(result.measurement.counts)")
    }

    @Test func exploreRedisEndToEnd() throws {
        let token = UUID().uuidString
        let spec = try redisSpec(token: token)
        let result = try withStore { store in
            try Explorer(spec: spec, store: store, options: ExploreOptions(jobs: 2, workDirectory: Self.work)).run()
        }
        let v = result.measurement.verdicts
        for name in ["socket", "bind", "listen", "accept", "epoll_wait"] {
            let number = SyscallTable.number(named: name)!
            if let verdict = v[number] { #expect(verdict == .required, "\(name) is \(verdict)") }
        }
        #expect(v[SyscallTable.number(named: "bind")!] == .required)
        #expect(v.values.contains { !$0.isRequired })
        #expect(survivors(token).isEmpty)
        print("redis: \(v.count) traced, \(result.exploration.probeCount) probes, \(result.exploration.wallSeconds) s, counts \(result.measurement.counts)")
    }

    func withStore<T>(_ body: (SQLiteStore) throws -> T) throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("explore-\(UUID()).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        return try body(try SQLiteStore(path: path))
    }
}

/// Processes whose environment carries `token` (the probe's application, script and children).
func survivors(_ token: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
        return String(decoding: data, as: UTF8.self).contains(token)
    }
}

final class ResultList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [ProbeRun] = []
    func append(_ run: ProbeRun) { lock.withLock { list.append(run) } }
    var values: [ProbeRun] { lock.withLock { list } }
}
