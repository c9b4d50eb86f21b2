import Foundation
import SyspectCore
@testable import SyspectTrace
import Testing

/// The tracer against the fixture program, whose calls are known.
@Suite(.serialized) struct TracerTests {
    let fixture = Products.fixture
    let getppid = 110, getpid = 39

    /// Census tests run under both methods; `.ebpf` must really count in the kernel.
    static let methods: [CensusMethodChoice] = [.ebpf, .ptrace]

    func trace(_ args: String..., method: CensusMethodChoice, targets: [String]? = nil,
               configure: (inout LaunchOptions) -> Void = { _ in }) throws -> TraceResult
    {
        var options = LaunchOptions(arguments: [fixture] + args, targets: targets ?? [fixture], censusMethod: method)
        configure(&options)
        let result = try Tracer.run(options)
        if method != .auto { #expect(result.censusMethod?.rawValue == method.rawValue) }
        return result
    }

    @Test(arguments: methods) func countsAChosenCallExactly(method: CensusMethodChoice) throws {
        let result = try trace("repeat", "110", "1234", method: method)
        #expect(result.exitCode == 0)
        #expect(result.calls(getppid) == 1234)
        #expect(result.entry(getppid)?.failures == 0)
        #expect(result.calls(59) == 1, "the launch's execve")
    }

    @Test(arguments: methods) func countsFailuresWithTheirErrno(method: CensusMethodChoice) throws {
        let result = try trace("fail", "17", method: method)
        let unlinkat = try #require(result.entry(263))
        #expect(unlinkat.calls == 17)
        #expect(unlinkat.failures == 17)
        #expect(unlinkat.errnos == ["ENOENT": 17])
    }

    @Test(arguments: methods) func callsOnlyModeLeavesFailuresUncounted(method: CensusMethodChoice) throws {
        let result = try trace("fail", "5", method: method) { $0.countFailures = false }
        #expect(result.calls(263) == 5)
        #expect(result.entry(263)?.failures == 0)
        #expect(!result.failuresCounted)
    }

    @Test(arguments: methods) func followsThreads(method: CensusMethodChoice) throws {
        let result = try trace("threads", "4", "250", method: method)
        #expect(result.exitCode == 0)
        #expect(result.calls(getppid) == 1000)
        #expect(result.processCount == 1)
    }

    @Test(arguments: methods) func followsForkVforkAndPosixSpawn(method: CensusMethodChoice) throws {
        let forked = try trace("fork", "40", method: method)
        #expect(forked.calls(getppid) == 40)
        #expect(forked.processCount == 2)
        let vforked = try trace("vfork", "repeat", "39", "33", method: method)
        #expect(vforked.exitCode == 0)
        #expect(vforked.calls(getpid) == 33)
        #expect(vforked.calls(59) == 2)
        let spawned = try trace("spawn", "repeat", "39", "22", method: method)
        #expect(spawned.exitCode == 0)
        #expect(spawned.calls(getpid) == 22)
        #expect(spawned.processCount == 2)
    }

    @Test(arguments: methods) func followsExecFromANonLeaderThread(method: CensusMethodChoice) throws {
        let result = try trace("exec-from-thread", "repeat", "39", "77", method: method)
        #expect(result.exitCode == 0)
        #expect(result.calls(getpid) == 77)
        #expect(result.calls(59) == 2)
    }

    @Test(arguments: methods) func i386CallsAreReportedUnderTheirOwnArch(method: CensusMethodChoice) throws {
        let result = try trace("int80", "5", method: method)
        #expect(result.exitCode == 0)
        let entry = try #require(result.entry(20, .i386))
        #expect(entry.name == "getpid")
        #expect(entry.calls == 5)
        #expect(result.calls(20) == 0, "never counted as x86-64 writev")
    }

    @Test(arguments: methods) func x32CallsAreReportedUnderTheirOwnArch(method: CensusMethodChoice) throws {
        let result = try trace("x32", "6", method: method)
        let entry = try #require(result.entry(39, .x32))
        #expect(entry.calls == 6)
        #expect(entry.name == "getpid")
        #expect(result.calls(getpid) == 0, "never counted as x86-64 getpid")
    }

    @Test(arguments: methods) func onlyTargetBinariesCount(method: CensusMethodChoice) throws {
        let script = "\(fixture) repeat 24 50; \(fixture) repeat 24 7"  // sched_yield: the shell never calls it
        let byName = try Tracer.run(LaunchOptions(arguments: ["sh", "-c", script], targets: ["syspect-fixture"], censusMethod: method))
        #expect(byName.calls(24) == 57)
        #expect(byName.calls(61) == 0, "the shell's wait4 is not counted")
        #expect(byName.targetsSeen == [ProgramPaths.realPath(fixture)!])
        #expect(byName.targetsNeverRun.isEmpty)

        let everything = try Tracer.run(LaunchOptions(arguments: ["sh", "-c", script], censusMethod: method))
        #expect(everything.calls(61) >= 2)
        #expect(everything.calls(24) == 57)

        let missing = try Tracer.run(LaunchOptions(arguments: ["sh", "-c", script], targets: ["no-such-binary"], censusMethod: method))
        #expect(missing.targetsNeverRun == ["no-such-binary"])
        #expect(missing.census.isEmpty)
    }

    @Test func exitStatusAndSignalOfTheCommand() throws {
        #expect(try trace("exit", "3", method: .auto).exitCode == 3)
        let killed = try Tracer.run(LaunchOptions(arguments: ["sh", "-c", "kill -9 $$"]))
        #expect(killed.termSignal == 9)
        #expect(killed.exitCode == nil)
        #expect(killed.shellStatus == 137)
    }

    @Test func groupStopsAndSignalsReachTheTracee() throws {
        #expect(try trace("stop", method: .auto).exitCode == 0, "SIGSTOP/SIGCONT of a child")
        #expect(try trace("signal", method: .auto).exitCode == 0, "a handled SIGUSR1 is re-injected")
    }

    @Test func badCommandsAreTypedErrors() throws {
        #expect(throws: TraceError.programNotFound("no-such-program-syspect")) {
            try Tracer.run(LaunchOptions(arguments: ["no-such-program-syspect"]))
        }
        let dir = try scratchDirectory()
        let file = dir + "/not-executable"
        FileManager.default.createFile(atPath: file, contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o644])
        #expect(throws: TraceError.programNotExecutable(file, errno: EACCES)) {
            try Tracer.run(LaunchOptions(arguments: [file]))
        }
        #expect(throws: TraceError.programNotExecutable(dir, errno: EISDIR)) {
            try Tracer.run(LaunchOptions(arguments: [dir]))
        }
        #expect(throws: TraceError.emptyCommand) { try Tracer.run(LaunchOptions(arguments: [])) }
        let error = TraceError.programNotFound("x").description
        #expect(!error.contains("\n"))
    }

    @Test func timeoutKillsDaemonsAndBackgroundedChildren() throws {
        let token = uniqueToken("timeout")
        let script = "\(fixture) daemon \(token); sleep 987654.\(Int.random(in: 100...999)) & \(fixture) sleep 1000 \(token) & wait"
        let sleepArg = script.split(separator: " ").first { $0.hasPrefix("987654.") }!
        let started = Date()
        let result = try Tracer.run(LaunchOptions(arguments: ["sh", "-c", script], timeout: 1.5))
        #expect(result.timedOut)
        #expect(result.killed)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(result.processCount >= 4)
        #expect(eventually { survivors(token).isEmpty && survivors(String(sleepArg)).isEmpty },
                "survivors: \(survivors(token)) \(survivors(String(sleepArg)))")
    }

    @Test func killFromAnotherThreadEndsTheTree() throws {
        let token = uniqueToken("kill")
        let traced = try Tracer.launch(LaunchOptions(arguments: ["sh", "-c", "\(fixture) daemon \(token); \(fixture) sleep 1000"]))
        let exited = Mutex()
        traced.onExit = { _ in exited.set() }
        #expect(eventually { !survivors(daemonMarker(token)).isEmpty }, "the daemon started")
        #expect(traced.isRunning)
        traced.kill()
        let result = traced.wait()
        #expect(!traced.isRunning)
        #expect(result.killed && !result.timedOut)
        #expect(result.termSignal == SIGKILL)
        #expect(eventually { exited.isSet })
        #expect(eventually { survivors(token).isEmpty })
    }

    @Test func sandboxGivesAFreshWorld() throws {
        let dir = try scratchDirectory()
        let out = dir + "/out"
        let token = uniqueToken("sandbox")
        let script = "echo pid=$$; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '; touch /tmp/\(token); ls /tmp; \(fixture) daemon \(token)"
        let result = try Tracer.run(LaunchOptions(arguments: ["sh", "-c", script], stdoutPath: out, sandbox: Sandbox()))
        #expect(result.exitCode == 0)
        // A checkout under /tmp (the launcher's working directory) stays reachable in the sandbox.
        let cwd = FileManager.default.currentDirectoryPath
        let keptEntry: String? = cwd.hasPrefix("/tmp/") ? String(cwd.dropFirst(5).split(separator: "/").first ?? "") : nil
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init)
            .filter { $0 != keptEntry }
        #expect(lines == ["pid=1", "lo", token], "pid 1, only loopback, a private /tmp")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(token)"))
        #expect(eventually { survivors(token).isEmpty }, "the daemon died with the namespace")
    }

    @Test func workingDirectoryEnvironmentAndOutputFiles() throws {
        let dir = try scratchDirectory()
        let result = try Tracer.run(LaunchOptions(
            arguments: ["sh", "-c", "pwd; echo $SYSPECT_X; echo oops >&2"], environment: ["SYSPECT_X": "42", "PATH": "/usr/bin:/bin"],
            workingDirectory: dir, stdoutPath: dir + "/out", stderrPath: dir + "/err"))
        #expect(result.exitCode == 0)
        #expect(try String(contentsOfFile: dir + "/out", encoding: .utf8) == "\(dir)\n42\n")
        #expect(try String(contentsOfFile: dir + "/err", encoding: .utf8) == "oops\n")
        #expect(throws: TraceError.self) {
            try Tracer.run(LaunchOptions(arguments: ["true"], workingDirectory: dir + "/missing"))
        }
    }
}

/// A flag other threads can set.
final class Mutex: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    func set() { lock.lock(); flag = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return flag }
}
