import Foundation
import SyspectCore
@testable import SyspectStatic
import Testing

/// The per-object summary cache (issue 13, Must 5) and charging per target.
@Suite struct CacheTests {
    static var fixture: String { SoundnessTests.products + "/syspect-fixture" }

    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "syspect-static-cache-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func aSecondAnalysisFromTheCacheIsTheSame() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = FileSummaryCache(directory: dir)
        let analyzer = StaticAnalyzer(cache: cache)
        let first = try analyzer.analyse([Self.fixture])
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".json") }
        #expect(files.count == first.objects.count, "one summary per object: \(files)")
        #expect(files.allSatisfy { $0.hasPrefix("v\(StaticAnalysis.analyserVersion)-") })
        let second = try analyzer.analyse([Self.fixture])
        #expect(second == first)
        #expect(try StaticAnalyzer(cache: nil).analyse([Self.fixture]) == first)
    }

    @Test func corruptOrOtherVersionEntriesAreIgnored() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = FileSummaryCache(directory: dir)
        let s = try StaticAnalyzer(cache: cache).summary(path: Self.fixture)
        let key = ObjectKey(buildID: s.buildID, path: s.path, size: s.fileSize, modificationTime: s.modificationTime)
        #expect(cache.summary(for: key) == s)
        // Another analyser version: a miss.
        var old = s
        old.version = StaticAnalysis.analyserVersion - 1
        var oldKey = key
        oldKey.version = old.version
        cache.store(old, for: oldKey)
        #expect(cache.summary(for: ObjectKey(buildID: s.buildID, path: s.path, size: s.fileSize, modificationTime: s.modificationTime)) == s)
        // A damaged file: a miss, and the analysis still runs (and rewrites it).
        let file = dir + "/" + key.id + ".json"
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: file))
        #expect(cache.summary(for: key) == nil)
        #expect(try StaticAnalyzer(cache: cache).summary(path: Self.fixture) == s)
        #expect(cache.summary(for: key) == s)
        // The same build-id with another size (a stripped copy) is another key.
        var stripped = key
        stripped.size -= 1
        #expect(stripped.id != key.id)
        #expect(cache.summary(for: stripped) == nil)
    }

    /// Two targets: each is charged what its own call graph reaches, the union is the result.
    @Test func chargedPerTarget() throws {
        let sqlite = try #require(locateExecutable("sqlite3"), "sqlite3 is not installed: run scripts/setup")
        let analyzer = StaticAnalyzer(cache: nil)
        let both = try analyzer.analyse([sqlite, Self.fixture])
        let a = try analyzer.analyse([sqlite]), b = try analyzer.analyse([Self.fixture])
        #expect(both.syscalls(forTarget: sqlite) == a.syscalls)
        #expect(both.syscalls(forTarget: Self.fixture) == b.syscalls)
        #expect(both.syscalls(forTarget: "sqlite3") == a.syscalls)  // by basename
        #expect(both.syscalls == a.syscalls.union(b.syscalls))
        // The coarse bound holds the call-graph set.
        let whole = try StaticAnalyzer(mode: .wholeLibrary, cache: nil).analyse([sqlite])
        #expect(whole.syscalls.isSuperset(of: a.syscalls) && whole.syscalls.count > a.syscalls.count)
    }
}
