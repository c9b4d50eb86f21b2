import Foundation
import SyspectCore
@testable import SyspectStore
import Testing

/// Schema version 2 ("features-and-files"): sub-feature and pseudo-file census and verdicts and
/// the fake values that worked, per exploration, on SQLite and (when SYSPECT_TEST_POSTGRES_URL is
/// set) PostgreSQL.
enum FeatureStoreBehaviour: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case findingsRoundTrip
    case savingReplaces
    case deletedWithTheirExploration
    case unknownExplorationIsRejected
    case emptyWhenNothingSaved

    var testDescription: String { rawValue }

    /// Every verdict and none, a value above INT_MAX (ioctl TIOCGPTN), a memory match (clone3),
    /// files probed and not, three kinds of fake rule.
    static let findings = FeatureFindings(
        features: [
            FeatureFinding(use: FeatureUse(feature: SubFeature(
                syscall: 16, argument: "request", name: "TIOCGPTN",
                match: .arguments([ArgumentCondition(index: 1, value: 0x8004_5430)])), calls: 2, failures: 1), verdict: .stub),
            FeatureFinding(use: FeatureUse(feature: SubFeature(
                syscall: 72, argument: "cmd", name: "F_SETFL",
                match: .arguments([ArgumentCondition(index: 1, value: 4)])), calls: 9), verdict: .required),
            FeatureFinding(use: FeatureUse(feature: SubFeature(
                syscall: 72, argument: "cmd", name: "F_SETFD",
                match: .arguments([ArgumentCondition(index: 1, value: 2)])), calls: 3), verdict: .either),
            FeatureFinding(use: FeatureUse(feature: SubFeature(
                syscall: 435, argument: "flags", name: "CLONE_THREAD",
                match: .memory(pointer: 0, offset: 0, mask: 0x10000, value: 0x10000)), calls: 4), verdict: .fake),
            FeatureFinding(use: FeatureUse(feature: SubFeature(
                syscall: 9, argument: "prot", name: "PROT_EXEC",
                match: .arguments([ArgumentCondition(index: 2, value: 4, mask: 4)])), calls: 16), verdict: nil),
        ],
        files: [
            FileFinding(use: PseudoFileUse(path: "/dev/urandom", calls: ["openat": 1]), absentPasses: true, stubPasses: false),
            FileFinding(use: PseudoFileUse(path: "/proc/<pid>/stat", calls: ["openat": 2, "newfstatat": 1], failures: 1)),
        ],
        fakeValues: [1: .argument(2), 20: .iovecTotal(vector: 1, count: 2), 435: .constant(1000)])

    func check(on backend: Backend) throws {
        let db = try TestDatabase(backend)
        defer { db.destroy() }
        let store = try db.open()
        try store.beginExploration(Fixtures.exploration)
        let key = Fixtures.exploration.key
        switch self {
        case .findingsRoundTrip:
            try store.saveFindings(Self.findings, exploration: key)
            let read = try db.open().findings(exploration: key)  // a new connection: durable
            #expect(read.features.map(\.use.feature) == Self.findings.features.map(\.use.feature).sorted())
            #expect(Set(read.features) == Set(Self.findings.features))
            #expect(read.files == Self.findings.files)
            #expect(read.fakeValues == Self.findings.fakeValues)
        case .savingReplaces:
            try store.saveFindings(Self.findings, exploration: key)
            let census = FeatureFindings(features: [FeatureFinding(use: Self.findings.features[1].use)])
            try store.saveFindings(census, exploration: key)
            #expect(try store.findings(exploration: key) == census)
        case .deletedWithTheirExploration:
            try store.saveFindings(Self.findings, exploration: key)
            try store.database.write { try $0.execute("DELETE FROM exploration WHERE key = ?", [SQLValue(key)]) }
            for table in ["feature_finding", "file_finding", "fake_value"] {
                #expect(try scalar(store, "SELECT COUNT(*) FROM \(table)") == 0, "\(table)")
            }
        case .unknownExplorationIsRejected:
            #expect(throws: StoreError.self) { try store.saveFindings(Self.findings, exploration: "nope/none@0") }
        case .emptyWhenNothingSaved:
            #expect(try store.findings(exploration: key).isEmpty)
        }
    }
}

@Suite("Feature store (schema 2) on SQLite")
struct SQLiteFeatureStoreTests {
    @Test(arguments: FeatureStoreBehaviour.allCases)
    func behaves(_ behaviour: FeatureStoreBehaviour) throws {
        try behaviour.check(on: .sqlite)
    }

    @Test func schemaVersionsAreInOrder() {
        let versions = StoreSchema.migrations.map(\.version)
        #expect(versions == versions.sorted())
        #expect(StoreSchema.migrations.contains { $0.identifier == "0002-features-and-files" })
    }
}

@Suite(
    "Feature store (schema 2) on PostgreSQL",
    .enabled(if: postgresURL != nil, "SYSPECT_TEST_POSTGRES_URL is unset: no PostgreSQL server to test against"))
struct PostgresFeatureStoreTests {
    @Test(arguments: FeatureStoreBehaviour.allCases)
    func behaves(_ behaviour: FeatureStoreBehaviour) throws {
        try behaviour.check(on: .postgres)
    }
}
