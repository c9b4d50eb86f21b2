import Foundation
import SyspectCore
import SyspectStore
import SyspectTestSupport
import Testing
@testable import SyspectExplore
#if canImport(Glibc)
import Glibc
#endif

/// Crash safety (issue 12): the real `syspect explore` is killed with SIGKILL at 13 moments —
/// in the baseline, in single probes, in group probes, in the final run, in the culprit search,
/// in impact runs, and right after a probe or the final run was journaled — and run again each
/// time. The fixture (Fixtures/crash-workload.c and its test script) has known, deterministic
/// outcomes and a pause hook: it waits forever in the probe folder the test names (its test
/// script waiting with it), so each kill lands while that probe runs. After every kill: no
/// process of the killed run is alive (application, nsenter, test script, its children), its
/// probe folders have stopped growing, every probe journaled before is still there, unchanged,
/// never run again, and every journaled probe is one the uninterrupted run made, with the same
/// outcome. At the end the resumed exploration gives what an uninterrupted run of the same spec
/// gives: the same verdicts, final run, conflicts and impact runs, each probe journaled once,
/// no probe folder the uninterrupted run does not have.
@Suite(.serialized) struct CrashSafetyTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    /// Not under /tmp: the probes' sandbox replaces /tmp.
    let folder = "/var/tmp/syspect-crash-tests/\(UUID().uuidString.prefix(8))"

    @Test func exploreKilledAtThirteenMomentsResumesToTheUninterruptedResult() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let spec = try CrashWorkload.build(in: folder)
        let token = UUID().uuidString
        let control = "\(folder)/control"
        try FileManager.default.createDirectory(atPath: control, withIntermediateDirectories: true)
        let environment = ["SYSPECT_TEST_TOKEN": token, "SYSPECT_CRASH_PAUSE": control]
        let appSpec = try AppSpec.load(path: spec)
        let key = Explorer.key(for: appSpec)
        func arguments(_ run: String) -> [String] {
            ["explore", spec, "--db", "\(folder)/\(run).db", "--work-dir", "\(folder)/\(run)-probes", "--jobs", "2",
             "--impact", "--impact-runs", "2", "--impact-syscalls", "getuid"]
        }
        func probeFolders(_ run: String) -> String {
            "\(folder)/\(run)-probes/\(appSpec.name)-\(appSpec.workload)-\(Explorer.specHash(appSpec).prefix(8))"
        }

        // The uninterrupted run: what every resumed session must reproduce.
        try CrashWorkload.seedPriors("\(folder)/reference.db")
        let whole = try runProgram(try syspectBinary(), arguments("reference"), environment: CrashWorkload.environment(environment))
        try #require(whole.status == 0, "the uninterrupted explore failed: \(whole.stderr)")
        let reference = try Snapshot(db: "\(folder)/reference.db", key: key)
        try #require(reference.probes.contains { $0.policy.hasPrefix("group:") }, "no group probe: the priors did not group")
        try #require(reference.probes.filter { $0.policy.hasPrefix("set:") }.count > 4, "no culprit search: the final run passed")
        try #require(reference.impactRuns.count == 8)

        // The interrupted runs, one session per moment, each killed there and resumed by the next.
        try CrashWorkload.seedPriors("\(folder)/killed.db")
        let moments = CrashMoment.all(reference: reference, spec: appSpec)
        var before = try Snapshot(db: "\(folder)/killed.db", key: key)
        for moment in moments {
            if moment.mayBePassed && moment.trigger(before) == nil {
                let final = reference.probes.filter { $0.policy.hasPrefix("set:") }.prefix(2).map { "\(Snapshot.key($0)) \($0.reason)" }
                print("crash safety: \(moment.name) passed over (the uninterrupted run's first sets: \(final))")
                continue
            }
            let trigger = try #require(moment.trigger(before), "\(moment.name): no probe left to stop in")
            if case .pause(let name) = trigger { try Data().write(to: URL(fileURLWithPath: "\(control)/\(name)")) }
            let session = try BackgroundExplore(try syspectBinary(), arguments("killed"), environment: CrashWorkload.environment(environment))
            let reached = session.wait(timeout: 60) {
                switch trigger {
                case .pause(let name): return FileManager.default.fileExists(atPath: "\(control)/\(name).paused")
                case .lines(let prefix, let count): return session.lines(startingWith: prefix) >= count
                }
            }
            session.kill()
            try? FileManager.default.removeItem(atPath: control)
            try FileManager.default.createDirectory(atPath: control, withIntermediateDirectories: true)
            try #require(reached, "\(moment.name): the explore never got there (\(trigger)); it wrote:\n\(session.stderr)")

            #expect(eventually(10) { survivors(token).isEmpty }, "\(moment.name): processes of the killed explore are alive: \(survivors(token))")
            let size = folderSize(probeFolders("killed"))
            Thread.sleep(forTimeInterval: 0.3)
            #expect(folderSize(probeFolders("killed")) == size, "\(moment.name): the probe folders still grow after the kill")
            let after = try Snapshot(db: "\(folder)/killed.db", key: key)
            after.check(keeps: before, within: reference, moment.name)
            if case .pause(let name) = trigger {
                #expect(!after.folderNames.contains(name), "\(moment.name): the probe stopped in \(name) was journaled")
            }
            before = after
        }

        // The last session runs to the end; the whole equals the uninterrupted run.
        let last = try runProgram(try syspectBinary(), arguments("killed"), environment: CrashWorkload.environment(environment))
        #expect(last.status == 0, "\(last.stderr)")
        let resumed = try Snapshot(db: "\(folder)/killed.db", key: key)
        resumed.check(keeps: before, within: reference, "the last session")
        // Missing may be only further replicas of a policy that failed: in the uninterrupted run
        // they ran beside the failing one; a resumed session never starts them (they cannot
        // change a failed policy), and the kill may land between the two. Or a set of the culprit
        // search that the uninterrupted run's lookahead ran ahead (timing decides which).
        let failed = Set(resumed.probes.filter { $0.outcome == .fail }.map(\.policy))
        for missing in reference.probes where !resumed.probeKeys.contains(Snapshot.key(missing)) && !reference.inCulpritSearch(missing) {
            #expect(missing.replica > 1 && failed.contains(missing.policy), "\(Snapshot.key(missing)) was never journaled")
        }
        #expect(resumed.probeCount == resumed.probes.count, "\(resumed.probeCount) probes counted for \(resumed.probes.count) journaled: some ran twice")
        #expect(resumed.impactKeys == reference.impactKeys)
        #expect(try CrashWorkload.show(db: "\(folder)/killed.db") == CrashWorkload.show(db: "\(folder)/reference.db"),
                "verdicts or the final run differ from the uninterrupted run")
        #expect(try CrashWorkload.showImpact(db: "\(folder)/killed.db") == CrashWorkload.showImpact(db: "\(folder)/reference.db"))
        // A set of the culprit search that a killed session ran ahead (its lookahead) may never
        // be needed again: its folder may stay. Every other folder was reused.
        let leftOver = Set(try FileManager.default.contentsOfDirectory(atPath: probeFolders("killed")))
            .subtracting(try FileManager.default.contentsOfDirectory(atPath: probeFolders("reference")))
            .filter { !$0.hasPrefix("set_") && !$0.hasPrefix("set-") && !$0.hasPrefix("group_") }
        #expect(leftOver.isEmpty, "probe folders of killed runs were left behind instead of being reused: \(leftOver.sorted())")
        #expect(survivors(token).isEmpty)
    }
}

