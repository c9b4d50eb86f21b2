import CSyspect
import Foundation
import SyspectCore

/// The census counted in the kernel: eBPF programs on the raw tracepoints `sys_enter` (calls)
/// and `sys_exit` (failures by errno) count the x86-64 calls of the processes the tracer marks
/// as targets, so those calls need no ptrace stop at all.
///
/// What the programs leave to the tracer: execve/execveat (the exec that starts a target counts
/// for it), i386 calls (the kernel's `TS_COMPAT`) and x32 numbers, and calls the tracer skips
/// (interposed: the kernel never enters them). A call that ends while its process is being
/// killed (SIGKILL pending) has no counted result, as under ptrace, which never stops there. The programs see the kernel's global pids, so
/// this census is only used when syspect runs in the initial pid namespace.
///
/// Owned by one trace's tracer thread; `close()` (also on deinit) detaches the programs and
/// frees the maps.
final class KernelCensus {
    private var fds = csy_bpf_census(
        targets: -1, calls: -1, failures: -1, enter_prog: -1, exit_prog: -1, enter_link: -1, exit_link: -1)
    private let countFailures: Bool

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
    init(countFailures: Bool) throws(Unavailable) {
        self.countFailures = countFailures
        guard csy_in_initial_pid_namespace() != 0 else {
            throw Unavailable(step: "syspect does not run in the initial pid namespace (eBPF sees global pids)", errno: 0)
        }
        var stage: Int32 = 0
        guard csy_bpf_census_open(&fds, countFailures ? 1 : 0, &stage, nil, 0) == 0 else {
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

    /// Marks a process (tgid) as a target or not. Call only while its threads are stopped
    /// (or before it runs), so that no call falls between the tracer's decision and the map's.
    func setTarget(_ pid: Int32, _ isTarget: Bool) {
        _ = csy_bpf_census_set_target(&fds, pid, isTarget ? 1 : 0)
    }

    /// Adds the kernel's counts to `census`.
    func collect(into census: inout CensusCounter) {
        var calls = [UInt64](repeating: 0, count: Int(CSY_BPF_MAX_NR))
        if csy_bpf_census_read_calls(&fds, &calls, Int32(calls.count)) == 0 {
            for (number, count) in calls.enumerated() where count > 0 { census.call(.x86_64, number, count: Int(count)) }
        }
        guard countFailures else { return }
        var failures = [csy_bpf_failure](repeating: csy_bpf_failure(), count: 4096)
        let n = csy_bpf_census_read_failures(&fds, &failures, Int32(failures.count))
        for failure in failures.prefix(Int(max(n, 0))) {
            census.result(.x86_64, Int(failure.number), -Int64(failure.error), count: Int(failure.count))
        }
    }

    /// Detaches the programs and closes every descriptor (idempotent).
    func close() { csy_bpf_census_close(&fds) }
}
