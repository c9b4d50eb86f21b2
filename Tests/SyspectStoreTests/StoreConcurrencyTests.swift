import Foundation
import SyspectCore
@testable import SyspectPostgres
@testable import SyspectStore
import Testing

/// The backends this machine can test: SQLite always, PostgreSQL with SYSPECT_TEST_POSTGRES_URL.
let testableBackends: [Backend] = postgresURL == nil ? [.sqlite] : [.sqlite, .postgres]

/// Several stores (connections) on one database at once: run locks, migrations, writers.
@Suite("Stores sharing one database (SQLite; PostgreSQL with SYSPECT_TEST_POSTGRES_URL)")
struct StoreConcurrencyTests {
    @Test(arguments: testableBackends)
    func secondClaimOfAnExplorationIsRefusedNamingTheHolder(_ backend: Backend) throws {
        let db = try TestDatabase(backend)
        defer { db.destroy() }
        let first = try db.open(), second = try db.open()
        let claim = try first.claimExploration(key: "app/w@1")
        let error = #expect(throws: StoreError.self) { try second.claimExploration(key: "app/w@1") }
        guard case .explorationRunning(let key, let holder)? = error else {
            Issue.record("expected .explorationRunning, got \(String(describing: error))")
            return
        }
        #expect(key == "app/w@1")
        #expect(holder.contains("pid \(getpid())"), "\(holder)")
        #expect(!error!.description.contains("\n") && error!.description.contains("wait for it to finish"))
        // Another exploration is free; the same store cannot claim it twice either.
        let other = try second.claimExploration(key: "app/w@2")
        #expect(throws: StoreError.self) { try first.claimExploration(key: "app/w@1") }
        claim.release()
        claim.release()
        let again = try second.claimExploration(key: "app/w@1")
        again.release()
        other.release()
    }

    @Test(arguments: testableBackends)
    func aClosedStoreLeavesNoLockBehind(_ backend: Backend) throws {
        let db = try TestDatabase(backend)
        defer { db.destroy() }
        do {
            let store = try db.open()
            _ = try store.claimExploration(key: "app/w@1")  // released when the claim goes
            let kept = try store.claimExploration(key: "app/w@3")
            if let postgres = store as? PostgresStore { postgres.close() }
            _ = kept
        }
        let later = try db.open()
        try later.claimExploration(key: "app/w@1").release()
        if backend == .postgres { try later.claimExploration(key: "app/w@3").release() }
        if case .sqlite(let path) = db.location {
            let folder = (path as NSString).deletingLastPathComponent
            let left = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains("-lock-") }
            #expect(left.isEmpty, "lock files left: \(left)")
        }
    }

    /// Four stores open a new database at the same moment: each migrates or waits, none fails,
    /// and the schema is recorded once.
    @Test(arguments: testableBackends)
    func concurrentFirstOpensMigrateOnce(_ backend: Backend) throws {
        let db = try TestDatabase(backend)
        defer { db.destroy() }
        let errors = Errors()
        let location = db.location
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            do {
                let store = try Stores.open(location)
                try store.save(SyspectCore.Measurement(
                    app: "app\(UUID().uuidString.prefix(6))", workload: "w", kind: .health, verdicts: [0: .required], source: "syspect"))
            } catch {
                errors.add(error)
            }
        }
        #expect(errors.all.isEmpty, "\(errors.all)")
        let store = try db.open()
        #expect(try scalar(store, "SELECT COUNT(*) FROM grdb_migrations") == Int64(StoreSchema.migrations.count))
        #expect(try store.counts().measurements == 4)
    }

    /// Two writers journal the probes of two explorations and save the same measurement key
    /// at once: every row is kept, the key holds one measurement.
    @Test(arguments: testableBackends)
    func concurrentWritersKeepEveryRow(_ backend: Backend) throws {
        let db = try TestDatabase(backend)
        defer { db.destroy() }
        let errors = Errors()
        let location = db.location
        DispatchQueue.concurrentPerform(iterations: 2) { writer in
            do {
                let store = try Stores.open(location)
                var e = Fixtures.exploration
                e.key = "app\(writer)/w@1"
                e.app = "app\(writer)"
                try store.beginExploration(e)
                for i in 0..<40 {
                    try store.record(Fixtures.probe("stub:\(i)", replica: 1, exploration: e.key))
                    if i % 10 == 0 {
                        try store.save(SyspectCore.Measurement(
                            app: "shared", workload: "w", kind: .health, verdicts: [i: .stub], source: "syspect"))
                    }
                }
            } catch {
                errors.add(error)
            }
        }
        #expect(errors.all.isEmpty, "\(errors.all)")
        let store = try db.open()
        for writer in 0..<2 { #expect(try store.probes(exploration: "app\(writer)/w@1").count == 40) }
        #expect(try store.measurements(apps: ["shared"], kind: nil).count == 1)
    }
}