/// Building and reading the fixture's explorations.
private enum CrashWorkload {
    /// Compiles Fixtures/crash-workload.c (static) and copies its spec beside it; returns the spec.
    static func build(in folder: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let compiler = try #require(["/usr/bin/cc", "/usr/bin/gcc"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                    "no C compiler: scripts/setup installs gcc and libc6-dev")
        let built = try runProgram(compiler, ["-static", "-O1", "-o", "\(folder)/crash-workload",
                                              "\(CrashSafetyTests.fixtures)/crash-workload.c"])
        try #require(built.status == 0, "cannot build the crash workload: \(built.stderr)")
        for file in ["crash-workload.yaml", "crash-workload.sh"] {
            try FileManager.default.copyItem(atPath: "\(CrashSafetyTests.fixtures)/\(file)", toPath: "\(folder)/\(file)")
        }
        return "\(folder)/crash-workload.yaml"
    }

    /// Another application's measurement, so that the adaptive strategy groups calls: it says
    /// `either` for the workload's start-up calls, getpid and getuid (all pass alone), and for
    /// getcwd (required here: the first groups fail and are split).
    static func seedPriors(_ db: String) throws {
        let names = ["brk", "getpid", "execve", "getcwd", "readlink", "getuid", "set_tid_address", "exit_group",
                     "set_robust_list", "prlimit64", "getrandom", "rseq"]
        let verdicts = Dictionary(uniqueKeysWithValues: names.map { (SyscallTable.number(named: $0)!, Verdict.either) })
        try SQLiteStore(path: db).save(SyspectCore.Measurement(
            app: "crash-prior", workload: "health-prior", kind: .health, verdicts: verdicts, source: "crash-tests"))
    }

