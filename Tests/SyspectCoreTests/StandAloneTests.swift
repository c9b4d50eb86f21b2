import Foundation
import SyspectTestSupport
import Testing

/// The repository stands alone: a clone in any folder has everything its tests, benchmarks and
/// generators read. No tracked file may name a path outside the repository where the project's
/// development machines keep a copy of the source data.
@Suite("the repository stands alone")
struct StandAloneTests {
    /// Paths that exist beside the development checkout only (spelled in two pieces so that this
    /// file does not match itself).
    static let outsidePaths = [".." + "/shared", "/work" + "/shared", "/work" + "/team"]

    @Test("no tracked file reads a path outside the repository")
    func noOutsidePaths() throws {
        let listed = try runProgram("/usr/bin/git", ["-C", RepositoryData.root, "ls-files", "-z"])
        try #require(listed.status == 0, "git ls-files failed: \(listed.stderr)")
        let files = listed.stdout.split(separator: "\0").map(String.init)
        try #require(files.count > 100, "git ls-files listed only \(files.count) files")
        var offenders: [String] = []
        for file in files where !file.hasPrefix("data/") {
            guard let data = FileManager.default.contents(atPath: RepositoryData.root + "/" + file),
                  let text = String(data: data, encoding: .utf8) else { continue }
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where Self.outsidePaths.contains(where: { line.contains($0) }) {
                offenders.append("\(file):\(index + 1): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(offenders.isEmpty, "these lines name a path outside the repository (copy the data in instead):\n\(offenders.joined(separator: "\n"))")
    }

    @Test("the loupedb copy the tests read is complete and attributed")
    func loupedbCopy() throws {
        let dir = RepositoryData.root + "/data/loupedb"
        let provenance = try String(contentsOfFile: dir + "/PROVENANCE.md", encoding: .utf8)
        #expect(provenance.contains("CC BY 4.0") && provenance.contains("a076cf972d7d7bacc73693455d979a9522ed2c5a"))
        let readme = try String(contentsOfFile: dir + "/README.md", encoding: .utf8)
        #expect(readme.contains("Licensing"))
        let entries = try FileManager.default.contentsOfDirectory(atPath: dir)
        // 11 OSes, Unikraft twice (the 174-name list of the paper's Table 1 and the later 163-name one).
        #expect(entries.filter { $0.hasSuffix(".syscalls") }.count == 12)
        let runs = FileManager.default.enumerator(atPath: dir)!.compactMap { $0 as? String }.filter { $0.hasSuffix("/data/dyn.csv") }
        #expect(runs.count == 125)
    }
}
