import Foundation
import SyspectTestSupport
import Testing
@testable import SyspectCore

/// The published loupedb folder in the repository (`data/loupedb`, or `$SYSPECT_LOUPEDB`).
enum SharedLoupedb {
    static let repoRoot = RepositoryData.root
    static let path = RepositoryData.loupedb
    /// Read once; a missing folder fails the tests that need it (not the whole test process).
    private static let loaded = Result<LoupedbDataset, LoupedbError> { () throws(LoupedbError) in try Loupedb.read(directory: path) }
    static var dataset: LoupedbDataset {
        get throws { try loaded.get() }
    }

    /// Run folders and apps counted straight from the file system (`*/*/*/data/dyn.csv`).
    static func countOnDisk() -> (runs: Int, apps: Int, workloads: Int) {
        let fm = FileManager.default
        var runs = 0, apps = Set<String>(), workloads = Set<String>()
        let enumerator = fm.enumerator(atPath: path)!
        while let relative = enumerator.nextObject() as? String {
            let parts = relative.split(separator: "/")
            if parts.count == 5 && parts[3] == "data" && parts[4] == "dyn.csv" {
                runs += 1
                apps.insert(String(parts[0]))
                workloads.insert("\(parts[0])/\(parts[1])")
            }
        }
        return (runs, apps.count, workloads.count)
    }
}

/// Writes small loupedb layouts in a temporary folder.
struct TempLoupedb {
    let root: String