    /// The test's environment for syspect: inherited, plus `extra`, without `SYSPECT_DB`.
    static func environment(_ extra: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "SYSPECT_DB")
        return environment.merging(extra) { $1 }
    }

    /// `syspect show crash-test --json` without the wall time and probe counts (the verdicts,
    /// counts per verdict, final run and conflicts).
    static func show(db: String) throws -> NSDictionary {
        let output = try runProgram(try syspectBinary(), ["show", "crash-test", "--json", "--db", db])
        let documents = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]],
                                     "show --json: \(output.stderr)")
        var document = try #require(documents.first)
        var exploration = try #require(document["exploration"] as? [String: Any])
        for figure in ["wallSeconds", "probeCount", "passed", "failed", "errors"] { exploration.removeValue(forKey: figure) }
        document["exploration"] = exploration
        return document as NSDictionary
    }

    /// `syspect show crash-test --impact --json`: per pair its runs and failures (the measured
    /// figures themselves differ from run to run).
    static func showImpact(db: String) throws -> [String] {
        let output = try runProgram(try syspectBinary(), ["show", "crash-test", "--impact", "--json", "--db", db])
        let documents = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]],
                                     "show --impact --json: \(output.stderr)")
        return documents.flatMap { ($0["results"] as? [[String: Any]]) ?? [] }.map { r in
            "\(r["syscall"] ?? "") \(r["mode"] ?? "") baseline \(r["baselineRuns"] ?? "") policy \(r["policyRuns"] ?? "") failures \(r["policyFailures"] ?? "")"
        }.sorted()
    }
}

/// What the database holds of one exploration.
private struct Snapshot {
    var probes: [ProbeRecord]
    var impactRuns: [ImpactRunRecord]
    var probeCount: Int

    init(db: String, key: String) throws {
        let store = try SQLiteStore(path: db)
        probes = try store.probes(exploration: key).sorted { $0.startedAt < $1.startedAt }
        impactRuns = try store.impactRuns(exploration: key).sorted { $0.startedAt < $1.startedAt }
        probeCount = try store.exploration(key: key)?.probeCount ?? 0
    }

    static func key(_ r: ProbeRecord) -> String { "\(r.policy)#\(r.replica)" }

    /// Whether `r` ran in the final run or after it (the culprit search, whose lookahead runs
    /// sets ahead by timing: `SearchLookahead`). The fixture's final set fakes some calls, so
    /// its key is the first `set:` one.
    func inCulpritSearch(_ r: ProbeRecord) -> Bool {
        guard let final = probes.first(where: { $0.policy.hasPrefix("set:") }) else { return false }
        return r.startedAt >= final.startedAt
    }
    static func key(_ r: ImpactRunRecord) -> String { "\(r.syscall):\(r.mode):\(r.baseline ? "B" : "S")\(r.run)" }
    var probeKeys: Set<String> { Set(probes.map(Self.key)) }
    var impactKeys: Set<String> { Set(impactRuns.map(Self.key)) }

