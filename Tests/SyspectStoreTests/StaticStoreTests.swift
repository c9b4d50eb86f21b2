import Foundation
import SyspectCore
@testable import SyspectStore
import Testing

/// Schema version 4 ("static-analysis", issue 13): the static analysis stored with an
/// exploration, objects shared by build-id, on SQLite and (when SYSPECT_TEST_POSTGRES_URL is
/// set) PostgreSQL.
enum StaticStoreBehaviour: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case roundTrip
    case objectsSharedByBuildIDAndResult
    case replacedNotDuplicated
    case unknownExplorationRefused

    var testDescription: String { rawValue }

    static let binary = StaticObject(
        path: "/usr/bin/redis-server", buildID: "a1b2c3d4e5f60718293a4b5c6d7e8f9001122334", stripped: true,
        sites: [0: [StaticSite(address: 0x4_1a20, function: "read", kind: .syscall, number: 0, note: "imm")],
                435: [StaticSite(address: 0x4_2000, function: nil, kind: .wrapperCall, number: 435, note: "from caller argument")]],
        i386Sites: [20: [StaticSite(address: 0x5_0000, function: "old", kind: .int80, number: 20)]],
        unresolved: [StaticSite(address: 0x6_0000, function: "syscall", kind: .syscall, number: nil, note: "loaded from memory")],
        functionsReachable: 12, functionsTotal: 40, warnings: ["no .symtab: dynamic symbols only"])

    static func libc(_ numbers: [Int]) -> StaticObject {
        StaticObject(
            path: "/usr/lib/x86_64-linux-gnu/libc.so.6", soname: "libc.so.6", buildID: "ffeeddccbbaa99887766554433221100ffeeddcc",
            sites: Dictionary(uniqueKeysWithValues: numbers.map { n in
                (n, [StaticSite(address: UInt64(0x10_0000 + n * 16), function: "f\(n)", kind: .syscall, number: n, note: "imm")])
            }), functionsReachable: numbers.count, functionsTotal: 3000)
    }

    static func record(_ exploration: String = Fixtures.exploration.key, libc numbers: [Int] = [0, 1, 3, 9, 231]) -> ExplorationStatic {
        let analysis = StaticAnalysis(
            targets: ["/usr/bin/redis-server"], mode: .callGraph, objects: [binary, libc(numbers)],
            syscallsByTarget: ["/usr/bin/redis-server": Set([0, 435] + numbers)], missingLibraries: ["libmissing.so.1"])
        return ExplorationStatic(
            exploration: exploration, analysis: analysis,
            outsideStatic: [CensusEntry(arch: .x86_64, number: 302, name: "prlimit64", calls: 2, failures: 0, errnos: [:])],
            analysedAt: Date(timeIntervalSince1970: 1_790_000_400.5), seconds: 0.25)
    }

    func check(on backend: Backend) throws {
        let db = try TestDatabase(backend)
        defer { db.destroy() }
        let store = try db.open()
        try store.beginExploration(Fixtures.exploration)
        switch self {
        case .roundTrip:
            #expect(try store.staticAnalysis(exploration: Fixtures.exploration.key) == nil)
            let saved = Self.record()
            try store.saveStatic(saved)
            let loaded = try #require(try store.staticAnalysis(exploration: Fixtures.exploration.key))
            #expect(loaded == saved)
            // The derived sets come back from the objects alone.
            #expect(loaded.analysis.syscalls == Set([0, 1, 3, 9, 231, 435]))
            #expect(loaded.analysis.i386Syscalls == [20])
            #expect(loaded.analysis.unresolvedCount == 1)
            // A fresh connection reads the same.
            #expect(try db.open().staticAnalysis(exploration: Fixtures.exploration.key) == saved)
        case .objectsSharedByBuildIDAndResult:
            var second = Fixtures.exploration
            second.key = "redis/benchmark-redis-benchmark/def456"
            var third = Fixtures.exploration
            third.key = "redis/benchmark-redis-benchmark/0789ab"
            try store.beginExploration(second)
            try store.beginExploration(third)
            try store.saveStatic(Self.record())
            try store.saveStatic(Self.record(second.key))
            // Same build-ids, same results: stored once.
            #expect(try scalar(store, "SELECT COUNT(*) FROM static_object") == 2)
            // libc charged with other functions (another call graph): a second row, same build-id.
            try store.saveStatic(Self.record(third.key, libc: [0, 1]))
            #expect(try scalar(store, "SELECT COUNT(*) FROM static_object") == 3)
            #expect(try scalar(store, "SELECT COUNT(*) FROM static_object WHERE build_id = ?", [SQLValue(Self.libc([]).buildID)]) == 2)
            #expect(try store.staticAnalysis(exploration: third.key)?.analysis.objects.last == Self.libc([0, 1]))
            #expect(try store.staticAnalysis(exploration: second.key) == Self.record(second.key))
        case .replacedNotDuplicated:
            try store.saveStatic(Self.record())
            var again = Self.record(libc: [0, 1, 3])
            again.outsideStatic = []
            try store.saveStatic(again)
            #expect(try store.staticAnalysis(exploration: Fixtures.exploration.key) == again)
            #expect(try scalar(store, "SELECT COUNT(*) FROM exploration_static") == 1)
            #expect(try scalar(store, "SELECT COUNT(*) FROM exploration_static_object") == 2)
        case .unknownExplorationRefused:
            #expect(throws: StoreError.self) { try store.saveStatic(Self.record("no/such@exploration")) }
            #expect(try scalar(store, "SELECT COUNT(*) FROM static_object") == 0)
        }
    }
}

@Suite("Static analysis store (schema 4) on SQLite")
struct SQLiteStaticStoreTests {
    @Test(arguments: StaticStoreBehaviour.allCases)
    func behaves(_ behaviour: StaticStoreBehaviour) throws {
        try behaviour.check(on: .sqlite)
    }
}

@Suite(
    "Static analysis store (schema 4) on PostgreSQL",
    .enabled(if: postgresURL != nil, "SYSPECT_TEST_POSTGRES_URL is unset: no PostgreSQL server to test against"))
struct PostgresStaticStoreTests {
    @Test(arguments: StaticStoreBehaviour.allCases)
    func behaves(_ behaviour: StaticStoreBehaviour) throws {
        try behaviour.check(on: .postgres)
    }
}
