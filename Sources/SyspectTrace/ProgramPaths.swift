import Foundation

/// Finding programs and matching executables against `--target` values.
enum ProgramPaths {
    /// Resolves argv[0] like a shell: a name with a slash is used as is, anything else is looked
    /// up in `path` (PATH). Throws `programNotFound` / `programNotExecutable`.
    static func resolve(_ name: String, path: String?) throws -> String {
        if name.isEmpty { throw TraceError.emptyCommand }
        if name.contains("/") {
            try checkExecutable(name)
            return name
        }
        var firstNonExecutable: (String, Int32)?
        for dir in (path ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").split(separator: ":") {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            do {
                try checkExecutable(candidate)
                return candidate
            } catch TraceError.programNotExecutable(let p, let e) {
                if firstNonExecutable == nil { firstNonExecutable = (p, e) }
            } catch {}
        }
        if let (p, e) = firstNonExecutable { throw TraceError.programNotExecutable(p, errno: e) }
        throw TraceError.programNotFound(name)
    }

    private static func checkExecutable(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { throw TraceError.programNotFound(path) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw TraceError.programNotExecutable(path, errno: EISDIR) }
        if access(path, X_OK) != 0 { throw TraceError.programNotExecutable(path, errno: errno) }
    }

    /// The real path of `path` (symlinks resolved), or nil.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Target of a /proc symlink such as /proc/PID/exe.
    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return buffer.withUnsafeBufferPointer { String(decoding: UnsafeRawBufferPointer($0).prefix(n), as: UTF8.self) }
    }
}

/// Decides whether an executable is a target: its real path equals a target given as a path
/// (or found through PATH), or its basename equals a target's name.
struct TargetMatcher: Sendable {
    /// (target as given, real paths it stands for, basename it stands for)
    private let targets: [(value: String, realPaths: Set<String>, basename: String)]

    init(_ values: [String], path: String?) {
        targets = values.map { value in
            var paths: Set<String> = []
            if value.contains("/") {
                if let real = ProgramPaths.realPath(value) { paths.insert(real) }
            } else if let found = try? ProgramPaths.resolve(value, path: path), let real = ProgramPaths.realPath(found) {
                paths.insert(real)  // e.g. `python3` → /usr/bin/python3.11
            }
            return (value, paths, (value as NSString).lastPathComponent)
        }
    }

    var matchesEverything: Bool { targets.isEmpty }

    /// The target values `exe` matches (all of them when no targets were given: [""]).
    func matches(_ exe: String) -> [String] {
        if targets.isEmpty { return [""] }
        let base = (exe as NSString).lastPathComponent
        return targets.filter { $0.realPaths.contains(exe) || $0.basename == base }.map(\.value)
    }

    var values: [String] { targets.map(\.value) }
}
