import Foundation

/// Finds shared libraries the way this machine's dynamic loader does (ld.so(8)): a name with a
/// slash is a path; otherwise DT_RPATH (only when the object has no DT_RUNPATH), LD_LIBRARY_PATH,
/// DT_RUNPATH, /etc/ld.so.cache (read with `ldconfig -p`), then the default directories.
/// `$ORIGIN` expands to the requesting object's directory. hwcaps subdirectories are not tried.
public struct LibraryResolver: Sendable {
    /// Directories from LD_LIBRARY_PATH (the analysed program's, when known).
    public var libraryPath: [String]
    /// soname → path, x86-64 entries of the loader cache, first entry wins.
    public var cache: [String: String]
    public static let defaultDirectories = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"]

    public init(libraryPath: [String] = [], cache: [String: String]) {
        self.libraryPath = libraryPath
        self.cache = cache
    }

    /// The resolver of this machine: `ldconfig -p` read once, LD_LIBRARY_PATH from `environment`.
    public static func system(environment: [String: String] = ProcessInfo.processInfo.environment) -> LibraryResolver {
        let path = (environment["LD_LIBRARY_PATH"] ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty }
        return LibraryResolver(libraryPath: path, cache: parseLdconfig(runLdconfig()))
    }

    /// Parses `ldconfig -p` output: "\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1".
    public static func parseLdconfig(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let arrow = line.range(of: " => "), let paren = line.range(of: " (") else { continue }
            let name = line[..<paren.lowerBound].trimmingCharacters(in: .whitespaces)
            let flags = line[paren.upperBound..<arrow.lowerBound]
            guard flags.contains("x86-64"), !flags.contains("hwcap") else { continue }
            let path = String(line[arrow.upperBound...])
            if result[name] == nil { result[name] = path }
        }
        return result
    }

    static func runLdconfig() -> String {
        for candidate in ["/sbin/ldconfig", "/usr/sbin/ldconfig"] where FileManager.default.isExecutableFile(atPath: candidate) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: candidate)
            process.arguments = ["-p"]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            do { try process.run() } catch { continue }
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        return ""
    }

    /// The path the loader would open for `name` needed by an object at `requester` with these
    /// DT_RPATH / DT_RUNPATH entries, or nil when no candidate exists.
    public func resolve(_ name: String, requester: String, rpath: [String], runpath: [String],
                        exists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }) -> String? {
        if name.contains("/") { return exists(name) ? name : nil }
        let origin = (requester as NSString).deletingLastPathComponent
        func expand(_ dir: String) -> String {
            dir.replacingOccurrences(of: "${ORIGIN}", with: origin).replacingOccurrences(of: "$ORIGIN", with: origin)
        }
        var dirs: [String] = []
        if runpath.isEmpty { dirs += rpath.map(expand) }
        dirs += libraryPath
        dirs += runpath.map(expand)
        for dir in dirs {
            let candidate = dir + "/" + name
            if exists(candidate) { return candidate }
        }
        if let cached = cache[name], exists(cached) { return cached }
        for dir in Self.defaultDirectories {
            let candidate = dir + "/" + name
            if exists(candidate) { return candidate }
        }
        return nil
    }
}

/// The real path of an executable given as a path or a bare name (looked up in `searchPath`,
/// then /usr/sbin and /sbin, where servers live but a user's PATH often does not reach), or nil.
public func locateExecutable(_ name: String, searchPath: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
    if name.contains("/") { return FileManager.default.fileExists(atPath: name) ? realPath(name) : nil }
    let dirs = (searchPath ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map(String.init) + ["/usr/local/sbin", "/usr/sbin", "/sbin"]
    for dir in dirs where !dir.isEmpty {
        let candidate = dir + "/" + name
        if FileManager.default.isExecutableFile(atPath: candidate) { return realPath(candidate) }
    }
    return nil
}
