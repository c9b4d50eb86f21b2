import Foundation
import SyspectCore
import SyspectPostgres
@testable import SyspectStore
import SyspectTestSupport
import Testing
@testable import SyspectExplore
#if canImport(Glibc)
import Glibc
#endif

/// `syspect explore --executor slurm` and `syspect probe` on the real single-node Slurm of
/// scripts/start-slurm and the real PostgreSQL of scripts/start-postgres (docs/cluster.md).
/// The workload is the crash tests' fixture (Fixtures/crash-workload.c: known verdicts, a final
/// run that fails so the culprit search runs, and a pause hook: it waits forever in the probe
/// folder the test names), with a run timeout of 20 s so that a paused baseline outlasts a
/// scancel. Each explore gets a PostgreSQL schema of its own.
@Suite(
    "Slurm executor (real Slurm, real PostgreSQL)", .serialized,
    .enabled(if: SlurmWorkload.partition != nil && SlurmWorkload.postgres != nil,
             "SYSPECT_TEST_SLURM_PARTITION or SYSPECT_TEST_POSTGRES_URL is unset: no Slurm or PostgreSQL to test against"))
struct SlurmExecutorTests {
    /// Not under /tmp: the probes' sandbox replaces /tmp.
    let folder = "/var/tmp/syspect-slurm-tests/\(UUID().uuidString.prefix(8))"

    /// Must 1: one explore through Slurm with a task cancelled mid-run (scancel): the task is
    /// submitted again under the same index, and the verdicts, final run and conflicts are those
    /// of the local executor on the same spec.
    @Test func exploreThroughSlurmWithAScancelledTaskGivesTheLocalVerdicts() throws {
        let w = try SlurmWorkload(folder)
        defer { w.destroy() }
        let local = try w.explore(["--db", w.sqlite("local")])
        try #require(local.status == 0, "the local explore failed: \(local.stderr)")
        let reference = try w.show(w.sqlite("local"))

        let database = w.database("scancel")
        try w.pause("baseline-r1")
        let session = try BackgroundCommand(try syspectBinary(), w.arguments(["--db", database.url] + w.slurmOptions), environment: w.environment)
        defer { session.stop() }
        try #require(session.wait(timeout: 120) { w.paused("baseline-r1") }, "the baseline never paused: \(session.stderr)")
        try w.unpause("baseline-r1")
        let store = try database.open()
        let key = try w.key()
        let baseline = try #require(try store.plannedProbes(exploration: key, indices: nil).first { $0.policy == "baseline" })
        let job = try #require(baseline.job)
        try SlurmClient().cancel(SlurmTaskID(job: job, index: baseline.index))
        let ended = session.wait(timeout: 300) { !session.isRunning }
        try #require(ended && session.status == 0, "the Slurm explore failed: \(session.stderr)")

        #expect(try w.show(database.url) == reference)
        let planned = try store.plannedProbes(exploration: key, indices: nil)
        let resubmitted = try #require(planned.first { $0.index == baseline.index })
        #expect(resubmitted.submissions == 2, "the cancelled baseline task was not submitted again")
        #expect(resubmitted.outcome == .pass && resubmitted.job != job)
        #expect(session.stdout.contains("1 re-submitted"), "\(session.stdout)")
        // Every stored outcome reached the strategy (a task that could not start, e.g. while its
        // binary is being rebuilt, ends as an error probe and runs again under a new index).
        let uncollected = planned.filter { $0.outcome != nil && $0.collectedAt == nil }
        #expect(uncollected.isEmpty, "stored outcomes never collected: \(uncollected.map { "\($0.index) \($0.policy)#\($0.replica) job \($0.job ?? -1) \($0.outcome?.rawValue ?? "none") x\($0.submissions)" })")
        // Many probes per submission: fewer arrays than tasks.
        #expect(Set(planned.compactMap(\.job)).count < planned.count)
    }