    /// The probe folders (`ProbeRunner.directory`) of the journaled probes and impact runs.
    var folderNames: Set<String> {
        let explore = probes.map { ProbeRequest(ProbePolicy(key: $0.policy)!, replica: $0.replica) }
        let impact = impactRuns.map {
            ProbeRequest($0.baseline ? .baseline : .single($0.syscall, Mode(rawValue: $0.mode)!),
                         replica: ImpactAnalysis.replicaOffset + $0.run)
        }
        return Set((explore + impact).map(Self.folderName))
    }

    static func folderName(_ request: ProbeRequest) -> String {
        URL(fileURLWithPath: ProbeRunner(spec: placeholderSpec, workDirectory: "/").directory(for: request)).lastPathComponent
    }

    private static let placeholderSpec = AppSpec(name: "x", workload: "w", kind: .health, command: ["true"], targets: [], directory: "/")

    /// After a kill: everything `earlier` held is still there, unchanged (no finished probe ran
    /// again); nothing is journaled twice or as an error; every probe is one the uninterrupted
    /// run made, with the same outcome — or a set of the culprit search that a free slot ran
    /// ahead (`SearchLookahead`: which ones depends on timing; the same outcome when both ran it).
    func check(keeps earlier: Snapshot, within reference: Snapshot, _ moment: String) {
        let now = Dictionary(probes.map { (Self.key($0), $0) }) { first, _ in first }
        for old in earlier.probes where now[Self.key(old)] != old {
            Issue.record("\(moment): probe \(Self.key(old)) changed after it was journaled (ran again?)")
        }
        let runs = Dictionary(impactRuns.map { (Self.key($0), $0) }) { first, _ in first }
        for old in earlier.impactRuns where runs[Self.key(old)] != old {
            Issue.record("\(moment): impact run \(Self.key(old)) changed after it was journaled")
        }
        #expect(now.count == probes.count && runs.count == impactRuns.count, "\(moment): a probe journaled twice")
        let expected = Dictionary(reference.probes.map { (Self.key($0), $0.outcome) }) { first, _ in first }
        for p in probes where expected[Self.key(p)] != p.outcome && !(expected[Self.key(p)] == nil && inCulpritSearch(p)) {
            Issue.record("\(moment): \(Self.key(p)) \(p.outcome.rawValue) (\(p.reason)); the uninterrupted run: \(expected[Self.key(p)]?.rawValue ?? "never ran it")")
        }
        #expect(impactKeys.isSubset(of: reference.impactKeys), "\(moment): impact runs the uninterrupted run never made")
        #expect(!impactRuns.contains { $0.outcome == .error }, "\(moment): an impact run journaled as an error")
        #expect(probeCount <= probes.count, "\(moment): \(probeCount) probes counted for \(probes.count) journaled: some ran twice")
    }
}

/// Where a session is killed.
private enum CrashTrigger: CustomStringConvertible {
    /// While the probe with this folder name runs (the fixture's pause hook).
    case pause(String)
    /// As soon as `count` lines of standard error start with `prefix`.
    case lines(String, Int)

    var description: String {
        switch self {
        case .pause(let name): return "stopped in probe folder \(name)"
        case .lines(let prefix, let count): return "\(count) lines starting with '\(prefix)'"
        }
    }
}

/// One moment to kill at, chosen against what the killed exploration already journaled: the
/// first probe of the uninterrupted run of the wanted kind that is not journaled yet (so the
/// session is sure to run it) and that reaches the fixture's pause hook.
private struct CrashMoment {
    var name: String
    var trigger: (Snapshot) -> CrashTrigger?
    /// There may be no probe left to stop in (a set decided by a failed replica 1 runs no
    /// further replica: the uninterrupted run cancelled it, and an earlier killed session may
    /// have run the first); the moment is then passed over, and the test says so.
    var mayBePassed = false

