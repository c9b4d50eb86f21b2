import CSyspect
import Foundation

/// Signals that reach the first process of a PID namespace while it is traced.
///
/// Natively such an init dies of a fault (the kernel forces the signal and clears its
/// unkillable flag) and of a fatal signal sent from an ancestor namespace, and ignores
/// default-action signals sent from inside its namespace. Traced, the kernel keeps it
/// unkillable: a re-injected default-action signal is dropped at delivery, so a segfault
/// repeats forever and the probe only ends at its timeout. The tracer restores the native
/// outcome: when `kernelWouldKill` holds it SIGKILLs the init and reports the signal as the
/// cause of death.
enum NamespaceInitSignals {
    /// Signals whose default action ends the process (man 7 signal: Term and Core), real-time
    /// signals included; the others are ignored (SIGCHLD, SIGCONT, SIGURG, SIGWINCH) or stop.
    static func terminatesByDefault(_ signal: Int32) -> Bool {
        switch signal {
        case SIGCHLD, SIGCONT, SIGURG, SIGWINCH, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU: return false
        default: return signal > 0 && signal < 65
        }
    }

    /// Whether an untraced namespace init would die of `signal`: its default action ends the
    /// process, the process neither catches nor ignores it, and it was sent by the kernel
    /// (`code` > 0: a fault, SI_KERNEL) or from outside the namespace (`sender` 0).
    static func kernelWouldKill(signal: Int32, code: Int32, sender: Int32, caught: Bool, ignored: Bool) -> Bool {
        guard terminatesByDefault(signal), !caught, !ignored else { return false }
        return code > 0 || sender == 0
    }

    /// `kernelWouldKill` for the stopped tracee `pid`, reading the signal's origin with
    /// PTRACE_GETSIGINFO and its disposition from /proc. False when either cannot be read.
    static func wouldKill(pid: Int32, signal: Int32) -> Bool {
        guard terminatesByDefault(signal) else { return false }
        var code: Int32 = 0, sender: Int32 = 0
        guard csy_ptrace_signal_origin(pid, &code, &sender) == 0,
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let caught = ProcStatus.maskHas(signal, line: "SigCgt:", status: status),
              let ignored = ProcStatus.maskHas(signal, line: "SigIgn:", status: status) else { return false }
        return kernelWouldKill(signal: signal, code: code, sender: sender, caught: caught, ignored: ignored)
    }
}

/// Signal dispositions from /proc/PID/status.
public enum ProcStatus {
    /// Bit `signal - 1` of a /proc/PID/status mask line (`SigCgt:`, `SigIgn:`), or nil when the
    /// line is absent or not hexadecimal.
    public static func maskHas(_ signal: Int32, line prefix: String, status: String) -> Bool? {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }),
              let mask = UInt64(line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
        return mask & (UInt64(1) << UInt64(signal - 1)) != 0
    }

    /// Whether process `pid` has a handler for `signal` (false when its status cannot be read).
    public static func catches(_ signal: Int32, pid: Int32) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
        return maskHas(signal, line: "SigCgt:", status: status) ?? false
    }
}