    /// The coordinator SIGKILLed while a task runs, then run again: it adopts the task still
    /// running (one-by-one keeps the spec's 20 s run timeout, so the paused probe outlasts the
    /// restart) instead of submitting it again, each (policy, replica) gets one outcome, and the
    /// verdicts are the local executor's.
    @Test func coordinatorKilledAndRunAgainAdoptsItsTasks() throws {
        let w = try SlurmWorkload(folder)
        defer { w.destroy() }
        let oneByOne = ["--strategy", "one-by-one"]
        let local = try w.explore(["--db", w.sqlite("local")] + oneByOne)
        try #require(local.status == 0, "the local explore failed: \(local.stderr)")
        let reference = try w.show(w.sqlite("local"))
        // pause stubbed: the fixture's checks run (after the pause hook) and fail (exit 15);
        // paused, the probe fails too, by its run timeout.
        let journal = try SQLiteStore(path: w.sqlite("local")).probes(exploration: try w.key())
        let target = try #require(journal.first { $0.policy == "stub:34" && $0.outcome == .fail })
        let request = ProbeRequest(try #require(ProbePolicy(key: target.policy)), replica: target.replica)
        let name = URL(fileURLWithPath: ProbeRunner(spec: try w.spec(), workDirectory: "/").directory(for: request)).lastPathComponent

        let database = w.database("killed")
        try w.pause(name)
        let first = try BackgroundCommand(try syspectBinary(), w.arguments(["--db", database.url] + w.slurmOptions + oneByOne), environment: w.environment)
        defer { first.stop() }
        try #require(first.wait(timeout: 120) { w.paused(name) }, "probe \(name) never paused: \(first.stderr)")
        first.kill()
        try w.unpause(name)
        let store = try database.open()
        let key = try w.key()
        let paused = try #require(try store.plannedProbes(exploration: key, indices: nil).first { $0.policy == target.policy })
        #expect(paused.outcome == nil, "the paused task ended before the coordinator was killed")

        let restarted = Date()
        let second = try runProgram(try syspectBinary(), w.arguments(["--db", database.url] + w.slurmOptions + oneByOne), environment: w.environment)
        try #require(second.status == 0, "the resumed Slurm explore failed: \(second.stderr)")
        #expect(try w.show(database.url) == reference)
        let planned = try store.plannedProbes(exploration: key, indices: nil)
        let again = planned.filter { $0.policy == target.policy && $0.replica == target.replica }
        #expect(again.map(\.index) == [paused.index], "the paused probe was planned again: \(again.map(\.index))")
        #expect(again.first?.submissions == 1 && again.first?.outcome == .fail)
        #expect((again.first?.finishedAt ?? .distantPast) > restarted, "the paused task had ended before the second coordinator started")
        #expect(!second.stdout.contains(" 0 adopted"), "\(second.stdout)")
        var outcomes: [String: Int] = [:]
        for p in planned where p.outcome == .pass || p.outcome == .fail { outcomes["\(p.policy)#\(p.replica)#\(p.census)", default: 0] += 1 }
        #expect(outcomes.values.allSatisfy { $0 == 1 }, "a probe has two outcomes: \(outcomes.filter { $0.value > 1 })")
    }

    /// Bad input before anything is submitted: each a one-line error naming the fix, exit 4, and
    /// nothing begun; `syspect probe` runs a planned probe with its census, leaves a stored outcome
    /// alone and refuses a node copy that differs.
    @Test func badInputIsRefusedBeforeSubmittingAndANodeCopyThatDiffersRefusesTheTask() throws {
        let w = try SlurmWorkload(folder)
        defer { w.destroy() }
        let database = w.database("bad")
        func explore(_ extra: [String], environment: [String: String]? = nil) throws -> ProgramOutput {
            try runProgram(try syspectBinary(), w.arguments(["--db", database.url] + extra), environment: environment ?? w.environment)
        }
        var noSlurm = w.environment
        noSlurm["PATH"] = "\(folder)/empty-path"
        let missing = try explore(w.slurmOptions, environment: noSlurm)
        #expect(missing.status == 4 && missing.stderr.contains("no 'sbatch' on PATH") && missing.stderr.contains("--executor local"), "\(missing.stderr)")
        let partition = try explore(["--executor", "slurm", "--slurm-partition", "no-such-partition"])
        #expect(partition.status == 4 && partition.stderr.contains("Slurm has no partition 'no-such-partition'; pass one of: \(SlurmWorkload.partition!)"),
                "\(partition.stderr)")
        let unreachable = try explore(w.slurmOptions + ["--slurm-db", "postgres://nobody:x@127.0.0.1:1/none?reconnect=0"])
        #expect(unreachable.status == 4 && unreachable.stderr.contains("the first Slurm task") && unreachable.stderr.contains("database reachable"),
                "\(unreachable.stderr)")
        #expect(unreachable.stderr.contains("127.0.0.1:1") || unreachable.stderr.contains("reach"), "\(unreachable.stderr)")
        let usage = try runProgram(try syspectBinary(), ["explore", w.specPath, "--slurm-max-tasks", "2"])
        #expect(usage.status == 64 && usage.stderr.contains("go with --executor slurm"))
        let store = try database.open()
        #expect(try store.explorations(app: nil).isEmpty, "an exploration was begun before the checks passed")