/// Connection loss without restarting the shared server: the store's own session is ended
/// with `pg_terminate_backend` (the restart itself: PostgresRestartTests, on a private cluster).
@Suite(
    "PostgreSQL reconnection (set SYSPECT_TEST_POSTGRES_URL; .ci/run does)",
    .enabled(if: postgresURL != nil, "SYSPECT_TEST_POSTGRES_URL is unset: no PostgreSQL server to test against"))
struct PostgresReconnectTests {
    /// Ends `store`'s server session from another connection.
    func terminate(_ store: PostgresStore, from other: PostgresStore) throws {
        let pid = try #require(try scalar(store, "SELECT pg_backend_pid()"))
        #expect(try scalar(other, "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ? AND application_name LIKE 'syspect pid %'",
                           [.integer(pid)]) == 1)
        _ = try other.database.read { try $0.query("SELECT pg_terminate_backend(?::int)", [.integer(pid)]) }
        // pg_terminate_backend only signals: wait until the session is gone.
        for _ in 0..<100 where try scalar(other, "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ?", [.integer(pid)]) != 0 {
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    @Test func aTerminatedSessionIsReplacedAndTheWriteKept() throws {
        let db = try TestDatabase(.postgres)
        defer { db.destroy() }
        let store = try #require(try db.open() as? PostgresStore)
        let other = try #require(try db.open() as? PostgresStore)
        try store.beginExploration(Fixtures.exploration)
        try store.record(Fixtures.probe("stub:1", replica: 1))
        let claim = try store.claimExploration(key: Fixtures.exploration.key)
        try terminate(store, from: other)

        // The next write meets the dead session, connects again (in the test's schema) and is kept.
        try store.record(Fixtures.probe("stub:2", replica: 1))
        #expect(store.connectionCount == 2)
        #expect(try other.probes(exploration: Fixtures.exploration.key).map(\.policy) == ["stub:1", "stub:2"])
        // The run lock was taken again with the new session.
        #expect(throws: StoreError.self) { try other.claimExploration(key: Fixtures.exploration.key) }
        claim.release()
        try other.claimExploration(key: Fixtures.exploration.key).release()
    }

    /// The session dies under a running transaction: the whole transaction runs again on a new
    /// connection, once, and its write is kept once.
    @Test func aTransactionCutMidwayRunsAgain() throws {
        let db = try TestDatabase(.postgres)
        defer { db.destroy() }
        let store = try #require(try db.open() as? PostgresStore)
        let other = try #require(try db.open() as? PostgresStore)
        try store.beginExploration(Fixtures.exploration)
        var attempts = 0
        try store.database.write { sql in
            attempts += 1
            let pid = try sql.query("SELECT pg_backend_pid()", [])[0].values[0]
            if attempts == 1 {
                _ = try other.database.read { try $0.query("SELECT pg_terminate_backend(?::int)", [pid]) }
                for _ in 0..<100 where try scalar(other, "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ?::int", [pid]) != 0 {
                    Thread.sleep(forTimeInterval: 0.05)
                }
            }
            try sql.execute(
                "INSERT INTO probe (exploration_key, policy, replica, outcome, reason, duration_seconds, started_at) VALUES (?, 'stub:9', 1, 'pass', '', 1, 0)",
                [.text(Fixtures.exploration.key)])
        }
        #expect(attempts == 2)
        #expect(store.connectionCount == 2)
        #expect(try other.probes(exploration: Fixtures.exploration.key).map(\.policy) == ["stub:9"])
    }
}

@Test func postgresReconnectParameterIsValidated() throws {
    #expect(try PostgresTarget(url: "postgres://u@h/db").reconnectSeconds == 60)
    #expect(try PostgresTarget(url: "postgres://u@h/db?reconnect=2.5").reconnectSeconds == 2.5)
    #expect(throws: StoreError.self) { try PostgresTarget(url: "postgres://u@h/db?reconnect=-1") }
    #expect(throws: StoreError.self) { try PostgresTarget(url: "postgres://u@h/db?reconnect=soon") }
}

/// Errors collected from concurrent workers.
final class Errors: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [String] = []
    func add(_ error: any Error) { lock.withLock { errors.append("\(error)") } }
    var all: [String] { lock.withLock { errors } }
}
