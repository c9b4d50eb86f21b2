import Foundation

/// What a faked system call returns instead of running: a constant, or a value computed from
/// the call's arguments at the stop (only the tracer can do the latter: a seccomp filter's
/// `SECCOMP_RET_ERRNO` returns 0 or -errno, nothing else).
public enum FakeValueRule: Sendable, Hashable, Codable, CustomStringConvertible {
    /// This value (0 is the paper's only fake value).
    case constant(Int64)
    /// The value of argument `index`: a requested length ("wrote all `count` bytes"), a
    /// requested descriptor (`dup2`'s `newfd`), a requested offset.
    case argument(Int)
    /// The sum of `iov_len` over the `struct iovec` array at argument `vector` with argument
    /// `count` entries, read from the tracee's memory ("wrote every byte of every buffer").
    case iovecTotal(vector: Int, count: Int)
    /// The same sum over the `msg_iov` / `msg_iovlen` of the `struct msghdr` at argument `header`
    /// (`sendmsg`).
    case messageTotal(header: Int)

    /// 0: the paper's fake, which a seccomp filter can apply in the kernel.
    public static let zero = FakeValueRule.constant(0)

    /// Whether the kernel can apply it (a constant 0 is `SECCOMP_RET_ERRNO | 0`).
    public var isZero: Bool { self == .zero }

    /// Canonical text, stored in the database and parsed back by `init?(text:)`:
    /// "0", "1000", "arg2", "iovec(arg1,arg2)", "msghdr(arg1)".
    public var text: String {
        switch self {
        case .constant(let v): return String(v)
        case .argument(let i): return "arg\(i)"
        case .iovecTotal(let v, let c): return "iovec(arg\(v),arg\(c))"
        case .messageTotal(let h): return "msghdr(arg\(h))"
        }
    }

    /// For people: "0", "1000", "argument 2", "iovec total", "msghdr iovec total".
    public var description: String {
        switch self {
        case .constant(let v): return String(v)
        case .argument(let i): return "argument \(i)"
        case .iovecTotal: return "iovec total"
        case .messageTotal: return "msghdr iovec total"
        }
    }

    /// Encoded as its `text` ("arg2", "iovec(arg1,arg2)", "1000").
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let rule = FakeValueRule(text: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a fake value rule")
        }
        self = rule
    }

    /// Parses `text`; nil for anything else.
    public init?(text: String) {
        func argument(_ s: Substring) -> Int? {
            guard s.hasPrefix("arg"), let i = Int(s.dropFirst(3)), (0..<6).contains(i) else { return nil }
            return i
        }
        if let v = Int64(text) {
            self = .constant(v)
        } else if let i = argument(Substring(text)) {
            self = .argument(i)
        } else if text.hasPrefix("iovec("), text.hasSuffix(")") {
            let inner = text.dropFirst(6).dropLast().split(separator: ",")
            guard inner.count == 2, let v = argument(inner[0]), let c = argument(inner[1]) else { return nil }
            self = .iovecTotal(vector: v, count: c)
        } else if text.hasPrefix("msghdr("), text.hasSuffix(")"), let h = argument(text.dropFirst(7).dropLast()) {
            self = .messageTotal(header: h)
        } else {
            return nil
        }
    }
}

/// One line of the fake-value table: a system call, its plausible success value (nil: none
/// better than 0 exists or can be made up) and why.
public struct FakeValueEntry: Sendable, Hashable, Codable {
    public var syscall: Int
    public var rule: FakeValueRule?
    public var why: String

    public init(syscall: Int, rule: FakeValueRule?, why: String) {
        self.syscall = syscall
        self.rule = rule
        self.why = why
    }

    public var name: String { SyscallTable.displayName(of: syscall) }
}

/// The per-syscall table of plausible success values beyond 0 (issue 5, docs/explore.md
/// "Fake values"). A call absent from the table has no better fake than 0.
///
/// The guiding question per entry: what would a caller that checks the result see from a
/// working kernel when the call did nothing useful? A write that "wrote everything" returns the
/// requested length (returning 0 makes a write loop spin or give up); a call that names the
/// descriptor or offset it asks for returns it; a call that must fill memory it cannot fill
/// (mmap, pipe, read into a buffer) has no honest value.
public enum FakeValues {
    /// A pid for getpid-like calls: not 0 (fork's child) and not 1 (init), so code testing either
    /// does not misfire.
    public static let plausiblePid: Int64 = 1000
    /// A descriptor number no process normally reaches: a later use fails with EBADF (the
    /// resource really is missing) instead of touching stdin, which a fake 0 would name.
    public static let unusedDescriptor: Int64 = 1023

    /// The table, by name (numbers resolved through the generated syscall table).
    public static let entries: [FakeValueEntry] = rows.compactMap { name, rule, why in
        SyscallTable.number(named: name).map { FakeValueEntry(syscall: $0, rule: rule, why: why) }
    }

    /// The plausible value of `syscall`, nil when 0 is the best fake the table knows.
    public static func rule(for syscall: Int) -> FakeValueRule? { bySyscall[syscall]?.rule }

    /// The table's line of `syscall`, when it has one.
    public static func entry(for syscall: Int) -> FakeValueEntry? { bySyscall[syscall] }

    private static let bySyscall: [Int: FakeValueEntry] =
        Dictionary(entries.map { ($0.syscall, $0) }, uniquingKeysWith: { a, _ in a })

