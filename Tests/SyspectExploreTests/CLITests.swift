import Foundation
import SyspectTestSupport
import SyspectCore
import SyspectStore
import Testing
@testable import SyspectExplore

/// The `syspect` binary, built next to the test bundle by `swift build --build-tests` / `swift test`.
func syspectBinary() throws -> String {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("syspect").path
    let candidates = [ProcessInfo.processInfo.environment["SYSPECT_BINARY"], beside].compactMap { $0 }
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw CLIError("syspect binary not found (tried \(candidates)); build it or set SYSPECT_BINARY")
    }
    return found
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs `syspect` to completion; returns (status, stdout, stderr).
@discardableResult
func syspect(_ arguments: [String]) throws -> (Int32, String, String) {
    let output = try runProgram(try syspectBinary(), arguments)
    return (output.status, output.stdout, output.stderr)
}

/// The CLI against real probes: interruption and resume, bad input, `show`.
@Suite(.serialized) struct CLITests {
    let folder = "/var/tmp/syspect-cli-tests/\(UUID().uuidString.prefix(8))"

    /// The small sqlite fixture, copied with a unique token in its environment.
    func spec(token: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sqlite-small.yaml")
        let text = try String(contentsOf: source, encoding: .utf8) + "environment: {SYSPECT_TEST_TOKEN: \"\(token)\"}\n"
        let path = "\(folder)/sqlite-small.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func interruptedExploreResumesWithoutRerunningFinishedProbes() throws {
        let token = UUID().uuidString
        let specPath = try spec(token: token)
        let db = "\(folder)/resume.db"
        let args = ["explore", specPath, "--db", db, "--work-dir", "\(folder)/probes", "--jobs", "2"]

        // Session 1: SIGKILL once it reported 12 finished probes (one plain line each: stderr is
        // not a terminal). The database is only opened once it is dead.
        let first = Process()
        first.executableURL = URL(fileURLWithPath: try syspectBinary())
        first.arguments = args
        first.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        first.standardError = errors
        try first.run()
        let key = Explorer.key(for: try AppSpec.load(path: specPath))
        var reported = 0
        var buffer = Data()
        while reported < 12 {
            let chunk = errors.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer += chunk
            reported = String(decoding: buffer, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("probe ") }.count
        }
        #expect(first.isRunning, "the explore ended before it could be interrupted: \(String(decoding: buffer, as: UTF8.self))")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        Thread.sleep(forTimeInterval: 0.5)
        #expect(survivors(token).isEmpty, "processes of the killed explore survived")
        let journaled = try SQLiteStore(path: db).probes(exploration: key)
        #expect(journaled.count >= 12)
        let finishedBefore = journaled.filter { $0.outcome != .error }

        // Session 2: resumes and completes; the finished probes keep their first record.
        let (status, stdout, stderr) = try syspect(args)
        #expect(status == 0, "\(stderr)")
        #expect(stderr.contains("resuming"))
        let store = try SQLiteStore(path: db)
        let after = try store.probes(exploration: key)
        for old in finishedBefore {
            let now = after.first { $0.policy == old.policy && $0.replica == old.replica }
            #expect(now?.startedAt == old.startedAt, "\(old.policy)#\(old.replica) ran again")
        }
        let exploration = try #require(try store.exploration(key: key))
        #expect(exploration.finishedAt != nil)
        #expect(exploration.probeCount >= after.count)
        #expect(stdout.contains("traced "))
        #expect(survivors(token).isEmpty)

        // show: the counts and the per-call list; JSON parses.
        let (showStatus, text, _) = try syspect(["show", "sqlite-test", "--db", db])
        #expect(showStatus == 0)
        #expect(text.contains("required"))
        #expect(text.contains("openat"))
        let (_, json, _) = try syspect(["show", "sqlite-test", "--db", db, "--json"])
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]
        #expect(parsed?.first?["app"] as? String == "sqlite-test")
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Writes `text` as `<name>.yaml` and runs `syspect explore` on it.
    func explore(_ name: String, _ text: String) throws -> (status: Int32, stderr: String) {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = "\(folder)/\(name).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let (status, _, stderr) = try syspect(["explore", path, "--db", "\(folder)/\(name).db", "--work-dir", "\(folder)/p"])
        return (status, stderr)
    }

    /// A full eBPF census map in a baseline replica is said once per replica, as `syspect trace`
    /// says it (the maps are shrunk through the tracer's test variables; docs/trace.md).
    @Test(.enabled(if: geteuid() == 0, "the eBPF census needs root"))
    func baselineCensusOverflowIsReported() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let fixture = (try syspectBinary() as NSString).deletingLastPathComponent + "/syspect-fixture"
        let path = "\(folder)/crowd.yaml"
        try """
            name: crowd
            workload: {name: health-crowd, kind: health}
            command: [\(fixture), crowd, "3", "2"]
            targets: [syspect-fixture]
            replicas: 2
            """.write(toFile: path, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["SYSPECT_TEST_EBPF_TARGETS"] = "1"
        let run = try runProgram(try syspectBinary(), ["explore", path, "--no-static",
                                                       "--db", "\(folder)/crowd.db", "--work-dir", "\(folder)/p"],
                                 environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        let notices = run.stderr.split(separator: "\n").filter { $0.hasPrefix("notice: baseline replica ") }
        #expect(notices.count == 2, "\(run.stderr)")
        #expect(notices.allSatisfy { $0.contains("3 target processes were counted with ptrace stops") }, "\(run.stderr)")
        try? FileManager.default.removeItem(atPath: folder)
    }

    @Test func badSpecIsAOneLineErrorWithItsLine() throws {
        let (status, stderr) = try explore("bad", "name: x\nworkload: {name: w, kind: health}\ncomand: [true]\n")
        #expect(status == 2)
        #expect(stderr.contains("bad.yaml:3: unknown key `comand`"))
        #expect(stderr.contains("did you mean `command`"))
    }

    @Test func failingBaselineExitsThreeWithTheOutput() throws {
        let (status, stderr) = try explore("fails", """
            name: failing
            workload: {name: health-false, kind: health}
            command: [sh, -c, "echo broken on purpose >&2; exit 5"]
            replicas: 2
            """)
        #expect(status == 3)
        #expect(stderr.contains("fails without any interposition"))
        #expect(stderr.contains("the command exited 5"))
        #expect(stderr.contains("broken on purpose"))
    }

    @Test func targetThatNeverRunsExitsThree() throws {
        let (status, stderr) = try explore("never", """
            name: never
            workload: {name: health-true, kind: health}
            command: [sh, -c, "true"]
            targets: [redis-server]
            replicas: 1
            """)
        #expect(status == 3)
        #expect(stderr.contains("never ran"))
    }

    @Test(.enabled(if: geteuid() == 0, "needs root to switch to an unprivileged user"))
    func exploreWorksAsAnUnprivilegedUser() throws {
        // As nobody, the sandbox adds a user namespace and the script/readiness use `nsenter -U`.
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o777])
        let path = "\(folder)/true.yaml"
        try "name: true-test\nworkload: {name: health-true, kind: health}\ncommand: [true]\ntimeouts: {run: 3}\nreplicas: 1\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=\(folder)",
                             try syspectBinary(), "explore", path, "--db", "\(folder)/nobody.db", "--work-dir", "\(folder)/p"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("execve"))
        #expect(text.contains("final run: passed"))
    }
}
