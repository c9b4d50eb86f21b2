import Foundation

/// Everything read from a loupedb folder (the Loupe paper's published measurements, or an export).
public struct LoupedbDataset: Sendable, Hashable {
    /// One measurement per application workload, after duplicate runs were resolved
    /// (see `Loupedb.preferredRun`). Sorted by app, then workload.
    public var measurements: [Measurement]
    /// Support lists by OS name (the file name without `.syscalls`, e.g. "Kerla").
    public var osSupport: [String: OSSupport]
    /// Everything that was tolerated rather than rejected, one line each.
    public var warnings: [String]
    /// Every run folder that was read (including runs superseded by a preferred duplicate),
    /// sorted by app, workload, run.
    public var runs: [LoupedbRun]

    public init(measurements: [Measurement], osSupport: [String: OSSupport], warnings: [String], runs: [LoupedbRun]) {
        self.measurements = measurements
        self.osSupport = osSupport
        self.warnings = warnings
        self.runs = runs
    }

    /// The number of distinct applications measured.
    public var appCount: Int { Set(runs.map(\.app)).count }
}

/// One `<app>/<workload>/<run>` folder of a loupedb layout.
public struct LoupedbRun: Sendable, Hashable, Codable {
    public var app: String
    public var workload: String
    /// md5 of the Dockerfile, or `imported`.
    public var run: String
    public var measurement: Measurement
    /// False when another run of the same workload was preferred.
    public var preferred: Bool

    public init(app: String, workload: String, run: String, measurement: Measurement, preferred: Bool) {
        self.app = app
        self.workload = workload
        self.run = run
        self.measurement = measurement
        self.preferred = preferred
    }

    /// "app/workload/run".
    public var path: String { "\(app)/\(workload)/\(run)" }
}

/// What to do with a CSV row that cannot be parsed.
public enum BadRowPolicy: Sendable {
    /// Throw `LoupedbError.badRow` naming the file and line.
    case stop
    /// Skip the row and add a warning.
    case skip
}

/// Errors of the loupedb reader. Each names the problem and the fix.
public enum LoupedbError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingDirectory(String)
    case notLoupedbLayout(String, reason: String)
    case badRow(file: String, line: Int, text: String, reason: String)
    case unreadableFile(String, reason: String)

    public var description: String {
        switch self {
        case .missingDirectory(let path):
            return "loupedb folder \(path) does not exist; pass the folder that holds <app>/<workload>/<run>/data/dyn.csv"
        case .notLoupedbLayout(let path, let reason):
            return "\(path) is not a loupedb layout: \(reason); expected <app>/<workload>/<run>/data/dyn.csv and <OS>.syscalls files"
        case .badRow(let file, let line, let text, let reason):
            return "\(file):\(line): bad row '\(text)': \(reason); fix the row or read with the skip policy"
        case .unreadableFile(let path, let reason):
            return "cannot read \(path): \(reason)"
        }
    }
}

/// Reader of the loupedb layout (see `data/loupedb/PROVENANCE.md` and `docs/plan.md`).
///
/// Semantics follow the CSV header `# syscall, used, works faked, works stubbed, works both`:
/// "works faked" → `.fake`, "works stubbed" → `.stub`, "works both" (or both flags, as the
/// `imported` runs write `Y,Y,Y,Y`) → `.either`, used with no flag → `.required`. (The original
/// tool's reader swaps stub and fake; we don't.)
public enum Loupedb {
    /// Runs preferred when a workload has several run folders. Loupe keeps the newest run:
    /// - `nginx/suite-nginx-tests`: the md5 run (the `imported` runs pre-date the md5 runs).
    /// - `lua/benchmark-lua-test`: `656835c7…`, committed to unikraft/loupedb after `5b48cb66…`
    ///   (it is the one with `cmd.txt` and the newer `--disable-static` explorer flags); the two
    ///   differ only in `write` (required in the newer run, stub in the older).
    /// Any other duplicate: a non-`imported` run over `imported`, then the greatest folder name.
    public static let preferredRuns: [String: String] = [
        "lua/benchmark-lua-test": "656835c7d071a93357c732822bc0ce5d",
        "nginx/suite-nginx-tests": "c7d2ac9eca329a756e7690251213b81f",
    ]

