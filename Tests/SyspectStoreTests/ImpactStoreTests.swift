import Foundation
import SyspectCore
@testable import SyspectStore
import Testing

/// Schema version 3 ("impact"): resource figures per probe, the impact run journal and impact
/// results, on SQLite and (when SYSPECT_TEST_POSTGRES_URL is set) PostgreSQL.
enum ImpactStoreBehaviour: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case probeResourcesRoundTrip
    case impactRunsJournalIdempotently
    case impactResultsReplacePerPair
    case laterMigrationAppliedAfterNewer

    var testDescription: String { rawValue }

    static let usage = ResourceUsage(
        peakRSSBytes: 12_345_678_901, peakHWMBytes: 9_876_543, peakFDs: 96, cpuSeconds: 1.25, wallSeconds: 2.5,
        peakProcesses: 2, samples: 101, samplerCPUSeconds: 0.0125)

    func check(on backend: Backend) throws {
        let db = try TestDatabase(backend)
        defer { db.destroy() }
        let store = try db.open()
        try store.beginExploration(Fixtures.exploration)
        switch self {
        case .probeResourcesRoundTrip: try Self.probeResourcesRoundTrip(store)
        case .impactRunsJournalIdempotently: try Self.impactRunsJournalIdempotently(store)
        case .impactResultsReplacePerPair: try Self.impactResultsReplacePerPair(store)
        case .laterMigrationAppliedAfterNewer: try Self.laterMigrationAppliedAfterNewer(db, store)
        }
    }

    static func probeResourcesRoundTrip(_ store: any ManagedStore & SQLResultStore) throws {
        var sampled = Fixtures.probe("stub:3", replica: 1)
        sampled.resources = usage
        let plain = Fixtures.probe("stub:3", replica: 2)
        try store.record(sampled)
        try store.record(plain)
        var probes = try store.probes(exploration: Fixtures.exploration.key)
        #expect(probes == [sampled, plain])
        // Recording the probe again without figures drops the old ones (no stale row).
        var again = sampled
        again.resources = nil
        try store.record(again)
        probes = try store.probes(exploration: Fixtures.exploration.key)
        #expect(probes.allSatisfy { $0.resources == nil })
        #expect(try scalar(store, "SELECT COUNT(*) FROM probe_resources") == 0)
    }

    static func run(_ syscall: Int, baseline: Bool, _ index: Int, outcome: ProbeOutcome = .pass) -> ImpactRunRecord {
        ImpactRunRecord(
            exploration: Fixtures.exploration.key, syscall: syscall, mode: "stub", baseline: baseline, run: index,
            outcome: outcome, reason: "the test script exited 0", metric: outcome == .pass ? 1000 + Double(index) : nil,
            durationSeconds: 1.5, resources: outcome == .pass ? usage : nil,
            startedAt: Date(timeIntervalSince1970: 1_790_000_200 + Double(index) + (baseline ? 0 : 0.5)))
    }

    static func impactRunsJournalIdempotently(_ store: any ManagedStore & SQLResultStore) throws {
        let runs = [run(3, baseline: true, 1), run(3, baseline: false, 1, outcome: .error), run(3, baseline: true, 2)]
        for r in runs { try store.recordImpactRun(r) }
        #expect(try store.impactRuns(exploration: Fixtures.exploration.key) == runs)
        // A retried run replaces its error.
        let retried = run(3, baseline: false, 1)
        try store.recordImpactRun(retried)
        let stored = try store.impactRuns(exploration: Fixtures.exploration.key)
        #expect(stored.count == 3)
        #expect(stored.contains(retried))
        #expect(throws: StoreError.self) {
            var foreign = retried
            foreign.exploration = "no/such@exploration"
            try store.recordImpactRun(foreign)
        }
    }

    static func result(_ syscall: Int, _ mode: String, flagged: Bool) -> ImpactResult {
        ImpactResult(
            exploration: Fixtures.exploration.key, app: "redis", syscall: syscall, mode: mode, baselineRuns: 5,
            policyRuns: 4, policyFailures: 1, test: "welch", alpha: 0.05, threshold: 0.03, metricBetter: "higher",
            metricName: syscall == 1 ? nil : "requests/s", comparisons: [
                ImpactComparison(measure: .metric, baselineMean: 80_000, policyMean: 92_000, change: 0.15, pValue: 0.001, flagged: flagged),
                ImpactComparison(measure: .fds, baselineMean: 0, policyMean: 0, change: nil, pValue: 1, flagged: false),
                ImpactComparison(measure: .memory, baselineMean: 1e7, policyMean: 1e7, change: 0, pValue: nil, flagged: false),
            ],
            measuredAt: Date(timeIntervalSince1970: 1_790_000_300.5))
    }

    static func impactResultsReplacePerPair(_ store: any ManagedStore & SQLResultStore) throws {
        let results = [result(3, "stub", flagged: true), result(3, "fake", flagged: false), result(1, "fake", flagged: true)]
        try store.saveImpact(results)
        let sorted = results.sorted { ($0.syscall, $0.mode) < ($1.syscall, $1.mode) }
        #expect(try store.impactResults(exploration: Fixtures.exploration.key) == sorted)
        var replaced = result(3, "stub", flagged: false)
        replaced.comparisons.removeLast()
        try store.saveImpact([replaced])
        let stored = try store.impactResults(exploration: Fixtures.exploration.key)
        #expect(stored.count == 3)
        #expect(stored.first { $0.syscall == 3 && $0.mode == "stub" } == replaced)
        #expect(try scalar(store, "SELECT COUNT(*) FROM impact_comparison") == 8)
        #expect(try store.impactResults(exploration: "other") == [])
    }

    /// A database that got version 3 before a neighbour's lower version (two branches merged)
    /// gets the missing one on the next open, and keeps its data.
    static func laterMigrationAppliedAfterNewer(_ db: TestDatabase, _ store: any ManagedStore & SQLResultStore) throws {
        try store.saveImpact([result(3, "stub", flagged: true)])
        // Undo every other migration, newest first: its tables dropped, its added columns too.
        let others = StoreSchema.migrations.filter { $0.version != 1 && $0.version != 3 }
        for migration in others.reversed() {
            let undo = migration.statements(for: .sqlite).compactMap { sql -> String? in
                let words = sql.split(whereSeparator: { $0.isWhitespace || $0 == "(" })
                if words.count > 2, words[0] == "CREATE", words[1] == "TABLE" { return "DROP TABLE \(words[2])" }
                if words.count > 5, words[0] == "ALTER", words[1] == "TABLE", words[3] == "ADD", words[4] == "COLUMN" {
                    return "ALTER TABLE \(words[2]) DROP COLUMN \(words[5])"
                }
                return nil
            }
            try store.database.write { sql in
                for statement in undo.reversed() { try sql.execute(statement, []) }
                try sql.execute("DELETE FROM grdb_migrations WHERE identifier = ?", [SQLValue(migration.identifier)])
            }
        }
        let reopened = try db.open()
        #expect(try reopened.info().schemaVersion == StoreSchema.currentVersion)
        let identifiers = try reopened.database.read { try $0.query("SELECT identifier FROM grdb_migrations", []) }
        #expect(Set(identifiers.map(\.values)) == Set(StoreSchema.migrations.map { [.text($0.identifier)] }))
        #expect(try reopened.impactResults(exploration: Fixtures.exploration.key).count == 1)
    }
}

@Suite("Impact store (schema 3) on SQLite")
struct SQLiteImpactStoreTests {
    @Test(arguments: ImpactStoreBehaviour.allCases)
    func behaves(_ behaviour: ImpactStoreBehaviour) throws {
        try behaviour.check(on: .sqlite)
    }
}

@Suite(
    "Impact store (schema 3) on PostgreSQL",
    .enabled(if: postgresURL != nil, "SYSPECT_TEST_POSTGRES_URL is unset: no PostgreSQL server to test against"))
struct PostgresImpactStoreTests {
    @Test(arguments: ImpactStoreBehaviour.allCases)
    func behaves(_ behaviour: ImpactStoreBehaviour) throws {
        try behaviour.check(on: .postgres)
    }
}