    init() throws {
        root = NSTemporaryDirectory() + "syspect-loupedb-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    func write(_ relative: String, _ text: String) throws {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

@Suite("loupedb reader on the published data")
struct LoupedbPublishedDataTests {
    let data: LoupedbDataset

    init() throws { data = try SharedLoupedb.dataset }

    @Test("every run folder of every app loads, counts match the files")
    func counts() {
        let disk = SharedLoupedb.countOnDisk()
        #expect(data.runs.count == disk.runs)
        #expect(data.appCount == disk.apps)
        #expect(data.measurements.count == disk.workloads)
        #expect(disk.runs == 125 && disk.apps == 116)
        #expect(data.runs.allSatisfy { !$0.measurement.verdicts.isEmpty })
    }

    @Test("12 support lists (11 OSes, Unikraft twice), Gvisor's futimensat only warns")
    func osLists() throws {
        #expect(data.osSupport.count == 12)
        #expect(data.osSupport["Kerla"]?.syscalls.count == 58)
        #expect(data.osSupport["Unikraft-7d6707f"]?.syscalls.count == 174)
        let gvisorWarnings = data.warnings.filter { $0.hasPrefix("Gvisor.syscalls") }
        #expect(gvisorWarnings.count == 1)
        #expect(gvisorWarnings.first?.contains("futimensat") == true)
        // Freebsd lists some names twice: the set holds each once.
        let freebsdText = try String(contentsOfFile: SharedLoupedb.path + "/Freebsd.syscalls", encoding: .utf8)
        let names = freebsdText.split(separator: "\n").map { $0.trimmedEntry }.filter { !$0.isEmpty }
        #expect(Set(names).count < names.count)
        #expect(data.osSupport["Freebsd"]?.syscalls.count == Set(names).count)
    }

    @Test("stub and fake follow the header: nginx accept4 (288) works stubbed")
    func headerSemantics() throws {
        let nginx = try #require(data.measurements.first { $0.id == "nginx/benchmark-wrk" })
        #expect(nginx.verdicts[288] == .stub)
        // 1,Y,N,N,Y: write works both ways.
        #expect(nginx.verdicts[1] == .either)
        #expect(nginx.verdicts[0] == .required)
        #expect(nginx.verdicts[2] == nil)
    }

    @Test("imported runs' Y,Y,Y,Y reads as either")
    func importedBoth() throws {
        let h2o = try #require(data.measurements.first { $0.id == "h2o/benchmark-h2o" })
        let text = try String(contentsOfFile: SharedLoupedb.path + "/h2o/benchmark-h2o/imported/data/dyn.csv", encoding: .utf8)
        let yyyy = text.split(separator: "\n").filter { $0.hasSuffix(",Y,Y,Y,Y") }.map { Int($0.split(separator: ",")[0])! }
        #expect(!yyyy.isEmpty)
        for n in yyyy { #expect(h2o.verdicts[n] == .either) }
    }

    @Test("h2o's flags on unused rows 21, 55, 230 are ignored with a warning")
    func h2oUnusedFlags() throws {
        let h2o = try #require(data.measurements.first { $0.id == "h2o/benchmark-h2o" })
        for n in [21, 55, 230] {
            #expect(h2o.verdicts[n] == nil)
            #expect(data.warnings.contains { $0.hasPrefix("h2o/benchmark-h2o/imported/data/dyn.csv:") && $0.contains("(\(n))") })
        }
    }

    @Test("files without a header, final newline, or with a trailing blank line load")
    func fileQuirks() throws {
        let envoy = try #require(data.measurements.first { $0.app == "envoy" })
        #expect(envoy.verdicts[0] == .required)
        let kong = try #require(data.measurements.first { $0.app == "kong" })
        #expect(kong.staticBinary?.isEmpty == false)
        #expect(data.warnings.allSatisfy { !$0.contains("skipped") })
    }

    @Test("duplicate runs: one per workload, chosen deterministically")
    func duplicates() {
        let lua = data.runs.filter { $0.app == "lua" }
        #expect(lua.count == 2)
        #expect(lua.filter(\.preferred).map(\.run) == ["656835c7d071a93357c732822bc0ce5d"])
        let nginxSuite = data.runs.filter { $0.app == "nginx" && $0.workload == "suite-nginx-tests" }
        #expect(nginxSuite.filter(\.preferred).map(\.run) == ["c7d2ac9eca329a756e7690251213b81f"])
        #expect(Set(data.measurements.map(\.id)).count == data.measurements.count)
        #expect(data.measurements.first { $0.id == "lua/benchmark-lua-test" }?.verdicts[1] == .required)
    }

    @Test("static analysis sets are read where present, nil where absent")
    func staticSets() throws {
        let webfsd = try #require(data.measurements.first { $0.app == "webfsd" })
        #expect(webfsd.staticBinary == nil)
        let redis = try #require(data.measurements.first { $0.id == "redis/benchmark-redis-benchmark" })
        #expect(redis.staticBinary.map { $0.count > redis.verdicts.count } == true)
    }
}

@Suite("loupedb reader on bad input")
struct LoupedbBadInputTests {
    @Test("missing folder")
    func missing() {
        #expect(throws: LoupedbError.missingDirectory("/nonexistent/loupedb")) {
            try Loupedb.read(directory: "/nonexistent/loupedb")
        }
    }

    @Test("a folder that is not a loupedb layout")
    func notLayout() throws {
        let tmp = try TempLoupedb()
        defer { tmp.remove() }
        try tmp.write("README.md", "hello\n")
        #expect {
            try Loupedb.read(directory: tmp.root)
        } throws: { error in
            guard case LoupedbError.notLoupedbLayout = error else { return false }
            return "\(error)".contains("expected <app>/<workload>/<run>/data/dyn.csv")
        }
        try tmp.write("app/benchmark-x/run1/notes.txt", "")
        #expect {
            try Loupedb.read(directory: tmp.root)
        } throws: { error in
            "\(error)".contains("app/benchmark-x/run1 has no data/dyn.csv")
        }
    }

