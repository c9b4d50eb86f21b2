import Foundation
import SyspectCore
import SyspectTestSupport
@testable import SyspectTrace
import Testing

/// The eBPF census against the ptrace census: same counts, on the same run and on separate
/// runs; no descriptor left behind; a clear fallback where eBPF cannot run.
@Suite(.serialized) struct KernelCensusTests {
    let fixture = Products.fixture

    /// Fixture runs covering threads, fork, vfork, posix_spawn, exec from a non-leader thread,
    /// i386 calls, failures with errnos and a shell that is not a target.
    static let scenarios: [[String]] = [
        ["threads", "4", "250"], ["fork", "40"], ["vfork", "repeat", "39", "33"], ["spawn", "repeat", "39", "22"],
        ["exec-from-thread", "repeat", "39", "77"], ["int80", "5"], ["x32", "6"], ["fail", "17"],
    ]

    /// The ptrace census's entries the eBPF programs count too: x86-64, exec calls excluded
    /// (the tracer counts those under both methods).
    func kernelCounted(_ census: [CensusEntry]) -> [CensusEntry] {
        census.filter { $0.arch == .x86_64 && !LaunchPlan.execNumbers.contains($0.number) }
    }

    @Test(arguments: scenarios) func bothMethodsCountTheSameRunAlike(args: [String]) throws {
        var options = LaunchOptions(arguments: [fixture] + args, targets: [fixture], censusMethod: .ptrace)
        options.shadowKernelCensus = true
        let traced = try Tracer.launch(options)
        let result = traced.wait()
        #expect(result.exitCode == 0)
        let kernel = try #require(traced.session.shadowEntries, "the eBPF census loaded beside ptrace")
        let ptrace = kernelCounted(result.census)
        #expect(!kernel.isEmpty)
        #expect(Dictionary(uniqueKeysWithValues: kernel.map { ($0.number, $0.calls) })
            == Dictionary(uniqueKeysWithValues: ptrace.map { ($0.number, $0.calls) }), "calls")
        #expect(Dictionary(uniqueKeysWithValues: kernel.map { ($0.number, $0.errnos) })
            == Dictionary(uniqueKeysWithValues: ptrace.map { ($0.number, $0.errnos) }), "failures by errno")
        #expect(kernel == ptrace)
    }

    @Test func aShellScriptWithOneTargetBinaryCountsAlike() throws {
        let script = "\(fixture) fail 3; \(fixture) repeat 24 11; ls /nonexistent-syspect 2>/dev/null; true"
        var options = LaunchOptions(arguments: ["sh", "-c", script], targets: ["syspect-fixture"], censusMethod: .ptrace)
        options.shadowKernelCensus = true
        let traced = try Tracer.launch(options)
        let result = traced.wait()
        #expect(result.calls(24) == 11)
        #expect(traced.session.shadowEntries == kernelCounted(result.census))
    }

    /// Separate runs of deterministic fixture modes give the same whole census (exec, i386
    /// and x32 entries included) under both methods.
    /// Numbers beyond the eBPF programs' table (2000, -1) are trapped and counted by the tracer.
    @Test(arguments: [["fail", "9"], ["int80", "5"], ["x32", "6"], ["repeat", "110", "500"], ["repeat", "2000", "3"],
                      ["repeat", "-1", "2"], ["errnos", "2"]])
    func separateRunsGiveTheSameCensus(args: [String]) throws {
        let ebpf = try Tracer.run(LaunchOptions(arguments: [fixture] + args, targets: [fixture], censusMethod: .ebpf))
        let ptrace = try Tracer.run(LaunchOptions(arguments: [fixture] + args, targets: [fixture], censusMethod: .ptrace))
        #expect(ebpf.censusMethod == .ebpf && ptrace.censusMethod == .ptrace)
        #expect(ebpf.census == ptrace.census)
        #expect(ebpf.census.contains { $0.failures > 0 } == ptrace.census.contains { $0.failures > 0 })
    }

    @Test func theTracerAppliesAndCountsInterposedCallsUnderEBPF() throws {
        let result = try Tracer.run(LaunchOptions(
            arguments: [fixture, "expect", "110", "5", "-38"], targets: [fixture],
            interposition: Interposition(stub: [110]), censusMethod: .ebpf))
        #expect(result.exitCode == 0)
        #expect(result.interposed == [110: 5])
        #expect(result.entry(110)?.calls == 5, "skipped calls never reach sys_enter: counted once, by the tracer")
        #expect(result.entry(110)?.errnos == ["ENOSYS": 5])
    }

    /// Descriptors of this process that are eBPF objects (maps, programs, links).
    func bpfDescriptors() -> [String] {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
            .filter { $0.contains("bpf") }
    }

    @Test func everyTraceClosesItsPrograms() throws {
        let running = try Tracer.launch(LaunchOptions(arguments: [fixture, "sleep", "1"], censusMethod: .ebpf))
        #expect(bpfDescriptors().count >= 5, "a running eBPF census holds its maps, programs and links")
        _ = running.wait()
        for round in 0..<60 {
            let args = round % 3 == 0 ? ["no-such-mode-syspect"] : ["repeat", "39", "3"]
            _ = try Tracer.run(LaunchOptions(arguments: [fixture] + args, targets: [fixture], censusMethod: .ebpf))
        }
        #expect(throws: TraceError.programNotFound("no-such-program-syspect")) {
            try Tracer.run(LaunchOptions(arguments: ["no-such-program-syspect"], censusMethod: .ebpf))
        }
        // Other suites may trace meanwhile: their descriptors come and go; 60 leaked sets would stay.
        #expect(eventually(20) { bpfDescriptors().isEmpty }, "left open: \(bpfDescriptors())")
    }

    /// In a pid namespace of its own syspect cannot match the kernel's global pids: `auto`
    /// falls back to ptrace with a one-line notice, `ebpf` refuses with status 125.
    @Test func outsideTheInitialPidNamespaceAutoFallsBackToPtrace() throws {
        let auto = try runInPidNamespace(["trace", "--json", "--output", "-", "--", fixture, "repeat", "39", "6"])
        #expect(auto.status == 0)
        let notice = auto.stderr.split(separator: "\n").filter { $0.contains("notice") }
        #expect(notice.count == 1 && notice[0].contains("eBPF census unavailable") && notice[0].contains("ptrace"),
                "\(auto.stderr)")
        let report = try TraceReport.decode(Data(auto.stdout.utf8))
        #expect(report.result.censusMethod == .ptrace)
        #expect(report.result.census.first { $0.arch == .x86_64 && $0.number == 39 }?.calls == 6)

        let ebpf = try runInPidNamespace(["trace", "--census-method", "ebpf", "--", fixture, "exit", "0"])
        #expect(ebpf.status == 125)
        #expect(ebpf.stderr.split(separator: "\n").count == 1)
        #expect(ebpf.stderr.contains("--census-method ptrace"))
    }

    func runInPidNamespace(_ args: [String]) throws -> ProgramOutput {
        try runProgram("/usr/bin/unshare", ["--pid", "--fork", "--mount-proc", Products.syspect] + args)
    }
}
