/// The instruction-set ABI a system call was made through. The seccomp filter checks it first:
/// `int $0x80` (i386) and x32 calls use other numbers and are never counted as x86-64 ones.
public enum Arch: String, Codable, Sendable, CaseIterable {
    case x86_64
    case i386
    case x32

    /// `AUDIT_ARCH_*` value as seen in `seccomp_data.arch` / `PTRACE_GET_SYSCALL_INFO`.
    public var auditArch: UInt32 {
        switch self {
        case .x86_64, .x32: return 0xC000_003E  // AUDIT_ARCH_X86_64 (x32 sets bit 30 in nr)
        case .i386: return 0x4000_0003  // AUDIT_ARCH_I386
        }
    }
}

/// Names and numbers of system calls, from generated data (see `SyscallTable+Generated.swift`).
public enum SyscallTable {
    /// Bit set in the number of an x32 call (`__X32_SYSCALL_BIT`).
    public static let x32Bit = 0x4000_0000

    private static let x86_64ByNumber: [Int: String] = Dictionary(uniqueKeysWithValues: x86_64Entries)
    private static let x86_64ByName: [String: Int] = Dictionary(
        x86_64Entries.map { ($0.1, $0.0) }, uniquingKeysWith: { first, _ in first })
    private static let i386ByNumber: [Int: String] = Dictionary(uniqueKeysWithValues: i386Entries)

    /// Every x86-64 system call number the table knows, ascending.
    public static let x86_64Numbers: [Int] = x86_64Entries.map(\.0)

    /// Highest x86-64 number in the table.
    public static var highestX86_64: Int { x86_64Entries.last!.0 }

    /// The name of `number` under `arch`, or nil when the table has no such call.
    /// x32 numbers are looked up with the x32 bit cleared (x32 shares the x86-64 table; its own
    /// entry points 512...547 carry the same names as their x86-64 counterparts).
    public static func name(of number: Int, arch: Arch = .x86_64) -> String? {
        switch arch {
        case .x86_64: return x86_64ByNumber[number]
        case .i386: return i386ByNumber[number]
        case .x32:
            let n = number & ~x32Bit
            return x86_64ByNumber[n] ?? x32LegacyNames[n]
        }
    }

    /// A printable name: the table's, or `syscall_N` for numbers it does not know.
    public static func displayName(of number: Int, arch: Arch = .x86_64) -> String {
        let base = name(of: number, arch: arch) ?? "syscall_\(number)"
        return arch == .x86_64 ? base : "\(arch.rawValue):\(base)"
    }

    /// The x86-64 number of `name`, or nil.
    public static func number(named name: String) -> Int? { x86_64ByName[name] }

    /// Known x86-64 names, for "did you mean" suggestions.
    public static var x86_64Names: [String] { x86_64Entries.map(\.1) }

    /// x32-only entry points (512...547) and the call each implements.
    private static let x32LegacyNames: [Int: String] = [
        512: "rt_sigaction", 513: "rt_sigreturn", 514: "ioctl", 515: "readv", 516: "writev",
        517: "recvfrom", 518: "sendmsg", 519: "recvmsg", 520: "execve", 521: "ptrace",
        522: "rt_sigpending", 523: "rt_sigtimedwait", 524: "rt_sigqueueinfo", 525: "sigaltstack",
        526: "timer_create", 527: "mq_notify", 528: "kexec_load", 529: "waitid",
        530: "set_robust_list", 531: "get_robust_list", 532: "vmsplice", 533: "move_pages",
        534: "preadv", 535: "pwritev", 536: "rt_tgsigqueueinfo", 537: "recvmmsg", 538: "sendmmsg",
        539: "process_vm_readv", 540: "process_vm_writev", 541: "setsockopt", 542: "getsockopt",
        543: "io_setup", 544: "io_submit", 545: "execveat", 546: "preadv2", 547: "pwritev2",
    ]
}
