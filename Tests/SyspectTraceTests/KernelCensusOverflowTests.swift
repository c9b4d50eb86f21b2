import Foundation
import SyspectCore
import SyspectTestSupport
@testable import SyspectTrace
import Testing

/// Full eBPF maps lose nothing silently: a target the full target map refuses is counted by the
/// tracer (exact), a failure the full failure map refuses keeps its count and loses only its
/// errno, which the result reports. The maps are made small for these tests
/// (`LaunchOptions.kernelCensusCapacity`, `SYSPECT_TEST_EBPF_*`); a shadow eBPF census of
/// default size counts the same run, so both countings are compared call by call.
@Suite(.serialized) struct KernelCensusOverflowTests {
    let fixture = Products.fixture

    /// The entries the eBPF programs count: x86-64 below their table's end, exec calls excluded.
    func kernelCounted(_ census: [CensusEntry]) -> [CensusEntry] {
        census.filter {
            $0.arch == .x86_64 && $0.number >= 0 && $0.number < KernelCensus.maxNumber
                && !LaunchPlan.execNumbers.contains($0.number)
        }
    }

    /// Runs `args` under the eBPF census with these map sizes, beside a default-size shadow.
    func run(_ args: [String], targets: Int? = nil, failures: Int? = nil) throws -> (TraceResult, [CensusEntry]) {
        var options = LaunchOptions(arguments: [fixture] + args, targets: [fixture], censusMethod: .ebpf)
        options.kernelCensusCapacity = KernelCensus.Capacity(targets: targets, failures: failures)
        options.shadowKernelCensus = true
        let traced = try Tracer.launch(options)
        let result = traced.wait()
        #expect(result.exitCode == 0, "\(args)")
        #expect(result.censusMethod == .ebpf)
        return (result, try #require(traced.session.shadowEntries, "the shadow census loaded"))
    }

    /// Processes beyond a 1-entry target map (only the launched process fits): threads, fork,
    /// vfork, posix_spawn, exec from a thread, i386 and x32 calls and failures in the refused
    /// children; 40 children alive at once.
    static let crowded: [(args: [String], refused: Int)] = [
        (["spawn", "threads", "4", "250"], 1), (["fork", "40"], 1), (["vfork", "repeat", "39", "33"], 1),
        (["spawn", "exec-from-thread", "repeat", "39", "77"], 1), (["spawn", "int80", "5"], 1),
        (["spawn", "x32", "6"], 1), (["spawn", "fail", "17"], 1), (["crowd", "40", "5"], 40),
    ]

    @Test(arguments: crowded)
    func targetsTheFullMapRefusesAreCountedExactlyByTheTracer(scenario: (args: [String], refused: Int)) throws {
        let (result, shadow) = try run(scenario.args, targets: 1)
        let overflow = try #require(result.censusOverflow, "a 1-entry target map overflows")
        #expect(overflow.processesCountedByPtrace == scenario.refused)
        #expect(overflow.targetCapacity == 1)
        #expect(overflow.failuresWithoutErrno == 0)
        #expect(overflow.notice?.contains("\(scenario.refused) target processes") == true)
        #expect(overflow.warning == nil, "nothing was lost")
        #expect(!shadow.isEmpty)
        #expect(kernelCounted(result.census) == shadow, "the same counts as an eBPF census with room for all")
    }

    /// A call the tracer stubs in a process it counts itself is counted once (at its entry),
    /// with the stub's result (at its exit).
    @Test func interposedCallsOfRefusedTargetsCountOnce() throws {
        var options = LaunchOptions(arguments: [fixture, "spawn", "expect", "110", "5", "-38"], targets: [fixture],
                                    interposition: Interposition(stub: [110]), censusMethod: .ebpf)
        options.kernelCensusCapacity = KernelCensus.Capacity(targets: 1)
        let result = try Tracer.run(options)
        #expect(result.exitCode == 0, "the child saw ENOSYS five times")
        #expect(result.censusOverflow?.processesCountedByPtrace == 1)
        #expect(result.interposed == [110: 5])
        #expect(result.entry(110)?.calls == 5)
        #expect(result.entry(110)?.errnos == ["ENOSYS": 5])
    }

    /// 41 processes alive at once (the fixture and 40 children) in a 16-entry map: the 25 the
    /// map cannot take are counted by the tracer, the census equals the ptrace census's.
    @Test func moreLiveProcessesThanTheMapHoldsCountLikePtrace() throws {
        let (small, shadow) = try run(["crowd", "40", "5"], targets: 16)
        #expect(small.censusOverflow?.processesCountedByPtrace == 25)
        #expect(kernelCounted(small.census) == shadow)
        let ptrace = try Tracer.run(LaunchOptions(arguments: [fixture, "crowd", "40", "5"], targets: [fixture],
                                                  censusMethod: .ptrace))
        #expect(small.census == ptrace.census, "whole census, exec included")
        #expect(small.calls(110) == 40 * 5)  // getppid
        #expect(small.entry(263)?.errnos == ["ENOENT": 40])  // unlinkat

        let (normal, normalShadow) = try run(["crowd", "40", "5"])
        #expect(normal.censusOverflow == nil, "the default map holds 41 processes")
        #expect(normal.census == ptrace.census)
        #expect(kernelCounted(normal.census) == normalShadow)
    }

    /// 100 short-lived children one after another through a 2-entry map (the fixture and one
    /// child): each ended child frees its entry, so none is refused.
    @Test func endedProcessesFreeTheirEntries() throws {
        let (result, shadow) = try run(["serial", "100", "3"], targets: 2)
        #expect(result.censusOverflow == nil, "\(String(describing: result.censusOverflow))")
        #expect(result.calls(110) == 300)
        #expect(kernelCounted(result.census) == shadow)
    }

    /// 12 distinct (number, errno) pairs (and the loader's own failures) in a 4-pair map: the
    /// failures keep their count, those of the refused pairs lose only their errno, and the
    /// result says how many.
    @Test func failuresTheFullMapRefusesKeepTheirCountAndAreReported() throws {
        let (result, shadow) = try run(["errnos", "3"], failures: 4)
        let overflow = try #require(result.censusOverflow, "a 4-pair failure map overflows")
        #expect(overflow.failureCapacity == 4)
        #expect(overflow.processesCountedByPtrace == 0)
        let counted = kernelCounted(result.census)
        let exact = Dictionary(uniqueKeysWithValues: shadow.map { ($0.number, $0) })
        #expect(counted.map(\.number) == shadow.map(\.number))
        var recordedPairs = 0
        var unrecorded = 0
        for entry in counted {
            let truth = try #require(exact[entry.number])
            #expect(entry.calls == truth.calls && entry.failures == truth.failures, "\(entry.name): counts are exact")
            #expect(entry.errnos.values.reduce(0, +) == entry.failures, "\(entry.name): every failure is listed")
            for (name, count) in entry.errnos {
                if name == CensusCounter.unrecordedErrnoName {
                    unrecorded += count
                } else {
                    // A pair is either in the map from its first failure on, or never.
                    #expect(count == truth.errnos[name], "\(entry.name) \(name)")
                    recordedPairs += 1
                }
            }
        }
        #expect(recordedPairs == 4, "the map holds exactly its capacity")
        #expect(unrecorded == overflow.failuresWithoutErrno)
        let total = shadow.reduce(0) { $0 + $1.failures }
        #expect(overflow.failuresWithoutErrno >= 3 * (12 - 4) && overflow.failuresWithoutErrno < total)
        let warning = try #require(overflow.warning)
        #expect(warning.contains("\(overflow.failuresWithoutErrno) failed calls") && warning.contains("4 (number, errno) pairs"))
    }

    @Test func theDefaultMapsHoldPidMaxProcessesAnd4096Pairs() throws {
        let census = try KernelCensus(countFailures: true)
        let pidMax = Int(try String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(census.targetCapacity == min(max(pidMax, 8192), 65536))
        #expect(census.failureCapacity == 4096)
        census.close()
    }

    @Test func testCapacitiesComeFromTheEnvironmentOnlyWhenValid() {
        let set = KernelCensus.Capacity.testOverrides(["SYSPECT_TEST_EBPF_TARGETS": "16", "SYSPECT_TEST_EBPF_FAILURES": "4"])
        #expect(set == KernelCensus.Capacity(targets: 16, failures: 4))
        for bad in ["0", "-3", "lots", "", "99999999999"] {
            #expect(KernelCensus.Capacity.testOverrides(["SYSPECT_TEST_EBPF_TARGETS": bad]) == KernelCensus.Capacity())
        }
    }

    /// `syspect trace` prints one line per overflow and stores it in the JSON report.
    @Test func theCLIPrintsAndStoresTheOverflow() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["SYSPECT_TEST_EBPF_FAILURES"] = "4"
        let lossy = try runProgram(Products.syspect, ["trace", "--census-method", "ebpf", "--json", "--output", "-",
                                                      "--", fixture, "errnos", "2"], environment: environment)
        #expect(lossy.status == 0, "\(lossy.stderr)")
        let report = try TraceReport.decode(Data(lossy.stdout.utf8))
        let overflow = try #require(report.result.censusOverflow)
        let unrecorded = report.result.census.compactMap { $0.errnos[CensusCounter.unrecordedErrnoName] }.reduce(0, +)
        #expect(overflow.failuresWithoutErrno == unrecorded && unrecorded > 0)
        let lines = lossy.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("syspect: warning: ")
                && lines[0].contains("\(unrecorded) failed calls are counted without their errno"), "\(lossy.stderr)")

        environment["SYSPECT_TEST_EBPF_FAILURES"] = nil
        environment["SYSPECT_TEST_EBPF_TARGETS"] = "1"
        let slow = try runProgram(Products.syspect, ["trace", "--census-method", "ebpf", "--json", "--output", "-",
                                                     "--", fixture, "crowd", "5", "2"], environment: environment)
        #expect(slow.status == 0, "\(slow.stderr)")
        let slowReport = try TraceReport.decode(Data(slow.stdout.utf8))
        #expect(slowReport.result.censusOverflow?.processesCountedByPtrace == 5)
        #expect(slowReport.result.calls(110) == 10)
        let notices = slow.stderr.split(separator: "\n")
        #expect(notices.count == 1 && notices[0].hasPrefix("syspect: notice: ")
                && notices[0].contains("5 target processes were counted with ptrace stops"), "\(slow.stderr)")
    }
}