    private static let lengthWritten = "the requested length: every byte was \"written\"; 0 makes write loops spin or treat the peer as gone"
    private static let vectorWritten = "the total of the iovec lengths (read from the tracee): every buffer was \"written\""
    private static let newDescriptor = "an unused descriptor (1023): the caller sees success and a later use fails EBADF; 0 would alias stdin"
    private static let noValue = "none: the result must describe memory or descriptors the call did not create"

    private static let rows: [(String, FakeValueRule?, String)] = [
        // The write family.
        ("write", .argument(2), lengthWritten),
        ("pwrite64", .argument(2), lengthWritten),
        ("sendto", .argument(2), lengthWritten),
        ("writev", .iovecTotal(vector: 1, count: 2), vectorWritten),
        ("pwritev", .iovecTotal(vector: 1, count: 2), vectorWritten),
        ("pwritev2", .iovecTotal(vector: 1, count: 2), vectorWritten),
        ("vmsplice", .iovecTotal(vector: 1, count: 2), vectorWritten),
        ("sendmsg", .messageTotal(header: 1), "the total of the message's iovec lengths: the whole message was \"sent\""),
        ("sendmmsg", .argument(2), "vlen: every message was \"sent\""),
        ("sendfile", .argument(3), "count: every byte was \"copied\""),
        ("splice", .argument(4), "len: every byte was \"moved\""),
        ("tee", .argument(2), "len: every byte was \"duplicated\""),
        ("copy_file_range", .argument(4), "len: every byte was \"copied\""),
        // Requests that name their own result.
        ("dup2", .argument(1), "newfd, as a working dup2 returns it"),
        ("dup3", .argument(1), "newfd, as a working dup3 returns it"),
        ("lseek", .argument(1), "the requested offset (exact for SEEK_SET, the common case)"),
        ("getrandom", .argument(1), "buflen: the buffer was \"filled\" (its old bytes stay)"),
        ("umask", .constant(0o022), "the usual previous mask 022; 0 claims a world-writable default"),
        // Process identity.
        ("getpid", .constant(plausiblePid), "a pid that is neither 0 nor 1"),
        ("gettid", .constant(plausiblePid), "the main thread's tid equals its pid"),
        ("getppid", .constant(1), "init: the parent of a daemon"),
        ("getpgrp", .constant(plausiblePid), "a process group led by the process itself"),
        ("getpgid", .constant(plausiblePid), "a process group led by the process itself"),
        ("getsid", .constant(plausiblePid), "a session led by the process itself"),
        ("setsid", .constant(plausiblePid), "the new session's id is the caller's pid"),
        ("getpriority", .constant(20), "the kernel returns 20 - nice: nice 0"),
        // Calls that create a descriptor.
        ("open", .constant(unusedDescriptor), newDescriptor),
        ("openat", .constant(unusedDescriptor), newDescriptor),
        ("socket", .constant(unusedDescriptor), newDescriptor),
        ("accept", .constant(unusedDescriptor), newDescriptor),
        ("accept4", .constant(unusedDescriptor), newDescriptor),
        ("dup", .constant(unusedDescriptor), newDescriptor),
        ("epoll_create", .constant(unusedDescriptor), newDescriptor),
        ("epoll_create1", .constant(unusedDescriptor), newDescriptor),
        ("eventfd2", .constant(unusedDescriptor), newDescriptor),
        ("timerfd_create", .constant(unusedDescriptor), newDescriptor),
        ("signalfd4", .constant(unusedDescriptor), newDescriptor),
        ("inotify_init1", .constant(unusedDescriptor), newDescriptor),
        ("memfd_create", .constant(unusedDescriptor), newDescriptor),
        // Process creation: the parent sees a child that never runs.
        ("fork", .constant(plausiblePid), "a child pid for the parent; 0 would make the parent run the child's code"),
        ("vfork", .constant(plausiblePid), "a child pid for the parent; 0 would make the parent run the child's code"),
        ("clone", .constant(plausiblePid), "a child pid for the parent; 0 would make the parent run the child's code"),
        ("clone3", .constant(plausiblePid), "a child pid for the parent; 0 would make the parent run the child's code"),
        // Documented as having no better value than 0 (or none at all).
        ("read", nil, "0 is the plausible value: end of file"),
        ("pread64", nil, "0 is the plausible value: end of file"),
        ("readv", nil, "0 is the plausible value: end of file"),
        ("recvfrom", nil, "0 is the plausible value: the peer closed"),
        ("recvmsg", nil, "0 is the plausible value: the peer closed"),
        ("mmap", nil, noValue + " (an address nothing is mapped at faults on first use)"),
        ("mremap", nil, noValue),
        ("brk", nil, noValue + " (claiming the requested break maps nothing)"),
        ("pipe", nil, noValue + " (the two descriptors are never written)"),
        ("pipe2", nil, noValue + " (the two descriptors are never written)"),
        ("socketpair", nil, noValue + " (the two descriptors are never written)"),
        ("readlink", nil, noValue + " (a length would describe an unwritten buffer)"),
        ("getcwd", nil, noValue + " (a length would describe an unwritten buffer)"),
        ("fcntl", nil, "0 serves the setters; the getters' values depend on the command (a sub-feature matter)"),
        ("ioctl", nil, "0 is success for nearly every request"),
    ]
}
