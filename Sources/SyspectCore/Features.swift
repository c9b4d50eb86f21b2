import Foundation

/// `(argument & mask) == value` on one 64-bit system call argument. Both 32-bit halves are
/// compared when matched in a seccomp filter (BPF loads 32 bits at a time): values above
/// INT_MAX (e.g. ioctl 0x80045430) match correctly.
public struct ArgumentCondition: Sendable, Hashable, Codable {
    /// Argument index, 0 ..< 6.
    public var index: Int
    public var mask: UInt64
    public var value: UInt64

    public init(index: Int, value: UInt64, mask: UInt64 = .max) {
        precondition((0..<6).contains(index), "system calls have six arguments")
        self.index = index
        self.mask = mask
        self.value = value & mask
    }

    /// Whether a call with these arguments satisfies the condition.
    public func holds(_ arguments: [UInt64]) -> Bool {
        index < arguments.count && arguments[index] & mask == value
    }
}

/// How the calls of one sub-feature are recognised.
public enum FeatureMatch: Sendable, Hashable, Codable {
    /// Every condition holds on the call's register arguments: a seccomp filter can match it
    /// in the kernel.
    case arguments([ArgumentCondition])
    /// `(*(u64 *)(argument[pointer] + offset) & mask) == value`: the value lives in the
    /// tracee's memory (clone3's `struct clone_args.flags`); only the tracer can match it.
    case memory(pointer: Int, offset: Int, mask: UInt64, value: UInt64)

    /// Whether a seccomp filter can match it without the tracer.
    public var inKernel: Bool {
        if case .arguments = self { return true }
        return false
    }
}

/// One sub-feature of a vectored system call (paper section 5.4): the calls of `syscall` whose
/// arguments select one request, command, option, resource or flag bit, e.g. `fcntl F_SETFL`,
/// `ioctl TCGETS`, `mmap PROT_EXEC`, `setsockopt SOL_SOCKET/SO_REUSEADDR`.
///
/// Flag sub-features are bit by bit: a call `mmap(PROT_READ|PROT_WRITE)` uses both the
/// `PROT_READ` and the `PROT_WRITE` sub-feature. Value sub-features (a command, a request)
/// are exclusive: a call uses exactly one.
public struct SubFeature: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// x86-64 system call number.
    public var syscall: Int
    /// The argument that selects it: "request", "cmd", "option", "code", "resource", "prot",
    /// "flags", "advice", "op", "domain", "type", "level/optname".
    public var argument: String
    /// The constant's name from the generated tables ("F_SETFL", "SOL_SOCKET/SO_REUSEADDR"), or
    /// the value in hex ("0x80045430") when no table names it.
    public var name: String
    public var match: FeatureMatch

    public init(syscall: Int, argument: String, name: String, match: FeatureMatch) {
        self.syscall = syscall
        self.argument = argument
        self.name = name
        self.match = match
    }

    /// The system call's name ("fcntl").
    public var syscallName: String { SyscallTable.displayName(of: syscall) }

    /// Canonical identity, stable across runs and stores: "fcntl:cmd=F_SETFL".
    public var key: String { "\(syscallName):\(argument)=\(name)" }

    /// For people: "fcntl F_SETFL".
    public var description: String { "\(syscallName) \(name)" }

    public static func < (a: SubFeature, b: SubFeature) -> Bool {
        (a.syscall, a.argument, a.name) < (b.syscall, b.argument, b.name)
    }
}

/// One sub-feature's line in a census: how often the target binaries used it.
public struct FeatureUse: Sendable, Hashable, Codable {
    public var feature: SubFeature
    public var calls: Int
    /// Calls that returned -errno (when the census counted failures).
    public var failures: Int

    public init(feature: SubFeature, calls: Int, failures: Int = 0) {
        self.feature = feature
        self.calls = calls
        self.failures = failures
    }
}

/// One pseudo-file (a path under /proc, /sys or /dev) the target binaries opened, stat'ed,
/// accessed, read as a link or executed.
///
/// Paths are absolute (relative ones resolved against the working directory or the dirfd) and
/// normalised: `/proc/1234/stat` → `/proc/<pid>/stat`, `/proc/1234/task/1235/comm` →
/// `/proc/<pid>/task/<tid>/comm`; `/proc/self/…` and `/proc/thread-self/…` are kept as such.
public struct PseudoFileUse: Sendable, Hashable, Codable, Comparable {
    public var path: String
    /// System call name ("openat", "newfstatat", "readlink", …) → calls on this path.
    public var calls: [String: Int]
    /// Calls on this path that returned -errno.
    public var failures: Int

    public init(path: String, calls: [String: Int], failures: Int = 0) {
        self.path = path
        self.calls = calls
        self.failures = failures
    }

    public var totalCalls: Int { calls.values.reduce(0, +) }

    public static func < (a: PseudoFileUse, b: PseudoFileUse) -> Bool { a.path < b.path }
}

/// How a pseudo-file is withheld in a probe: every call naming it fails with this errno.
public enum FileMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// `-ENOENT`: the file does not exist on the new OS.
    case absent
    /// `-ENOSYS`: the calls naming it are not implemented for it.
    case stub

    public var errno: Int32 { self == .absent ? 2 : 38 }
}
