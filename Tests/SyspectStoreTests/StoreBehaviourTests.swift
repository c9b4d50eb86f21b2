import Foundation
import SyspectCore
@testable import SyspectStore
import Testing

/// The behaviour every `ResultStore` must have, written once and run on SQLite and on
/// PostgreSQL (the suites below).
enum StoreBehaviour: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case migratesFromEmpty
    case keepsMeasurements
    case storesVerdictsAsRows
    case saveAllIsAllOrNothing
    case beginsExplorationOnce
    case updatesExploration
    case journalsProbesIdempotently
    case keepsDataAcrossConnections
    case refusesNewerSchema
    case refusesForeignMigration
    case serializesConcurrentWriters

    var testDescription: String { rawValue }

    func check(on backend: Backend) throws {
        let db = try TestDatabase(backend)
        defer { db.destroy() }
        switch self {
        case .migratesFromEmpty: try Self.migratesFromEmpty(db)
        case .keepsMeasurements: try Self.keepsMeasurements(db)
        case .storesVerdictsAsRows: try Self.storesVerdictsAsRows(db)
        case .saveAllIsAllOrNothing: try Self.saveAllIsAllOrNothing(db)
        case .beginsExplorationOnce: try Self.beginsExplorationOnce(db)
        case .updatesExploration: try Self.updatesExploration(db)
        case .journalsProbesIdempotently: try Self.journalsProbesIdempotently(db)
        case .keepsDataAcrossConnections: try Self.keepsDataAcrossConnections(db)
        case .refusesNewerSchema: try Self.refusesNewerSchema(db)
        case .refusesForeignMigration: try Self.refusesForeignMigration(db)
        case .serializesConcurrentWriters: try Self.serializesConcurrentWriters(db)
        }
    }

    static func migratesFromEmpty(_ db: TestDatabase) throws {
        let store = try db.open()
        let info = try store.info()
        #expect(info.schemaVersion == StoreSchema.currentVersion)
        #expect(info.knownSchemaVersion == StoreSchema.currentVersion)
        #expect(info.backend == db.backend.rawValue)
        #expect(info.counts == StoreCounts(measurements: 0, apps: 0, verdicts: 0, explorations: 0, probes: 0))
        for table in ["measurement", "measurement_verdict", "measurement_static", "exploration", "census_entry", "probe"] {
            #expect(try scalar(store, "SELECT COUNT(*) FROM \(table)") == 0, "table \(table)")
        }
        let identifiers = try store.database.read { try $0.query("SELECT identifier FROM grdb_migrations", []) }
        #expect(identifiers.map(\.values) == StoreSchema.migrations.map { [.text($0.identifier)] })
        // Opening again migrates nothing more.
        #expect(try db.open().info().schemaVersion == StoreSchema.currentVersion)
    }

    static func keepsMeasurements(_ db: TestDatabase) throws {
        let store = try db.open()
        try store.save(Fixtures.redis)
        try store.save(Fixtures.nginx)
        #expect(try store.measurements(apps: nil, kind: nil) == [Fixtures.nginx, Fixtures.redis])
        #expect(try store.measurements(apps: ["redis"], kind: nil) == [Fixtures.redis])
        #expect(try store.measurements(apps: nil, kind: .suite) == [Fixtures.nginx])
        #expect(try store.measurements(apps: ["redis"], kind: .suite) == [])
        #expect(try store.measurements(apps: [], kind: nil) == [])

        // Same (app, workload, source): replaced. Another source: kept beside it.
        var changed = Fixtures.redis
        changed.verdicts = [1: .required]
        changed.staticBinary = nil
        try store.save(changed)
        var other = Fixtures.redis
        other.source = "loupedb:redis/benchmark-redis-benchmark/imported"
        try store.save(other)
        #expect(try store.measurements(apps: ["redis"], kind: nil) == [other, changed])
        #expect(try store.info().counts == StoreCounts(measurements: 3, apps: 2, verdicts: 1 + 7 + 3, explorations: 0, probes: 0))
    }

    static func storesVerdictsAsRows(_ db: TestDatabase) throws {
        let store = try db.open()
        try store.saveAll([Fixtures.redis, Fixtures.nginx])
        // Which apps can stub accept4 (288)? Plain SQL over the verdict rows.
        let rows = try store.database.read { db in
            try db.query(
                """
                SELECT m.app, v.name, v.verdict FROM measurement_verdict v JOIN measurement m ON m.id = v.measurement_id
                WHERE v.syscall = ? ORDER BY m.app
                """, [.integer(288)])
        }
        #expect(rows.map(\.values) == [
            [.text("nginx"), .text("accept4"), .text("stub")],
            [.text("redis"), .text("accept4"), .text("stub")],
        ])
        #expect(try scalar(store, "SELECT COUNT(*) FROM measurement_verdict WHERE name = 'clone3'") == 1)
        #expect(try scalar(store, "SELECT COUNT(*) FROM measurement_static WHERE analysis = 'binary'") == 8)
    }

    static func saveAllIsAllOrNothing(_ db: TestDatabase) throws {
        let store = try db.open()
        try store.save(Fixtures.redis)
        var replacement = Fixtures.redis
        replacement.verdicts = [0: .either]
        var bad = Fixtures.nginx
        bad.verdicts[-1] = .stub  // violates CHECK (syscall >= 0) after the replacement was written
        #expect(throws: StoreError.self) { try store.saveAll([replacement, bad]) }
        #expect(try store.measurements(apps: nil, kind: nil) == [Fixtures.redis])
        #expect(try store.info().counts.verdicts == Int(Fixtures.redis.verdicts.count))
    }

    static func beginsExplorationOnce(_ db: TestDatabase) throws {
        let store = try db.open()
        try store.beginExploration(Fixtures.exploration)
        #expect(try store.exploration(key: Fixtures.exploration.key) == Fixtures.exploration)
        try store.record(Fixtures.probe("baseline"))
        // Beginning again (a resumed explore) changes nothing and keeps the probes.
        var again = Fixtures.exploration
        again.strategy = "other"
        again.census = []
        try store.beginExploration(again)
        #expect(try store.exploration(key: Fixtures.exploration.key) == Fixtures.exploration)
        #expect(try store.probes(exploration: Fixtures.exploration.key).count == 1)
        #expect(try store.exploration(key: "missing") == nil)

        var nginx = Fixtures.exploration
        nginx.key = "nginx/wrk/ff"
        nginx.app = "nginx"
        try store.beginExploration(nginx)
        #expect(try store.explorations(app: nil).map(\.key) == [nginx.key, Fixtures.exploration.key])
        #expect(try store.explorations(app: "nginx") == [nginx])
    }

    static func updatesExploration(_ db: TestDatabase) throws {
        let store = try db.open()
        try store.beginExploration(Fixtures.exploration)
        var done = Fixtures.exploration
        done.finishedAt = Date(timeIntervalSince1970: 1_790_000_900.75)
        done.probeCount = 42
        done.wallSeconds = 812.5
        done.strategy = "binary-split"
        done.census = [CensusEntry(arch: .x32, number: 1, name: "write", calls: 5, failures: 1, errnos: ["EPIPE": 1])]
        done.priors = PriorsSource(origin: .bundled, apps: 116, dataset: "loupedb at commit a076cf9")
        try store.updateExploration(done)
        #expect(try store.exploration(key: done.key) == done)
        #expect(try store.explorations(app: "redis") == [done])
        for priors in [PriorsSource(origin: .store, apps: 3), PriorsSource(origin: .none, apps: 0), nil] {
            done.priors = priors
            try store.updateExploration(done)
            #expect(try store.exploration(key: done.key)?.priors == priors)
        }
        var unknown = done
        unknown.key = "never-begun"
        #expect(throws: StoreError.unknownExploration("never-begun")) { try store.updateExploration(unknown) }
    }

    static func journalsProbesIdempotently(_ db: TestDatabase) throws {
        let store = try db.open()
        try store.beginExploration(Fixtures.exploration)
        let key = Fixtures.exploration.key
        let first = [Fixtures.probe("baseline", replica: 0), Fixtures.probe("stub:41", replica: 0, outcome: .fail),
                     Fixtures.probe("stub:41", replica: 1, outcome: .error)]
        for p in first { try store.record(p) }
        // An interrupted explore re-records what it finished: still one row per (policy, replica).
        for p in first { try store.record(p) }
        #expect(try store.probes(exploration: key) == first)
        // A retried probe (the error) keeps only its latest outcome.
        let retried = Fixtures.probe("stub:41", replica: 1, outcome: .fail)
        try store.record(retried)
        #expect(try store.probes(exploration: key) == [first[0], first[1], retried])
        #expect(try store.info().counts.probes == 3)
        #expect(throws: StoreError.unknownExploration("nope")) {
            try store.record(Fixtures.probe("baseline", exploration: "nope"))
        }
        #expect(try store.probes(exploration: "nope") == [])
    }

    static func keepsDataAcrossConnections(_ db: TestDatabase) throws {
        do {
            let store = try db.open()
            try store.saveAll([Fixtures.redis, Fixtures.nginx])
            try store.beginExploration(Fixtures.exploration)
            try store.record(Fixtures.probe("fake:3"))
        }
        let reopened = try db.open()
        #expect(try reopened.measurements(apps: nil, kind: nil) == [Fixtures.nginx, Fixtures.redis])
        #expect(try reopened.exploration(key: Fixtures.exploration.key) == Fixtures.exploration)
        #expect(try reopened.probes(exploration: Fixtures.exploration.key) == [Fixtures.probe("fake:3")])
    }

    static func refusesNewerSchema(_ db: TestDatabase) throws {
        let store = try db.open()
        try store.save(Fixtures.redis)
        try store.database.write { try $0.execute("INSERT INTO grdb_migrations (identifier) VALUES ('0099-from-the-future')", []) }
        let expected = StoreError.newerSchema(
            location: db.location.description, found: 99, known: StoreSchema.currentVersion)
        #expect(throws: expected) { try db.open() }
        #expect(expected.description.contains("schema version 99"))
        #expect(expected.description.contains("(\(StoreSchema.currentVersion))"))
        #expect(expected.description.contains("upgrade syspect"))
        // Nothing was touched: the data and the future migration are still there.
        #expect(try store.measurements(apps: nil, kind: nil) == [Fixtures.redis])
        #expect(try scalar(store, "SELECT COUNT(*) FROM grdb_migrations") == Int64(StoreSchema.migrations.count + 1))
    }

    static func refusesForeignMigration(_ db: TestDatabase) throws {
        let store = try db.open()
        try store.database.write { try $0.execute("INSERT INTO grdb_migrations (identifier) VALUES ('0001-forked')", []) }
        #expect(throws: StoreError.unknownMigration(location: db.location.description, identifier: "0001-forked")) {
            try db.open()
        }
    }

    static func serializesConcurrentWriters(_ db: TestDatabase) throws {
        let store = try db.open()
        try store.beginExploration(Fixtures.exploration)
        let failures = LockedCounter()
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for i in 0..<25 {
                do { try store.record(Fixtures.probe("stub:\(i)", replica: worker)) } catch { failures.add() }
            }
        }
        #expect(failures.value == 0)
        #expect(try store.probes(exploration: Fixtures.exploration.key).count == 100)
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

@Suite("SQLite store behaviour")
struct SQLiteStoreBehaviourTests {
    @Test(arguments: StoreBehaviour.allCases)
    func behaves(_ behaviour: StoreBehaviour) throws {
        try behaviour.check(on: .sqlite)
    }
}

@Suite(
    "PostgreSQL store behaviour (set SYSPECT_TEST_POSTGRES_URL; .ci/run does)",
    .enabled(if: postgresURL != nil, "SYSPECT_TEST_POSTGRES_URL is unset: no PostgreSQL server to test against"))
struct PostgresStoreBehaviourTests {
    @Test(arguments: StoreBehaviour.allCases)
    func behaves(_ behaviour: StoreBehaviour) throws {
        try behaviour.check(on: .postgres)
    }
}
