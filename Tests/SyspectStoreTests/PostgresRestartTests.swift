import Foundation
import SyspectCore
import SyspectPostgres
@testable import SyspectStore
import Testing

/// Real `syspect explore` runs (the small sqlite fixture of SyspectExploreTests) against a private
/// PostgreSQL cluster that the tests restart and stop (PrivatePostgres): issue 12's "PostgreSQL as a
/// team uses it". Enabled where the shared test server is (CI), since both need the binaries.
@Suite(
    "PostgreSQL restarts and concurrent explores (a private cluster; needs root and SYSPECT_TEST_POSTGRES_URL)",
    .serialized,
    .enabled(if: postgresURL != nil && PrivatePostgres.available && FileManager.default.isExecutableFile(atPath: syspectBinary),
             "needs SYSPECT_TEST_POSTGRES_URL (.ci/run sets it), root, PostgreSQL's binaries and a built syspect"))
struct PostgresRestartTests {
    let folder = "/var/tmp/syspect-pg-explore-tests/\(UUID().uuidString.prefix(8))"

    /// The sqlite fixture as application `app` (same workload, so the same verdicts).
    func spec(app: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("SyspectExploreTests/Fixtures/sqlite-small.yaml")
        let text = try String(contentsOf: fixture, encoding: .utf8)
            .replacingOccurrences(of: "\nname: sqlite-test\n", with: "\nname: \(app)\n")
        let path = "\(folder)/\(app).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func arguments(app: String, db: String) throws -> [String] {
        ["explore", try spec(app: app), "--db", db, "--work-dir", "\(folder)/probes", "--jobs", "2"]
    }

    /// What an explore left in the store: its exploration, probe keys and verdicts (none yet
    /// for an unfinished one).
    struct Outcome {
        var exploration: ExplorationRecord
        var probes: [ProbeRecord]
        var verdicts: [Int: Verdict]
        var keys: Set<String> { Set(probes.map { "\($0.policy)#\($0.replica)" }) }
        /// The probes before the final run (its set fakes some calls: the first `set:` key).
        /// From there on the culprit search's lookahead runs sets ahead by timing
        /// (`SearchLookahead`): two runs agree on its result, not on every probe.
        var keysBeforeTheFinalRun: Set<String> {
            let final = probes.filter { $0.policy.hasPrefix("set:") }.map(\.startedAt).min() ?? .distantFuture
            return Set(probes.filter { $0.startedAt < final }.map { "\($0.policy)#\($0.replica)" })
        }
    }

    func outcome(_ url: String, app: String) throws -> Outcome {
        let store = try PostgresStore(url: url)
        defer { store.close() }
        let exploration = try #require(try store.explorations(app: app).first)
        return Outcome(
            exploration: exploration, probes: try store.probes(exploration: exploration.key),
            verdicts: try store.measurements(apps: [app], kind: nil).first?.verdicts ?? [:])
    }

