import Foundation
import SyspectCore

/// Writes measurements in the loupedb layout, so that users of the original Loupe tool can read
/// syspect's results: `<app>/<workload>/<run>/data/dyn.csv` (+ `static_binary.csv` /
/// `static_sources.csv` when known) and a README.md with the provenance.
///
/// `dyn.csv` has Loupe's header and one row per x86-64 number 0…334 as the original writes
/// them, plus a row for each traced number above 334 (clone3, openat2, …), which the original
/// cannot measure. Flags follow the header (not the original reader's swapped reading):
/// required `Y,N,N,N`, fake `Y,Y,N,N`, stub `Y,N,Y,N`, either `Y,N,N,Y`, untraced `N,N,N,N`.
public enum LoupedbWriter {
    /// Highest syscall number the original tool writes a row for.
    public static let originalLastRow = 334
    public static let dynHeader = "# syscall, used, works faked, works stubbed, works both"
    public static let staticHeader = "# syscall, used"

    /// What an export wrote.
    public struct Summary: Sendable, Hashable {
        public var measurements: Int
        public var files: Int
    }

    /// Writes every measurement under `directory` (created if missing). Refuses a non-empty
    /// directory unless `overwrite` (then files of the same names are replaced).
    @discardableResult
    public static func write(_ measurements: [SyspectCore.Measurement], to directory: String, overwrite: Bool = false) throws -> Summary {
        let fm = FileManager.default
        if let existing = try? fm.contentsOfDirectory(atPath: directory), !existing.isEmpty, !overwrite {
            throw StoreError.export(path: directory, reason: "the directory is not empty: choose a new one, or pass --overwrite")
        }
        var folders: [String: SyspectCore.Measurement] = [:]
        for m in measurements {
            let folder = self.folder(of: m)
            if let other = folders[folder] {
                throw StoreError.export(
                    path: folder, reason: "both \(other.id) (\(other.source)) and \(m.id) (\(m.source)) map to this folder")
            }
            folders[folder] = m
        }
        var files = 0
        for (folder, m) in folders.sorted(by: { $0.key < $1.key }) {
            let data = "\(directory)/\(folder)/data"
            try writeFile(dynCSV(m), to: "\(data)/dyn.csv")
            files += 1
            for (name, set) in [("static_binary.csv", m.staticBinary), ("static_sources.csv", m.staticSources)] {
                guard let set else { continue }
                try writeFile(staticCSV(set), to: "\(data)/\(name)")
                files += 1
            }
        }
        try writeFile(readme(measurements), to: "\(directory)/README.md")
        return Summary(measurements: measurements.count, files: files + 1)
    }

    /// `<app>/<workload>/<run>`: the run folder is the loupedb run a measurement was imported
    /// from (source `loupedb:<app>/<workload>/<run>`), else its source with unsafe characters
    /// replaced by `_` (`syspect` for measurements syspect made).
    public static func folder(of m: SyspectCore.Measurement) -> String {
        let run = m.source.hasPrefix("loupedb:")
            ? String(m.source.split(separator: "/").last ?? "_").replacingOccurrences(of: "loupedb:", with: "")
            : m.source
        return [m.app, m.workload, run].map(safeComponent).joined(separator: "/")
    }

    private static func safeComponent(_ s: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+")
        let cleaned = String(s.map { allowed.contains($0) ? $0 : "_" })
        return cleaned.isEmpty || cleaned == "." || cleaned == ".." ? "_" + cleaned : cleaned
    }

    /// The `dyn.csv` text of a measurement.
    public static func dynCSV(_ m: SyspectCore.Measurement) -> String {
        var out = dynHeader + "\n"
        for n in rowNumbers(m.verdicts.keys) {
            let flags: String
            switch m.verdicts[n] {
            case nil: flags = "N,N,N,N"
            case .required?: flags = "Y,N,N,N"
            case .fake?: flags = "Y,Y,N,N"
            case .stub?: flags = "Y,N,Y,N"
            case .either?: flags = "Y,N,N,Y"
            }
            out += "\(n),\(flags)\n"
        }
        return out
    }

    /// The `static_binary.csv` / `static_sources.csv` text of a static-analysis set.
    public static func staticCSV(_ used: Set<Int>) -> String {
        var out = staticHeader + "\n"
        for n in rowNumbers(used) { out += "\(n),\(used.contains(n) ? "Y" : "N")\n" }
        return out
    }

    /// 0…334, then the numbers above 334 that are present.
    private static func rowNumbers<S: Sequence>(_ present: S) -> [Int] where S.Element == Int {
        Array(0...originalLastRow) + present.filter { $0 > originalLastRow }.sorted()
    }

    private static func readme(_ measurements: [SyspectCore.Measurement]) -> String {
        var text = """
            # syspect measurements in the loupedb layout

            Written by `syspect db export-loupedb`: \(measurements.count) measurements of \
            \(Set(measurements.map(\.app)).count) applications. Read them with Loupe's tools or
            `syspect db import-loupedb`. Rows above 334 are system calls the original tool does not measure.

            """
        if measurements.contains(where: { $0.source.hasPrefix("loupedb:") }) {
            text += """

                Run folders other than `syspect` hold data from the Loupe project's results database
                (unikraft/loupedb, https://github.com/unikraft/loupedb, ASPLOS'24), licensed
                CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/).

                """
        }
        return text
    }

    private static func writeFile(_ text: String, to path: String) throws {
        do {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw StoreError.export(path: path, reason: error.localizedDescription)
        }
    }
}
