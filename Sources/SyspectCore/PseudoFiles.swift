/// Pseudo-files (paths under /proc, /sys and /dev) named by system calls: which calls name a path
/// and in which argument, how a relative path is resolved and how a path is normalised. Pure.
/// See docs/features.md.
public enum PseudoFiles {
    /// Where a system call names a path: the path argument and, for the *at calls, the
    /// directory-fd argument a relative path is resolved against (`AT_FDCWD`: the working directory).
    public struct PathArgument: Sendable, Hashable {
        public var path: Int
        public var dirfd: Int?
    }

    /// `AT_FDCWD`.
    public static let atFDCWD: Int32 = -100

    /// x86-64 number → where the call names its path: open, creat, openat, openat2, the stat
    /// family and statx, access/faccessat/faccessat2, readlink(at), execve(at).
    public static let pathArguments: [Int: PathArgument] = {
        let rows: [(String, Int, Int?)] = [
            ("open", 0, nil), ("creat", 0, nil), ("openat", 1, 0), ("openat2", 1, 0),
            ("stat", 0, nil), ("lstat", 0, nil), ("newfstatat", 1, 0), ("statx", 1, 0),
            ("access", 0, nil), ("faccessat", 1, 0), ("faccessat2", 1, 0),
            ("readlink", 0, nil), ("readlinkat", 1, 0), ("execve", 0, nil), ("execveat", 1, 0),
        ]
        var table: [Int: PathArgument] = [:]
        for (name, path, dirfd) in rows {
            guard let number = SyscallTable.number(named: name) else { preconditionFailure("no syscall \(name)") }
            table[number] = PathArgument(path: path, dirfd: dirfd)
        }
        return table
    }()

    /// The directories whose paths are pseudo-files.
    public static let roots = ["/proc", "/sys", "/dev"]

    /// Whether a normalised absolute path is a pseudo-file: one of `roots` or below it.
    public static func isPseudo(_ path: String) -> Bool {
        roots.contains { path == $0 || path.hasPrefix($0 + "/") }
    }

    /// The dirfd a call resolves a relative path against (`atFDCWD` for the working directory),
    /// from the low 32 bits of its argument (an `int` in the kernel).
    public static func dirfd(of syscall: Int, arguments: [UInt64]) -> Int32 {
        guard let index = pathArguments[syscall]?.dirfd, index < arguments.count else { return atFDCWD }
        return Int32(truncatingIfNeeded: arguments[index])
    }

    /// The absolute, normalised form of `path` as a call names it; `base` is the directory a
    /// relative path is resolved against (the working directory or the dirfd's path). nil when
    /// `path` is empty (`AT_EMPTY_PATH`: the call names the fd, not a path) or relative without a base.
    public static func normalisedPath(_ path: String, base: String?) -> String? {
        guard !path.isEmpty else { return nil }
        guard let absolute = resolve(path, base: base) else { return nil }
        return normalise(absolute)
    }

    /// `path` made absolute against `base` and folded lexically: `.` dropped, `..` removes the
    /// previous component (never above /), repeated and trailing slashes collapsed.
    /// nil when `path` is relative and `base` is nil or not absolute.
    public static func resolve(_ path: String, base: String?) -> String? {
        let full: String
        if path.hasPrefix("/") {
            full = path
        } else {
            guard let base, base.hasPrefix("/") else { return nil }
            full = base + "/" + path
        }
        var parts: [Substring] = []
        for part in full.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Per-process paths made comparable across runs: `/proc/1234/…` → `/proc/<pid>/…` and
    /// `/proc/<pid>/task/1235/…` (or `/proc/self/task/1235/…`) → `…/task/<tid>/…`.
    /// `/proc/self/…` and `/proc/thread-self/…` are kept as such. `path` is absolute and folded
    /// (see `resolve`).
    public static func normalise(_ path: String) -> String {
        var parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.first == "proc", parts.count > 1 else { return path }
        if isNumber(parts[1]) { parts[1] = "<pid>" }
        if parts.count > 3, parts[2] == "task", isNumber(parts[3]) { parts[3] = "<tid>" }
        return "/" + parts.joined(separator: "/")
    }

    private static func isNumber(_ s: Substring) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}