    /// Reads a loupedb folder: every run folder's `data/dyn.csv` (+ optional `static_binary.csv`,
    /// `static_sources.csv`) and every `<OS>.syscalls` list at the top level.
    public static func read(directory given: String, onBadRow: BadRowPolicy = .stop) throws(LoupedbError) -> LoupedbDataset {
        var directory = given
        while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw .missingDirectory(directory)
        }
        guard isDirectory.boolValue else {
            throw .notLoupedbLayout(directory, reason: "it is a file, not a folder")
        }
        var warnings: [String] = []
        var runs: [LoupedbRun] = []
        var osSupport: [String: OSSupport] = [:]
        for entry in try listing(directory) {
            let path = directory + "/" + entry
            if entry.hasSuffix(".syscalls") {
                let name = String(entry.dropLast(".syscalls".count))
                let (support, unknown) = OSSupport.parseLenient(name: name, text: try contents(path))
                osSupport[name] = support
                warnings += unknown.map { "\(path):\($0.line): '\($0.name)' has no x86-64 number, ignored" + suggestionHint($0) }
            } else if isFolder(path) {
                runs += try readApp(directory: directory, app: entry, onBadRow: onBadRow, warnings: &warnings)
            }
        }
        guard !runs.isEmpty || !osSupport.isEmpty else {
            throw .notLoupedbLayout(directory, reason: "no <app>/<workload>/<run>/data/dyn.csv and no <OS>.syscalls found")
        }
        runs = markPreferred(runs)
        // Warnings name files relative to the folder, so they do not depend on where it lives.
        let prefix = directory + "/"
        warnings = warnings.map { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : $0 }
        return LoupedbDataset(
            measurements: runs.filter(\.preferred).map(\.measurement),
            osSupport: osSupport, warnings: warnings, runs: runs)
    }

    /// The verdict a `dyn.csv` row's flags mean, following the header (nil: not traced).
    public static func verdict(used: Bool, worksFaked: Bool, worksStubbed: Bool, worksBoth: Bool) -> Verdict? {
        guard used else { return nil }
        if worksBoth || (worksFaked && worksStubbed) { return .either }
        return Verdict(stubPasses: worksStubbed, fakePasses: worksFaked)
    }

    // MARK: - Layout walking

    private static func readApp(
        directory: String, app: String, onBadRow: BadRowPolicy, warnings: inout [String]
    ) throws(LoupedbError) -> [LoupedbRun] {
        var runs: [LoupedbRun] = []
        let appPath = directory + "/" + app
        for workload in try listing(appPath) where isFolder(appPath + "/" + workload) {
            let workloadPath = appPath + "/" + workload
            for run in try listing(workloadPath) where isFolder(workloadPath + "/" + run) {
                let data = workloadPath + "/" + run + "/data"
                guard FileManager.default.fileExists(atPath: data + "/dyn.csv") else {
                    throw .notLoupedbLayout(directory, reason: "run folder \(InputText.escaped("\(app)/\(workload)/\(run)", limit: 200)) has no data/dyn.csv")
                }
                let verdicts = try readDyn(data + "/dyn.csv", onBadRow: onBadRow, warnings: &warnings)
                let measurement = Measurement(
                    app: app, workload: workload, kind: WorkloadKind(loupedbWorkload: workload),
                    verdicts: verdicts,
                    staticBinary: try readStatic(data + "/static_binary.csv", onBadRow: onBadRow, warnings: &warnings),
                    staticSources: try readStatic(data + "/static_sources.csv", onBadRow: onBadRow, warnings: &warnings),
                    source: "loupedb:\(app)/\(workload)/\(run)")
                runs.append(LoupedbRun(app: app, workload: workload, run: run, measurement: measurement, preferred: true))
            }
        }
        return runs
    }

    /// Marks all but one run of each workload as not preferred (see `preferredRuns`).
    static func markPreferred(_ runs: [LoupedbRun]) -> [LoupedbRun] {
        let groups = Dictionary(grouping: runs.indices, by: { "\(runs[$0].app)/\(runs[$0].workload)" })
        var result = runs
        for (key, indices) in groups where indices.count > 1 {
            let keep = preferredRuns[key].flatMap { name in indices.first { runs[$0].run == name } }
                ?? indices.max { rank(runs[$0].run) < rank(runs[$1].run) }!
            for index in indices where index != keep { result[index].preferred = false }
        }
        return result
    }

    private static func rank(_ run: String) -> (Int, String) { (run == "imported" ? 0 : 1, run) }

    // MARK: - CSV files

    private static func readDyn(
        _ path: String, onBadRow: BadRowPolicy, warnings: inout [String]
    ) throws(LoupedbError) -> [Int: Verdict] {
        try parseDyn(text: try contents(path), file: path, onBadRow: onBadRow, warnings: &warnings)
    }

    /// Parses the text of a `dyn.csv` (`number,used,worksFaked,worksStubbed,worksBoth` with Y/N
    /// flags); `file` names it in errors and warnings.
    public static func parseDyn(
        text csv: String, file path: String, onBadRow: BadRowPolicy = .stop, warnings: inout [String]
    ) throws(LoupedbError) -> [Int: Verdict] {
        var verdicts: [Int: Verdict] = [:]
        var seen = Set<Int>()
        for (line, fields) in rows(csv) {
            let text = InputText.escaped(fields.joined(separator: ","))
            do throws(RowError) {
                guard fields.count == 5 else { throw RowError("expected 5 fields, found \(fields.count)") }
                let number = try syscallNumber(fields[0])
                let flags = try fields[1...].map(flag)
                guard seen.insert(number).inserted else { throw RowError("syscall \(number) appears twice") }
                if let v = verdict(used: flags[0], worksFaked: flags[1], worksStubbed: flags[2], worksBoth: flags[3]) {
                    verdicts[number] = v
                } else if flags.dropFirst().contains(true) {
                    warnings.append("\(path):\(line): flags set on unused syscall \(SyscallTable.displayName(of: number)) (\(number)), ignored")
                }
            } catch {
                try handle(error, path: path, line: line, text: text, policy: onBadRow, warnings: &warnings)
            }
        }
        return verdicts
    }

    /// Reads `static_binary.csv` / `static_sources.csv`; nil when the file is absent.
    private static func readStatic(
        _ path: String, onBadRow: BadRowPolicy, warnings: inout [String]
    ) throws(LoupedbError) -> Set<Int>? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try parseStatic(text: try contents(path), file: path, onBadRow: onBadRow, warnings: &warnings)
    }

    /// Parses the text of a `static_binary.csv` / `static_sources.csv` (`number,used`).
    public static func parseStatic(
        text csv: String, file path: String, onBadRow: BadRowPolicy = .stop, warnings: inout [String]
    ) throws(LoupedbError) -> Set<Int> {
        var used = Set<Int>()
        for (line, fields) in rows(csv) {
            do throws(RowError) {
                guard fields.count == 2 else { throw RowError("expected 2 fields, found \(fields.count)") }
                let number = try syscallNumber(fields[0])
                if try flag(fields[1]) { used.insert(number) }
            } catch {
                try handle(error, path: path, line: line, text: InputText.escaped(fields.joined(separator: ",")), policy: onBadRow, warnings: &warnings)
            }
        }
        return used
    }

    private static func handle(
        _ error: RowError, path: String, line: Int, text: String, policy: BadRowPolicy, warnings: inout [String]
    ) throws(LoupedbError) {
        switch policy {
        case .stop: throw .badRow(file: path, line: line, text: text, reason: error.reason)
        case .skip: warnings.append("\(path):\(line): skipped bad row '\(text)': \(error.reason)")
        }
    }

    /// Non-blank, non-comment lines with their 1-based line numbers, split on commas and trimmed.
    /// Tolerates a missing header, a missing final newline and trailing blank lines. Works on
    /// bytes (the files are ASCII): fast even in unoptimised builds.
    private static func rows(_ text: String) -> [(Int, [String])] {
        let bytes = Array(text.utf8)
        var result: [(Int, [String])] = []
        var start = 0
        var lineNumber = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            lineNumber += 1
            let line = trimmed(bytes[start..<end])
            if !line.isEmpty && line.first != UInt8(ascii: "#") {
                result.append((lineNumber, line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map {
                    String(decoding: trimmed($0), as: UTF8.self)
                }))
            }
            start = end + 1
        }
        return result
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }
        guard let first = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) }) else {
            return bytes[bytes.startIndex..<bytes.startIndex]
        }
        return bytes[first...last]
    }

    private struct RowError: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    private static func syscallNumber(_ field: String) throws(RowError) -> Int {
        guard let n = Int(field), (0..<SyscallTable.x32Bit).contains(n) else {
            throw RowError("'\(InputText.escaped(field))' is not a syscall number")
        }
        return n
    }

    private static func flag(_ field: String) throws(RowError) -> Bool {
        switch field {
        case "Y", "y": return true
        case "N", "n": return false
        default: throw RowError("flag '\(InputText.escaped(field))' is neither Y nor N")
        }
    }

    // MARK: - File system

    private static func listing(_ path: String) throws(LoupedbError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw .unreadableFile(path, reason: error.localizedDescription)
        }
    }

    private static func isFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    private static func contents(_ path: String) throws(LoupedbError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadableFile(path, reason: "no such file or not readable")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .unreadableFile(path, reason: "not UTF-8 text; loupedb files are ASCII: fix or remove the file")
        }
        return text
    }

    private static func suggestionHint(_ unknown: UnknownSyscallName) -> String {
        unknown.suggestions.isEmpty ? "" : " (closest: \(unknown.suggestions.joined(separator: ", ")))"
    }
}
