import CSyspect
import Foundation
import SyspectCore

/// The census counted in the kernel: eBPF programs on the raw tracepoints `sys_enter` (calls)
/// and `sys_exit` (failures by errno) count the x86-64 calls of the processes the tracer marks
/// as targets, so those calls need no ptrace stop at all.
///
/// What the programs leave to the tracer: execve/execveat (the exec that starts a target counts
/// for it), i386 calls (the kernel's `TS_COMPAT`) and x32 numbers, numbers beyond the kernel's
/// table (`maxNumber` and above), and calls the tracer skips (interposed: the kernel never
/// enters them). A call that ends while its process is being killed (SIGKILL pending) has no
/// counted result, as under ptrace, which never stops there. The programs see the kernel's
/// global pids, so this census is only used when syspect runs in the initial pid namespace.
///
/// Nothing is lost silently when a map is full: a target the full target map refuses
/// (`setTarget` returns false) is counted by the tracer instead, and a failure whose
/// (number, errno) pair the full failure map refuses is still counted under its number
/// (`collect` returns how many lost their errno).
///
/// Owned by one trace's tracer thread; `close()` (also on deinit) detaches the programs and
/// frees the maps.
final class KernelCensus {
    private var fds = csy_bpf_census(
        targets: -1, calls: -1, failures: -1, unrecorded: -1, enter_prog: -1, exit_prog: -1, enter_link: -1,
        exit_link: -1, targets_max: 0, failures_max: 0)
    private let countFailures: Bool

    /// x86-64 numbers the programs count: 0 ..< maxNumber.
    static let maxNumber = Int(CSY_BPF_MAX_NR)

    /// Map sizes (nil: the default: live targets up to pid_max, at least 8192 and at most
    /// 65536; 4096 (number, errno) pairs).
    struct Capacity: Sendable, Hashable {
        var targets: Int?
        var failures: Int?

        /// Tests only: `SYSPECT_TEST_EBPF_TARGETS` / `SYSPECT_TEST_EBPF_FAILURES` (positive
        /// integers; anything else keeps the default), so that a test overflows the maps with
        /// a few processes.
        static func testOverrides(_ environment: [String: String]) -> Capacity {
            func value(_ name: String) -> Int? {
                guard let text = environment[name], let n = UInt32(text), n > 0 else { return nil }
                return Int(n)
            }
            return Capacity(targets: value("SYSPECT_TEST_EBPF_TARGETS"), failures: value("SYSPECT_TEST_EBPF_FAILURES"))
        }
    }

    /// Why the kernel census cannot run here.
    struct Unavailable: Error, Sendable, Equatable, CustomStringConvertible {
        var step: String
        var errno: Int32

        var description: String {
            guard errno != 0 else { return step }
            return "\(step): \(String(cString: strerror(errno)))"
        }
    }

    /// Loads and attaches the programs.
    init(countFailures: Bool, capacity: Capacity = Capacity()) throws(Unavailable) {
        self.countFailures = countFailures
        guard csy_in_initial_pid_namespace() != 0 else {
            throw Unavailable(step: "syspect does not run in the initial pid namespace (eBPF sees global pids)", errno: 0)
        }
        var stage: Int32 = 0
        let sizes = csy_bpf_capacity(targets: UInt32(capacity.targets ?? 0), failures: UInt32(capacity.failures ?? 0))
        guard csy_bpf_census_open(&fds, countFailures ? 1 : 0, sizes, &stage, nil, 0) == 0 else {
            let e = errno
            switch UInt32(stage) {
            case CSY_BPF_STAGE_MAPS.rawValue: throw Unavailable(step: "bpf map create", errno: e)
            case CSY_BPF_STAGE_LOAD.rawValue: throw Unavailable(step: "bpf program load", errno: e)
            case CSY_BPF_STAGE_BTF.rawValue: throw Unavailable(step: "kernel layout from /sys/kernel/btf/vmlinux", errno: e)
            default: throw Unavailable(step: "bpf raw tracepoint attach", errno: e)
            }
        }
    }

    deinit { close() }

    /// Live target processes the target map holds.
    var targetCapacity: Int { Int(fds.targets_max) }
    /// (number, errno) pairs the failure map holds.
    var failureCapacity: Int { Int(fds.failures_max) }

    /// Marks a process (tgid) as a target or not. Call only while its threads are stopped
    /// (or before it runs), so that no call falls between the tracer's decision and the map's.
    /// false: the map could not take the target (full): its calls are not counted in the kernel.
    func setTarget(_ pid: Int32, _ isTarget: Bool) -> Bool {
        csy_bpf_census_set_target(&fds, pid, isTarget ? 1 : 0) == 0 || !isTarget
    }

    /// Adds the kernel's counts to `census`. Returns the failures whose (number, errno) pair
    /// the full failure map could not take: counted, under the errno name `unrecorded`.
    func collect(into census: inout CensusCounter) -> Int {
        var calls = [UInt64](repeating: 0, count: Self.maxNumber)
        if csy_bpf_census_read_calls(&fds, &calls, Int32(calls.count)) == 0 {
            for (number, count) in calls.enumerated() where count > 0 { census.call(.x86_64, number, count: Int(count)) }
        }
        guard countFailures else { return 0 }
        var failures = [csy_bpf_failure](repeating: csy_bpf_failure(), count: failureCapacity)
        let n = csy_bpf_census_read_failures(&fds, &failures, Int32(failures.count))
        for failure in failures.prefix(Int(max(n, 0))) {
            census.result(.x86_64, Int(failure.number), -Int64(failure.error), count: Int(failure.count))
        }
        var unrecorded = [UInt64](repeating: 0, count: Self.maxNumber)
        guard csy_bpf_census_read_unrecorded(&fds, &unrecorded, Int32(unrecorded.count)) == 0 else { return 0 }
        for (number, count) in unrecorded.enumerated() where count > 0 {
            census.unrecordedFailures(.x86_64, number, count: Int(count))
        }
        return unrecorded.reduce(0) { $0 + Int($1) }
    }

    /// Detaches the programs and closes every descriptor (idempotent).
    func close() { csy_bpf_census_close(&fds) }
}