        // The node side alone: a planned baseline probe run by `syspect probe` on this machine.
        let spec = try w.spec()
        let key = Explorer.key(for: spec), hash = Explorer.specHash(spec)
        try store.beginExploration(ExplorationRecord(key: key, app: spec.name, workload: spec.workload, kind: spec.kind, specHash: hash,
                                                     specText: spec.text, strategy: "adaptive", startedAt: Date()))
        let runner = ProbeRunner(spec: spec, workDirectory: try Explorer.probeFolder(spec: spec, workDirectory: "\(folder)/probes"))
        _ = try store.plan([ProbeTask(ProbeRequest(.baseline, replica: 1), census: true, runner: runner).planEntry], exploration: key)
        func probe(_ extra: [String]) throws -> ProgramOutput {
            try runProgram(try syspectBinary(), ["probe", w.specPath, "--db", database.url, "--work-dir", "\(folder)/probes"] + extra,
                           environment: w.environment)
        }
        let ran = try probe(["--index", "0", "--spec-hash", hash])
        #expect(ran.status == 0 && ran.stdout.contains("probe 0 pass, stored"), "\(ran.stdout) \(ran.stderr)")
        let before = try store.plannedProbes(exploration: key, indices: [0])
        let run = try StoredProbeRun.decode(try #require(before.first?.run))
        #expect(run.outcome == .pass && run.census.contains { $0.name == "pause" }, "the node's run lost its census")
        let again = try probe(["--index", "0", "--spec-hash", hash])
        #expect(again.status == 0 && again.stdout.contains("already has an outcome"), "\(again.stdout) \(again.stderr)")
        let unplanned = try probe(["--index", "100000"])
        #expect(unplanned.status == 1 && unplanned.stderr.contains("has no planned probe 100000"), "\(unplanned.stderr)")
        let script = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(folder)/crash-workload.sh"))
        script.seekToEndOfFile()
        script.write(Data("# changed on this node\n".utf8))
        try script.close()
        let differs = try probe(["--index", "0", "--spec-hash", hash])
        let changed = Explorer.specHash(try w.spec())
        #expect(differs.status == 1 && differs.stderr.contains(hash) && differs.stderr.contains(changed)
                && differs.stderr.contains("same spec folder at the same path"), "\(differs.stderr)")
        #expect(try store.plannedProbes(exploration: key, indices: [0]) == before)
    }
}

/// The crash fixture built in a folder of its own, with its PostgreSQL schemas.
struct SlurmWorkload {
    static let partition = ProcessInfo.processInfo.environment["SYSPECT_TEST_SLURM_PARTITION"].flatMap { $0.isEmpty ? nil : $0 }
    static let postgres = ProcessInfo.processInfo.environment["SYSPECT_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    let folder: String
    var specPath: String { "\(folder)/crash-workload.yaml" }
    let token = UUID().uuidString
    private let schemas = SchemaList()

    init(_ folder: String) throws {
        self.folder = folder
        try FileManager.default.createDirectory(atPath: "\(folder)/control", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(folder)/empty-path", withIntermediateDirectories: true)
        let compiler = try #require(["/usr/bin/cc", "/usr/bin/gcc"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                    "no C compiler: scripts/setup installs gcc and libc6-dev")
        let built = try runProgram(compiler, ["-static", "-O1", "-o", "\(folder)/crash-workload", "\(Self.fixtures)/crash-workload.c"])
        try #require(built.status == 0, "cannot build the crash workload: \(built.stderr)")
        try FileManager.default.copyItem(atPath: "\(Self.fixtures)/crash-workload.sh", toPath: "\(folder)/crash-workload.sh")
        let spec = try String(contentsOfFile: "\(Self.fixtures)/crash-workload.yaml", encoding: .utf8)
            .replacingOccurrences(of: "timeouts: {run: 3}", with: "timeouts: {run: 20}")
        try #require(spec.contains("timeouts: {run: 20}"))
        try spec.write(toFile: specPath, atomically: true, encoding: .utf8)
    }

    func spec() throws -> AppSpec { try AppSpec.load(path: specPath) }
    func key() throws -> String { Explorer.key(for: try spec()) }
    func sqlite(_ name: String) -> String { "\(folder)/\(name).db" }

    var slurmOptions: [String] { ["--executor", "slurm", "--slurm-partition", Self.partition!, "--slurm-max-tasks", "2"] }

    /// `explore` of the fixture with one replica, no static analysis, its own work folder.
    func arguments(_ extra: [String]) -> [String] {
        ["explore", specPath, "--replicas", "1", "--jobs", "2", "--no-static", "--work-dir", "\(folder)/probes"] + extra
    }

    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "SYSPECT_DB")
        environment["SYSPECT_TEST_TOKEN"] = token
        environment["SYSPECT_CRASH_PAUSE"] = "\(folder)/control"
        return environment
    }

