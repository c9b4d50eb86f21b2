import Foundation
import SyspectCore
import SyspectTrace
import Testing

/// `syspect trace` as a user runs it: the built binary, its output and exit statuses.
@Suite(.serialized) struct TraceCommandTests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the syspect binary to completion.
    func syspect(_ args: [String]) throws -> Run {
        let process = try start(args)
        process.waitUntilExit()
        return finish(process)
    }

    func start(_ args: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Products.syspect)
        process.arguments = args
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        try process.run()
        return process
    }

    func finish(_ process: Process) -> Run {
        let out = (process.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile()
        let err = (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
        return Run(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                   stderr: String(decoding: err, as: UTF8.self))
    }

    @Test func tableOnStandardErrorAndTheCommandsExitStatus() throws {
        let run = try syspect(["trace", "--target", "syspect-fixture", "--", Products.fixture, "fail", "4"])
        #expect(run.status == 0)
        let row = try #require(run.stderr.split(separator: "\n").first { $0.hasPrefix("unlinkat") })
        #expect(row.split(separator: " ", omittingEmptySubsequences: true).map(String.init) == ["unlinkat", "263", "4", "4", "ENOENT", "4"])
        #expect(try syspect(["trace", "--", Products.fixture, "exit", "7"]).status == 7)
        #expect(try syspect(["trace", "--", "sh", "-c", "kill -TERM $$"]).status == 128 + SIGTERM)
    }

    @Test func jsonToStandardOutputDecodesAsATraceReport() throws {
        let run = try syspect(["trace", "--json", "--output", "-", "--", Products.fixture, "int80", "3"])
        #expect(run.status == 0)
        let report = try TraceReport.decode(Data(run.stdout.utf8))
        #expect(report.command == [Products.fixture, "int80", "3"])
        #expect(report.result.census.contains { $0.arch == .i386 && $0.name == "getpid" && $0.calls == 3 })
    }

    @Test func badInputGetsAOneLineErrorAndADocumentedStatus() throws {
        let missing = try syspect(["trace", "--", "no-such-program-syspect"])
        #expect(missing.status == 127)
        #expect(missing.stderr == "syspect: command not found: 'no-such-program-syspect': check the name, or give a path\n")
        let directory = try syspect(["trace", "--", "/"])
        #expect(directory.status == 126)
        #expect(directory.stderr.split(separator: "\n").count == 1)
        let empty = try syspect(["trace"])
        #expect(empty.status == 64)
        let never = try syspect(["trace", "--target", "no-such-binary", "--", "true"])
        #expect(never.status == 0)
        #expect(never.stderr.contains("warning: target 'no-such-binary' never ran"))
        let badTimeout = try syspect(["trace", "--timeout", "-1", "--", "true"])
        #expect(badTimeout.status == 64)
    }

    @Test func timeoutEndsTheWholeTree() throws {
        let token = uniqueToken("cli-timeout")
        let run = try syspect(["trace", "--timeout", "1", "--", "sh", "-c",
                               "\(Products.fixture) daemon \(token); sleep 1000 & \(Products.fixture) sleep 1000 \(token); wait"])
        #expect(run.status == 124)
        #expect(run.stderr.contains("--timeout"))
        #expect(eventually { survivors(token).isEmpty }, "survivors: \(survivors(token))")
    }

    @Test(arguments: [SIGINT, SIGTERM, SIGKILL])
    func signalToSyspectEndsTheWholeTree(signal: Int32) throws {
        let token = uniqueToken("cli-signal-\(signal)")
        let sleepArg = "98765.\(Int.random(in: 100...999))"
        let process = try start(["trace", "--", "sh", "-c",
                                 "\(Products.fixture) daemon \(token); sleep \(sleepArg) & \(Products.fixture) sleep 1000 \(token); wait"])
        // syspect, sh, the daemon and the fixture's sleep carry the token; syspect, sh and sleep the sleep argument.
        #expect(eventually { survivors(daemonMarker(token)).count == 1 && survivors(token).count == 4 && survivors(sleepArg).count == 3 },
                "the tree started")
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        let run = finish(process)
        if signal == SIGKILL {
            #expect(process.terminationReason == .uncaughtSignal)
        } else {
            #expect(run.status == 128 + signal)
        }
        #expect(eventually { survivors(token).isEmpty && survivors(sleepArg).isEmpty },
                "survivors: \(survivors(token)) \(survivors(sleepArg))")
    }
}
