import Foundation
import SyspectCore
import SyspectStore
import Testing

@Suite("loupedb import / export on the published data")
struct LoupedbInteropTests {
    /// Every run folder's measurement as the reader sees it, in store order.
    static func publishedRuns() throws -> [SyspectCore.Measurement] {
        sortedForStore(try Loupedb.read(directory: loupedbDirectory).runs.map(\.measurement))
    }

    @Test func importsAll125RunsOf116Apps() throws {
        let db = try TestDatabase(.sqlite)
        defer { db.destroy() }
        let store = try db.open()
        let summary = try LoupedbImport.run(directory: loupedbDirectory, onBadRow: .stop, into: store)
        #expect(summary.runs == 125)
        #expect(summary.apps == 116)
        let stored = try store.measurements(apps: nil, kind: nil)
        #expect(stored == (try Self.publishedRuns()))
        #expect(try store.info().counts == StoreCounts(measurements: 125, apps: 116, verdicts: summary.verdicts, explorations: 0, probes: 0))
        // Importing again replaces run by run: still 125.
        _ = try LoupedbImport.run(directory: loupedbDirectory, onBadRow: .stop, into: store)
        #expect(try store.info().counts.measurements == 125)
    }

    @Test func exportThenReimportGivesIdenticalMeasurements() throws {
        let first = try TestDatabase(.sqlite), second = try TestDatabase(.sqlite)
        let folder = try temporaryFolder()
        defer { first.destroy(); second.destroy(); try? FileManager.default.removeItem(at: folder) }
        let a = try first.open()
        _ = try LoupedbImport.run(directory: loupedbDirectory, onBadRow: .stop, into: a)
        let exported = folder.appendingPathComponent("export").path
        let summary = try LoupedbWriter.write(try a.measurements(apps: nil, kind: nil), to: exported)
        #expect(summary.measurements == 125)
        let b = try second.open()
        let again = try LoupedbImport.run(directory: exported, onBadRow: .stop, into: b)
        #expect(again.warnings.isEmpty, "our own export reads without quirks: \(again.warnings.prefix(3))")
        #expect(try b.measurements(apps: nil, kind: nil) == (try a.measurements(apps: nil, kind: nil)))
        #expect(try b.measurements(apps: nil, kind: nil) == (try Self.publishedRuns()))
    }

    /// Where the original file is already in the canonical form (header, rows 0…334, one flag at
    /// most, final newline), our export reproduces it byte for byte.
    @Test func exportReproducesCanonicalOriginalFilesByteForByte() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let runs = try Loupedb.read(directory: loupedbDirectory).runs
        try LoupedbWriter.write(runs.map(\.measurement), to: folder.path)
        var compared = (dyn: 0, staticFiles: 0)
        for run in runs {
            for name in ["dyn.csv", "static_binary.csv", "static_sources.csv"] {
                let original = "\(loupedbDirectory)/\(run.path)/data/\(name)"
                guard let text = try? String(contentsOfFile: original, encoding: .utf8), Self.isCanonical(text, name) else { continue }
                let ours = try String(contentsOfFile: "\(folder.path)/\(run.path)/data/\(name)", encoding: .utf8)
                #expect(ours == text, "\(run.path)/data/\(name)")
                if name == "dyn.csv" { compared.dyn += 1 } else { compared.staticFiles += 1 }
            }
        }
        // 106 of the 125 dyn.csv and 17 of the 114 static files are canonical in the published data.
        #expect(compared.dyn == 106)
        #expect(compared.staticFiles == 17)
    }

    static func isCanonical(_ text: String, _ name: String) -> Bool {
        let dyn = name == "dyn.csv"
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.last == "", lines.count == 337 else { return false }
        lines.removeLast()
        guard lines[0] == (dyn ? LoupedbWriter.dynHeader : LoupedbWriter.staticHeader) else { return false }
        let flags: Set<Substring> = dyn ? ["N,N,N,N", "Y,N,N,N", "Y,Y,N,N", "Y,N,Y,N", "Y,N,N,Y"] : ["N", "Y"]
        return lines.dropFirst().enumerated().allSatisfy { i, line in
            line.hasPrefix("\(i),") && flags.contains(line.dropFirst("\(i),".count))
        }
    }

    @Test func aBadRowStopsTheImportAndLeavesNothing() throws {
        let copy = try Self.copyWithBadRow()
        let db = try TestDatabase(.sqlite)
        defer { db.destroy(); try? FileManager.default.removeItem(at: copy.root.deletingLastPathComponent()) }
        let store = try db.open()
        try store.save(Fixtures.redis)
        let error = #expect(throws: LoupedbError.self) {
            try LoupedbImport.run(directory: copy.root.path, onBadRow: .stop, into: store)
        }
        #expect(error?.description.contains("zstd/") == true)
        #expect(error?.description.contains(":42:") == true)
        #expect(try store.measurements(apps: nil, kind: nil) == [Fixtures.redis])

        // With skip: everything imported but that row, and a warning names it.
        let summary = try LoupedbImport.run(directory: copy.root.path, onBadRow: .skip, into: store)
        #expect(summary.runs == 125)
        #expect(summary.warnings.contains { $0.contains(copy.relativeFile) && $0.contains("42") })
    }

    /// A copy of loupedb with line 42 (syscall 40) of zstd's dyn.csv — the last app read — broken.
    static func copyWithBadRow() throws -> (root: URL, relativeFile: String) {
        let root = try temporaryFolder().appendingPathComponent("loupedb")
        try FileManager.default.copyItem(atPath: loupedbDirectory, toPath: root.path)
        let workload = try FileManager.default.contentsOfDirectory(atPath: root.path + "/zstd").sorted().first!
        let run = try FileManager.default.contentsOfDirectory(atPath: "\(root.path)/zstd/\(workload)").sorted().first!
        let relative = "zstd/\(workload)/\(run)/data/dyn.csv"
        let path = root.path + "/" + relative
        var lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
        lines[41] = "40,Y,maybe,N,N"
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return (root, relative)
    }

    @Test(.enabled(if: postgresURL != nil, "SYSPECT_TEST_POSTGRES_URL is unset"))
    func postgresHoldsTheSameAsSQLite() throws {
        let pg = try TestDatabase(.postgres)
        defer { pg.destroy() }
        let store = try pg.open()
        let summary = try LoupedbImport.run(directory: loupedbDirectory, onBadRow: .stop, into: store)
        #expect(summary.runs == 125)
        #expect(try store.measurements(apps: nil, kind: nil) == (try Self.publishedRuns()))
        #expect(try store.measurements(apps: ["nginx"], kind: .suite).count == 2)
    }
}