    static func all(reference: Snapshot, spec: AppSpec) -> [CrashMoment] {
        /// The probe got past the fixture's pause hook (passed, or failed one of its checks).
        func reachesHook(_ r: ProbeRecord) -> Bool {
            r.outcome == .pass || (11...15).contains { r.reason.contains("the application exited \($0) before") }
        }
        func probe(_ name: String, last: Bool = false, mayBePassed: Bool = false, _ kind: @escaping (ProbeRecord) -> Bool) -> CrashMoment {
            CrashMoment(name: name, trigger: { journal in
                let done = journal.probeKeys
                let candidates = reference.probes.filter { kind($0) && reachesHook($0) && !done.contains(Snapshot.key($0)) }
                return (last ? candidates.last : candidates.first).map {
                    .pause(Snapshot.folderName(ProbeRequest(ProbePolicy(key: $0.policy)!, replica: $0.replica)))
                }
            }, mayBePassed: mayBePassed)
        }
        func impact(_ name: String, baseline: Bool) -> CrashMoment {
            CrashMoment(name: name) { journal in
                let done = journal.impactKeys
                return reference.impactRuns.first { $0.baseline == baseline && !done.contains(Snapshot.key($0)) }.map {
                    .pause(Snapshot.folderName(ProbeRequest($0.baseline ? .baseline : .single($0.syscall, Mode(rawValue: $0.mode)!),
                                                            replica: ImpactAnalysis.replicaOffset + $0.run)))
                }
            }
        }
        let finalPolicy = reference.probes.first { $0.policy.hasPrefix("set:") }?.policy
        return [
            CrashMoment(name: "baseline, replica 1 running") { _ in .pause("baseline-r1") },
            CrashMoment(name: "baseline, replica 2 running") { _ in .pause("baseline-r2") },
            CrashMoment(name: "right after the third probe of a session was journaled") { _ in .lines("probe ", 3) },
            probe("a group probe") { $0.policy.hasPrefix("group:") && $0.replica == 1 },
            probe("a single stub probe") { $0.policy.hasPrefix("stub:") && $0.replica == 1 },
            probe("a single fake probe, replica 2") { $0.policy.hasPrefix("fake:") && $0.replica == 2 },
            probe("a group probe, replica 2") { $0.policy.hasPrefix("group:") && $0.replica == 2 },
            probe("the final all-together run", mayBePassed: true) { $0.policy == finalPolicy },
            CrashMoment(name: "right after the final run failed") { _ in .lines("final run failed", 1) },
            probe("the culprit search, its first probe") { $0.policy.hasPrefix("set:") && $0.policy != finalPolicy },
            probe("the culprit search, its last probe", last: true) { $0.policy.hasPrefix("set:") && $0.policy != finalPolicy },
            impact("an impact run, baseline side", baseline: true),
            impact("an impact run, policy side", baseline: false),
        ]
    }
}

/// `syspect explore` running in the background, its standard error collected.
private final class BackgroundExplore: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var data = Data()

    init(_ binary: String, _ arguments: [String], environment: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let handle = errors.fileHandleForReading
        Thread { [self] in
            while case let chunk = handle.availableData, !chunk.isEmpty { lock.withLock { data += chunk } }
        }.start()
    }

    var stderr: String { lock.withLock { String(decoding: data, as: UTF8.self) } }

    func lines(startingWith prefix: String) -> Int {
        stderr.split(separator: "\n").filter { $0.hasPrefix(prefix) }.count
    }

    /// Polls `condition` every 5 ms until it holds (true) or the explore ended or `timeout` passed.
    func wait(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            if !process.isRunning { return condition() }
            usleep(5_000)
        }
        return false
    }

    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// Waits up to `seconds` for `condition`.
private func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// Bytes in the regular files below `path`.
private func folderSize(_ path: String) -> Int {
    guard let files = FileManager.default.enumerator(atPath: path) else { return 0 }
    var total = 0
    for case let name as String in files {
        let attributes = try? FileManager.default.attributesOfItem(atPath: "\(path)/\(name)")
        if attributes?[.type] as? FileAttributeType == .typeRegular { total += (attributes?[.size] as? Int) ?? 0 }
    }
    return total
}
