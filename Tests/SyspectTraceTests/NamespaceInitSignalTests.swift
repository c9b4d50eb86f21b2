import Foundation
import SyspectTestSupport
import Testing
@testable import SyspectTrace

/// The sandbox's init dies of what it would die of untraced (a traced namespace init stays
/// unkillable, so a re-injected fault repeated until the timeout).
@Suite struct NamespaceInitSignalTests {
    @Test("kernel-sent and outside signals kill, inside default-action signals do not, handlers win")
    func decision() {
        // A fault: si_code > 0 (SEGV_MAPERR); si_pid is meaningless there.
        #expect(NamespaceInitSignals.kernelWouldKill(signal: SIGSEGV, code: 1, sender: 12345, caught: false, ignored: false))
        // From an ancestor namespace (the sender is not visible: 0).
        #expect(NamespaceInitSignals.kernelWouldKill(signal: SIGTERM, code: 0, sender: 0, caught: false, ignored: false))
        // From inside the namespace (itself, raise/kill: SI_TKILL, SI_USER): survived natively.
        #expect(!NamespaceInitSignals.kernelWouldKill(signal: SIGTERM, code: -6, sender: 1, caught: false, ignored: false))
        #expect(!NamespaceInitSignals.kernelWouldKill(signal: SIGABRT, code: 0, sender: 1, caught: false, ignored: false))
        // Caught or ignored: re-injected as usual.
        #expect(!NamespaceInitSignals.kernelWouldKill(signal: SIGSEGV, code: 1, sender: 0, caught: true, ignored: false))
        #expect(!NamespaceInitSignals.kernelWouldKill(signal: SIGTERM, code: 0, sender: 0, caught: false, ignored: true))
        // Default action not fatal.
        for signal in [SIGCHLD, SIGCONT, SIGURG, SIGWINCH, SIGSTOP, SIGTSTP] {
            #expect(!NamespaceInitSignals.kernelWouldKill(signal: signal, code: 1, sender: 0, caught: false, ignored: false))
        }
        #expect(NamespaceInitSignals.terminatesByDefault(35))  // a real-time signal (SIGRTMIN is 34)
    }

    @Test("signal masks of /proc/PID/status")
    func masks() {
        let status = "Name:\tx\nSigIgn:\t0000000000001000\nSigCgt:\t0000000000000201\n"
        #expect(ProcStatus.maskHas(SIGPIPE, line: "SigIgn:", status: status) == true)  // bit 12
        #expect(ProcStatus.maskHas(SIGHUP, line: "SigCgt:", status: status) == true)   // bit 0
        #expect(ProcStatus.maskHas(SIGUSR1, line: "SigCgt:", status: status) == true)  // bit 9
        #expect(ProcStatus.maskHas(SIGUSR2, line: "SigCgt:", status: status) == false)
        #expect(ProcStatus.maskHas(SIGHUP, line: "SigBlk:", status: status) == nil)
    }

    /// The exit status of `fixture crash HOW` as the first process of a fresh PID namespace,
    /// untraced (util-linux unshare): the reference the traced sandbox must match.
    /// As the shell reports it: 128 + N for a death by signal N.
    static func nativeStatus(_ how: String) throws -> Int32 {
        let shell = try runProgram("/bin/sh", ["-c", "unshare --fork --pid --mount-proc \"$0\" crash \"$1\"; echo \"status=$?\"", Products.fixture, how])
        let line = try #require(shell.stdout.split(separator: "\n").last { $0.hasPrefix("status=") }, "unshare printed: \(shell.stdout) \(shell.stderr)")
        return try #require(Int32(line.dropFirst("status=".count)))
    }

    @Test("a sandboxed crash ends at once, with the signal the untraced namespace init dies of",
          arguments: ["segv", "abort", "term-self"])
    func sandboxedCrash(how: String) throws {
        let started = Date()
        let result = try Tracer.run(LaunchOptions(arguments: [Products.fixture, "crash", how], sandbox: Sandbox(), timeout: 30))
        #expect(!result.timedOut, "\(how): still running at the timeout")
        #expect(Date().timeIntervalSince(started) < 10)
        let native = try Self.nativeStatus(how)
        let traced = result.termSignal.map { 128 + $0 } ?? result.exitCode ?? -1
        #expect(traced == native, "\(how): traced sandbox ended with \(traced), untraced namespace init with \(native)")
        if how == "segv" { #expect(result.termSignal == SIGSEGV) }
        if how == "term-self" { #expect(result.exitCode == 3, "a namespace init survives its own SIGTERM") }
    }

    @Test("a caught signal still reaches the sandboxed init's handler")
    func caughtSignal() throws {
        let result = try Tracer.run(LaunchOptions(arguments: [Products.fixture, "signal"], sandbox: Sandbox(), timeout: 30))
        #expect(result.exitCode == 0 && result.termSignal == nil)
    }
}