@Suite("loupedb export format (hand-made measurements)")
struct LoupedbWriterTests {
    @Test func dynCSVRows() {
        let lines = LoupedbWriter.dynCSV(Fixtures.redis).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "# syscall, used, works faked, works stubbed, works both")
        #expect(lines.count == 1 + 335 + 2 + 1)  // header, 0…334, clone3 and openat2, final ""
        #expect(lines.last == "")
        #expect(lines[1] == "0,Y,N,N,N")    // required
        #expect(lines[2] == "1,Y,Y,N,N")    // fake: works faked
        #expect(lines[3] == "2,N,N,N,N")    // not traced
        #expect(lines[4] == "3,Y,N,Y,N")    // stub: works stubbed
        #expect(lines[10] == "9,Y,N,N,Y")   // either: works both
        #expect(lines[289] == "288,Y,N,Y,N")
        #expect(lines[335] == "334,N,N,N,N")
        #expect(lines[336] == "435,Y,N,N,Y")
        #expect(lines[337] == "437,Y,N,N,N")
    }

    @Test func staticFilesOnlyWhenKnown() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let summary = try LoupedbWriter.write([Fixtures.redis, Fixtures.nginx], to: folder.path)
        #expect(summary.files == 2 + 2 + 1)  // two dyn.csv, redis's two static files, README.md
        let redis = folder.path + "/redis/benchmark-redis-benchmark/syspect/data/"
        let binary = try String(contentsOfFile: redis + "static_binary.csv", encoding: .utf8)
        #expect(binary.hasPrefix("# syscall, used\n0,Y\n1,Y\n2,N\n3,Y\n"))
        #expect(binary.hasSuffix("334,N\n435,Y\n437,Y\n500,Y\n"))
        let sources = try String(contentsOfFile: redis + "static_sources.csv", encoding: .utf8)
        #expect(sources.split(separator: "\n").count == 1 + 335)
        #expect(!sources.contains(",Y"))
        let nginx = folder.path + "/nginx/suite-nginx-tests/imported/data/"
        #expect(FileManager.default.fileExists(atPath: nginx + "dyn.csv"))
        #expect(!FileManager.default.fileExists(atPath: nginx + "static_binary.csv"))
        let readme = try String(contentsOfFile: folder.path + "/README.md", encoding: .utf8)
        #expect(readme.contains("CC BY 4.0"))
    }

    @Test func refusesANonEmptyFolderUnlessOverwriting() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try "keep me".write(toFile: folder.path + "/notes.txt", atomically: true, encoding: .utf8)
        #expect(throws: StoreError.self) { try LoupedbWriter.write([Fixtures.redis], to: folder.path) }
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/redis"))
        try LoupedbWriter.write([Fixtures.redis], to: folder.path, overwrite: true)
        #expect(FileManager.default.fileExists(atPath: folder.path + "/redis/benchmark-redis-benchmark/syspect/data/dyn.csv"))
        #expect(try String(contentsOfFile: folder.path + "/notes.txt", encoding: .utf8) == "keep me")
    }

    @Test func runFolders() throws {
        var odd = Fixtures.redis
        odd.source = "syspect run/2"
        #expect(LoupedbWriter.folder(of: odd) == "redis/benchmark-redis-benchmark/syspect_run_2")
        #expect(LoupedbWriter.folder(of: Fixtures.nginx) == "nginx/suite-nginx-tests/imported")
        var clash = odd
        clash.source = "syspect run_2"
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(throws: StoreError.self) { try LoupedbWriter.write([odd, clash], to: folder.path + "/x") }
    }
}
