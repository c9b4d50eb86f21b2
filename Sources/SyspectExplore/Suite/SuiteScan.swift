import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a suite leaves its results, for one probe (docs/suites.md).
public struct SuiteSettings: Sendable, Hashable, Codable {
    /// Folder searched for result files (`.trs`, `meson-logs/testlog.json`,
    /// `Testing/Temporary/LastTest*.log`, JUnit XML); `${SYSPECT_PROBE_DIR}` is the probe's folder.
    public var resultsDirectory: String
    /// File holding the suite's output (TAP, `prove` and automake console lines are read from
    /// it when no result file is found); `${SYSPECT_PROBE_DIR}` as above. nil: the command's stdout.
    public var outputFile: String?
    /// The targets were found automatically (`DebianSuite`): one that never runs in the baseline
    /// (a build tool such as a parser generator) is left out, not an error.
    public var targetsFound = false
    /// Where each target is in the build tree (name → absolute path): a suite's targets are
    /// names, matched by basename when the tests run them, and the static analysis needs the file.
    public var targetPaths: [String: String] = [:]

    public init(resultsDirectory: String, outputFile: String? = nil, targetsFound: Bool = false, targetPaths: [String: String] = [:]) {
        self.resultsDirectory = resultsDirectory
        self.outputFile = outputFile
        self.targetsFound = targetsFound
        self.targetPaths = targetPaths
    }
}

/// Reads a suite's results from disk: the result files under a folder, else the suite's output.
/// Remembers each file's size and modification time, so that scanning again while the suite
/// runs (early stop) reads only the files that changed.
public final class SuiteScan {
    public let root: String
    public let outputFile: String?
    private var cache: [String: (stamp: FileStamp, results: SuiteResults?)] = [:]


    /// Folders never searched: version control, libtool's and automake's internals.
    static let skippedFolders: Set<String> = [".git", ".svn", ".libs", ".deps", "autom4te.cache", ".pc"]

    public init(root: String, outputFile: String?) {
        self.root = root
        self.outputFile = outputFile
    }

    /// The results so far. `complete`: the suite has ended (a TAP plan's unreported points
    /// then fail). Result files take precedence: the output is parsed only when none is found.
    public func scan(complete: Bool) -> SuiteResults {
        var results = SuiteResults()
        var mesonFolders = Set<String>()
        var junit: [String] = []
        for path in resultFiles() {
            let name = lastComponent(path)
            let folder = parentPath(path)
            if name.hasSuffix(".trs") {
                let test = String(relative(path).dropLast(4))
                if let r = cached(path, parse: { text in
                    let log = try? String(contentsOfFile: String(path.dropLast(4)) + ".log", encoding: .utf8)
                    return SuiteParsers.automake(trs: text, log: log, name: test)
                }) { results.merge(r) }
            } else if name == "testlog.json" {
                mesonFolders.insert(folder)
                if let r = cached(path, parse: { SuiteParsers.meson($0) }) { results.merge(r) }
            } else if name.hasPrefix("LastTest") {
                if let r = cached(path, parse: { SuiteParsers.ctest($0) }) { results.merge(r) }
            } else {
                junit.append(path)
            }
        }
        // meson writes its JUnit file beside testlog.json: the same cases under other names.
        for path in junit where !mesonFolders.contains(parentPath(path)) {
            if let r = cached(path, parse: { SuiteParsers.junit($0) }) { results.merge(r) }
        }
        if !results.isEmpty { return results }
        guard let outputFile, let text = try? String(contentsOfFile: outputFile, encoding: .utf8) else { return results }
        return Self.fromOutput(text, complete: complete)
    }

    /// The cases in a suite's output: `prove` lines and automake console lines (both: an
    /// automake suite may run a Perl harness, as lighttpd's does), else TAP.
    public static func fromOutput(_ text: String, complete: Bool) -> SuiteResults {
        var results = SuiteParsers.prove(text)
        results.merge(SuiteParsers.automakeConsole(text))
        if !results.isEmpty { return results }
        return SuiteParsers.tap(text, complete: complete)
    }

    /// Result files under `root` (paths), in a stable order. A folder is listed again only when
    /// its modification time changed (an entry was added or removed), or changed less than a
    /// second ago (timestamps are coarser than the scans); the others are taken from the last scan.
    func resultFiles() -> [String] {
        var found: [String] = []
        var pending = [""]
        let now = Date().timeIntervalSince1970
        while let folder = pending.popLast() {
            let path = folder.isEmpty ? root : "\(root)/\(folder)"
            guard let modified = FileStamp(path: path)?.modified else { continue }
            var listing = listings[folder]
            if listing?.modified != modified || now - modified < 1 {
                listing = list(folder, path: path, modified: modified)
                listings[folder] = listing
            }
            found += listing!.results
            pending += listing!.folders
        }
        return found.sorted()
    }

    /// One folder's result files (paths) and sub-folders (relative to `root`).
    private struct Listing { var modified: Double; var results: [String]; var folders: [String] }
    private var listings: [String: Listing] = [:]

    private func list(_ folder: String, path: String, modified: Double) -> Listing {
        var listing = Listing(modified: modified, results: [], folders: [])
        forEachDirectoryEntry(path) { entry, type in
            let name = String(cString: entry)
            let relative = folder.isEmpty ? name : "\(folder)/\(name)"
            var isFolder = type == UInt8(DT_DIR)
            if type == UInt8(DT_UNKNOWN) {
                var info = stat()
                isFolder = lstat("\(path)/\(name)", &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
            }
            if isFolder {
                if !Self.skippedFolders.contains(name) { listing.folders.append(relative) }
            } else if Self.isResultFile(relative) {
                listing.results.append("\(root)/\(relative)")
            }
        }
        return listing
    }

    /// Whether a path (relative to the tree) names a result file syspect reads.
    static func isResultFile(_ relative: String) -> Bool {
        let name = lastComponent(relative)
        let folder = parentPath(relative)
        if name.hasSuffix(".trs") { return true }
        if name == "testlog.json" { return folder.hasSuffix("meson-logs") }
        if name.hasPrefix("LastTest") && name.hasSuffix(".log") { return folder.hasSuffix("Testing/Temporary") }
        if name.hasSuffix(".xml") { return name.lowercased().contains("junit") || name.hasPrefix("TEST-") }
        return false
    }

    private func relative(_ path: String) -> String {
        path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : path
    }

    private func cached(_ path: String, parse: (String) -> SuiteResults?) -> SuiteResults? {
        guard let stamp = FileStamp(path: path) else { return nil }
        // automake writes the .log after the .trs: a changed .log must be read again too.
        let logStamp = path.hasSuffix(".trs") ? FileStamp(path: String(path.dropLast(4)) + ".log") : nil
        let combined = FileStamp(size: stamp.size &+ (logStamp?.size ?? 0) &* 1_000_003, modified: stamp.modified + (logStamp?.modified ?? 0))
        if let hit = cache[path], hit.stamp == combined { return hit.results }
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let results = parse(String(decoding: data, as: UTF8.self))
        cache[path] = (combined, results)
        return results
    }
}