    func explore(_ extra: [String]) throws -> ProgramOutput {
        try runProgram(try syspectBinary(), arguments(extra), environment: environment)
    }

    /// A fresh PostgreSQL schema (dropped by `destroy`).
    func database(_ name: String) -> TestSchema {
        let schema = "syspect_slurm_\(name)_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        schemas.add(schema)
        let base = Self.postgres!
        return TestSchema(url: base + (base.contains("?") ? "&" : "?") + "schema=" + schema)
    }

    func pause(_ probeFolder: String) throws { try Data().write(to: URL(fileURLWithPath: "\(folder)/control/\(probeFolder)")) }
    func paused(_ probeFolder: String) -> Bool { FileManager.default.fileExists(atPath: "\(folder)/control/\(probeFolder).paused") }
    func unpause(_ probeFolder: String) throws {
        try FileManager.default.removeItem(atPath: "\(folder)/control/\(probeFolder)")
        try? FileManager.default.removeItem(atPath: "\(folder)/control/\(probeFolder).paused")
    }

    /// `syspect show crash-test --json` without the wall time and probe counts.
    func show(_ db: String) throws -> NSDictionary {
        let output = try runProgram(try syspectBinary(), ["show", "crash-test", "--json", "--db", db])
        let documents = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]], "show --json: \(output.stderr)")
        var document = try #require(documents.first)
        var exploration = try #require(document["exploration"] as? [String: Any])
        for figure in ["wallSeconds", "probeCount", "passed", "failed", "errors"] { exploration.removeValue(forKey: figure) }
        document["exploration"] = exploration
        return document as NSDictionary
    }

    func destroy() {
        if let base = Self.postgres, let store = try? PostgresStore(url: base) {
            for schema in schemas.all { _ = try? store.database.write { try $0.execute("DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE", []) } }
        }
        try? FileManager.default.removeItem(atPath: folder)
    }
}

struct TestSchema {
    let url: String
    func open() throws -> PostgresStore { try PostgresStore(url: url) }
}

final class SchemaList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ schema: String) { lock.withLock { list.append(schema) } }
    var all: [String] { lock.withLock { list } }
}

/// A command running in the background, its output collected in files.
final class BackgroundCommand: @unchecked Sendable {
    let process = Process()
    private let out: URL
    private let err: URL

    init(_ binary: String, _ arguments: [String], environment: [String: String]) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("syspect-bg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        (out, err) = (folder.appendingPathComponent("out"), folder.appendingPathComponent("err"))
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
    }

    var isRunning: Bool { process.isRunning }
    var status: Int32 { process.terminationStatus }
    var stdout: String { (try? String(contentsOf: out, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: err, encoding: .utf8)) ?? "" }

    /// Polls `condition` every 20 ms until it holds, the command ended or `timeout` passed.
    func wait(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            if !process.isRunning { return condition() }
            usleep(20_000)
        }
        return condition()
    }

    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Ends it (SIGKILL) if it still runs, then removes its output files.
    func stop() {
        kill()
        try? FileManager.default.removeItem(at: out.deletingLastPathComponent())
    }
}