    @Test("bad row: stop names file and line, skip warns and goes on")
    func badRow() throws {
        let tmp = try TempLoupedb()
        defer { tmp.remove() }
        try tmp.write("app/benchmark-x/run1/data/dyn.csv", "# syscall, used, works faked, works stubbed, works both\n0,Y,N,N,N\n1,Y,maybe,N,N\n2,Y,Y,N,N")
        let file = tmp.root + "/app/benchmark-x/run1/data/dyn.csv"
        #expect(throws: LoupedbError.badRow(file: file, line: 3, text: "1,Y,maybe,N,N", reason: "flag 'maybe' is neither Y nor N")) {
            try Loupedb.read(directory: tmp.root)
        }
        let skipped = try Loupedb.read(directory: tmp.root, onBadRow: .skip)
        #expect(skipped.measurements.first?.verdicts == [0: .required, 2: .fake])
        #expect(skipped.warnings == ["app/benchmark-x/run1/data/dyn.csv:3: skipped bad row '1,Y,maybe,N,N': flag 'maybe' is neither Y nor N"])
    }

    @Test("rows with a wrong field count, a bad number, or a repeated number are bad rows")
    func otherBadRows() throws {
        for (row, reason) in [("5,Y,N,N", "expected 5 fields, found 4"), ("x,Y,N,N,N", "'x' is not a syscall number"),
                              ("0,Y,N,N,N", "syscall 0 appears twice")] {
            let tmp = try TempLoupedb()
            defer { tmp.remove() }
            try tmp.write("a/suite/r/data/dyn.csv", "0,Y,N,N,N\n\(row)\n\n")
            #expect {
                try Loupedb.read(directory: tmp.root)
            } throws: { error in
                guard case LoupedbError.badRow(_, let line, _, let why) = error else { return false }
                return line == 2 && why == reason
            }
        }
    }
}

@Suite("OS support lists")
struct OSSupportTests {
    @Test("names, numbers, comments, blank lines and duplicates")
    func parse() throws {
        let list = try OSSupport.parse(name: "toy", text: "# my OS\nread\n1   # write, by number\n\nread\n  clone3\r\n")
        #expect(list.syscalls == [0, 1, 435])
        #expect(list.name == "toy")
    }

    @Test("unknown names: one error listing all of them with the closest known names")
    func unknown() {
        #expect {
            try OSSupport.parse(name: "toy", text: "read\nfutimensat\nopenatt\n")
        } throws: { error in
            guard case OSSupportError.unknownNames(_, let names) = error else { return false }
            let text = "\(error)"
            return names.map(\.name) == ["futimensat", "openatt"] && names.map(\.line) == [2, 3]
                && names[0].suggestions.contains("futimesat") && names[0].suggestions.contains("utimensat")
                && names[1].suggestions.first == "openat" && text.contains("line 3: 'openatt' (closest: openat")
        }
    }

    @Test("edit distance")
    func distance() {
        #expect(SyscallNameSuggestions.editDistance("kitten", "sitting") == 3)
        #expect(SyscallNameSuggestions.editDistance("", "abc") == 3)
        #expect(SyscallNameSuggestions.editDistance("read", "read") == 0)
    }
}

@Suite("bundled dataset")
struct BundledLoupedbTests {
    @Test("the bundled data equals what the reader reads from the loupedb folder")
    func equalsFolder() throws {
        let bundled = BundledLoupedb.dataset
        let read = try SharedLoupedb.dataset
        #expect(bundled.runs.count == read.runs.count)
        #expect(bundled.runs == read.runs)
        #expect(bundled.measurements == read.measurements)
        #expect(bundled.osSupport == read.osSupport)
        #expect(bundled.warnings == read.warnings)
    }

    @Test("the generated file is what the generator writes today (no hand edits, no drift)")
    func generatedFileUpToDate() throws {
        let file = SharedLoupedb.repoRoot + "/Sources/SyspectCore/BundledLoupedb+Generated.swift"
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.hasPrefix("// DO NOT EDIT"))
        #expect(text.contains("CC BY 4.0"))
        #expect(text == BundledLoupedb.swiftSource(for: try SharedLoupedb.dataset, sourceCommit: BundledLoupedbData.sourceCommit))
    }

    @Test("encoding round-trips every verdict kind and absent or empty static sets")
    func roundTrip() {
        let m = Measurement(app: "a", workload: "suite", kind: .suite,
                            verdicts: [0: .required, 7: .stub, 288: .fake, 435: .either],
                            staticBinary: [], staticSources: nil, source: "loupedb:a/suite/r")
        let run = LoupedbRun(app: "a", workload: "suite", run: "r", measurement: m, preferred: false)
        let os = OSSupport(name: "toy", syscalls: [0, 1, 435])
        let decoded = BundledLoupedb.decode(runs: [BundledLoupedb.encode(run)], osLists: [BundledLoupedb.encode(os)], warnings: ["w"])
        #expect(decoded.runs == [run])
        #expect(decoded.measurements.isEmpty)
        #expect(decoded.osSupport == ["toy": os])
    }
}