    /// Finished, every probe journaled once (as many rows as the explore counted runs).
    func expectComplete(_ o: Outcome, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(o.exploration.finishedAt != nil, sourceLocation: sourceLocation)
        #expect(o.probes.count == o.exploration.probeCount, "rows vs runs counted", sourceLocation: sourceLocation)
        #expect(o.probes.allSatisfy { $0.outcome != .error }, "\(o.probes.filter { $0.outcome == .error })",
                sourceLocation: sourceLocation)
        #expect(!o.verdicts.isEmpty, sourceLocation: sourceLocation)
    }

    @Test func serverRestartMidExploreLosesNoProbe() throws {
        let cluster = try PrivatePostgres()
        defer { cluster.destroy() }
        let reference = try runSyspect(try arguments(app: "sqlite-test", db: cluster.url("schema=reference")))
        #expect(reference.status == 0, "\(reference.stderr)")

        let run = try RunningExplore(try arguments(app: "sqlite-test", db: cluster.url("schema=restarted")))
        try run.waitForProbes(12)
        let restartedAt = Date()
        try cluster.restart()
        let restarted = run.finish()
        #expect(restarted.status == 0, "\(restarted.stderr.suffix(3000))")

        let expected = try outcome(cluster.url("schema=reference"), app: "sqlite-test")
        let seen = try outcome(cluster.url("schema=restarted"), app: "sqlite-test")
        expectComplete(expected)
        expectComplete(seen)
        #expect(seen.keysBeforeTheFinalRun == expected.keysBeforeTheFinalRun)
        #expect(seen.keysBeforeTheFinalRun.count > 20)
        #expect(seen.verdicts == expected.verdicts)
        // The same process journaled probes on both sides of the restart: it reconnected.
        #expect(seen.probes.contains { $0.startedAt < restartedAt } && seen.probes.contains { $0.startedAt > restartedAt })
        try? FileManager.default.removeItem(atPath: folder)
    }

    @Test func twoAppsExploredAtOnceIntoANewDatabaseKeepEveryRow() throws {
        let cluster = try PrivatePostgres()
        defer { cluster.destroy() }
        // Both start on an empty database: they migrate it together.
        let first = try RunningExplore(try arguments(app: "app-a", db: cluster.url()))
        let second = try RunningExplore(try arguments(app: "app-b", db: cluster.url()))
        let (a, b) = (first.finish(), second.finish())
        #expect(a.status == 0, "\(a.stderr.suffix(3000))")
        #expect(b.status == 0, "\(b.stderr.suffix(3000))")
        let oa = try outcome(cluster.url(), app: "app-a"), ob = try outcome(cluster.url(), app: "app-b")
        expectComplete(oa)
        expectComplete(ob)
        #expect(oa.verdicts == ob.verdicts)
        let store = try PostgresStore(url: cluster.url())
        defer { store.close() }
        let counts = try store.counts()
        #expect(counts.explorations == 2 && counts.measurements == 2 && counts.probes == oa.probes.count + ob.probes.count)
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The same spec twice on one database: the second is refused (exit 7) naming the first's
    /// pid; a killed first run leaves no lock behind.
    @Test(arguments: ["postgres", "sqlite"])
    func sameAppTwiceAtOnceIsRefused(_ backend: String) throws {
        let cluster = backend == "postgres" ? try PrivatePostgres() : nil
        defer { cluster?.destroy() }
        let db = cluster?.url() ?? "\(folder)/same.db"
        let args = try arguments(app: "sqlite-test", db: db)
        let first = try RunningExplore(args)
        try first.waitForProbes(3)
        let second = try runSyspect(args)
        #expect(second.status == 7, "\(second.stderr)")
        #expect(second.stderr.contains("another syspect explore of sqlite-test/health-sql@"), "\(second.stderr)")
        #expect(second.stderr.contains("pid \(first.pid)"), "\(second.stderr)")
        #expect(second.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count == 1)
        first.kill()
        // The killed run's lock went with it: a new run may claim the exploration at once.
        let store = try Stores.open(StoreLocation.parse(db))
        let key = try #require(try store.explorations(app: "sqlite-test").first).key
        try store.claimExploration(key: key).release()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The server stops and stays away: exit 6 with one line once `reconnect` seconds have
    /// passed; nothing journaled is lost, and the same command resumes once it is back.
    @Test func serverGoneExitsSixAndTheRerunResumes() throws {
        let cluster = try PrivatePostgres()
        defer { cluster.destroy() }
        let url = cluster.url("reconnect=3")
        let args = try arguments(app: "sqlite-test", db: url)
        let run = try RunningExplore(args)
        try run.waitForProbes(10)
        let stoppedAt = Date()
        try cluster.stop()
        let gone = run.finish()
        let waited = Date().timeIntervalSince(stoppedAt)
        #expect(gone.status == 6, "\(gone.stderr.suffix(3000))")
        let lastLine = gone.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(lastLine.contains("lost the connection to PostgreSQL at 127.0.0.1:\(cluster.port)")
            && lastLine.contains("within 3 s") && lastLine.contains("run the same command again"), "\(lastLine)")
        #expect(waited >= 3 && waited < 30, "exited \(waited) s after the stop")

        try cluster.start()
        let journaled = try outcome(url, app: "sqlite-test").probes
        #expect(journaled.count >= 10)
        let resumed = try runSyspect(args)
        #expect(resumed.status == 0, "\(resumed.stderr.suffix(3000))")
        #expect(resumed.stderr.contains("resuming"))
        let done = try outcome(url, app: "sqlite-test")
        #expect(done.exploration.finishedAt != nil)
        for old in journaled where old.outcome != .error {
            let now = done.probes.first { $0.policy == old.policy && $0.replica == old.replica }
            #expect(now?.startedAt == old.startedAt, "\(old.policy)#\(old.replica) was lost or ran again")
        }
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// A `syspect explore` running in the background; its standard error is read as it comes (one
/// plain line per finished probe, since it is not a terminal).
final class RunningExplore: @unchecked Sendable {
    private let process = Process()
    private let condition = NSCondition()
    private var stderr = Data()
    private var stderrClosed = false
    private let stdoutPipe = Pipe()
    private var stdout = Data()
    private let stdoutDone = DispatchSemaphore(value: 0)

    var pid: Int32 { process.processIdentifier }

    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: syspectBinary)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: StoreLocation.environmentVariable)
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = stdoutPipe
        try process.run()
        Thread.detachNewThread { [self] in
            while true {
                let chunk = errors.fileHandleForReading.availableData
                condition.withLock {
                    if chunk.isEmpty { stderrClosed = true } else { stderr += chunk }
                    condition.broadcast()
                }
                if chunk.isEmpty { break }
            }
        }
        Thread.detachNewThread { [self] in
            stdout = stdoutPipe.fileHandleForReading.readDataToEndOfFile()
            stdoutDone.signal()
        }
    }

    /// Waits until `count` probes were reported (at most 120 s).
    func waitForProbes(_ count: Int) throws {
        let deadline = Date().addingTimeInterval(120)
        try condition.withLock {
            while String(decoding: stderr, as: UTF8.self).split(separator: "\n").filter({ $0.hasPrefix("probe ") }).count < count {
                guard !stderrClosed, condition.wait(until: deadline) else {
                    throw PrivatePostgresError("the explore reported fewer than \(count) probes: \(String(decoding: stderr, as: UTF8.self).suffix(2000))")
                }
            }
        }
    }

    /// Waits for the end; returns (status, stdout, stderr).
    func finish() -> CommandResult {
        process.waitUntilExit()
        stdoutDone.wait()
        let text = condition.withLock { () -> String in
            while !stderrClosed { condition.wait() }
            return String(decoding: stderr, as: UTF8.self)
        }
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: text)
    }

    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        _ = finish()
    }
}
