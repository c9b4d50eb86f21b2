import Foundation
import SyspectTestSupport
import SyspectCore
import SyspectPostgres
@testable import SyspectStore
import Testing

/// Environment variable holding the URL of a PostgreSQL database the tests may create schemas
/// in (`.ci/run` sets it after `scripts/start-postgres`). Unset: PostgreSQL suites are skipped.
let postgresURLVariable = "SYSPECT_TEST_POSTGRES_URL"
let postgresURL: String? = ProcessInfo.processInfo.environment[postgresURLVariable].flatMap { $0.isEmpty ? nil : $0 }

/// The published loupedb data in the repository (`data/loupedb`, or `$SYSPECT_LOUPEDB`).
let loupedbDirectory = RepositoryData.loupedb

/// The two store backends the behaviour suite runs on.
enum Backend: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres
    var testDescription: String { rawValue }
}

/// A fresh, private database for one test: a new SQLite file in a temporary folder, or a new
/// schema in the test PostgreSQL database (dropped by `destroy()`).
final class TestDatabase {
    let backend: Backend
    let location: StoreLocation
    private let folder: URL?
    private let schema: String?

    init(_ backend: Backend) throws {
        self.backend = backend
        switch backend {
        case .sqlite:
            let folder = try temporaryFolder()
            self.folder = folder
            schema = nil
            location = .sqlite(path: folder.appendingPathComponent("nested/dir/syspect.db").path)
        case .postgres:
            guard let base = postgresURL else { throw TestSkip.noPostgres }
            let schema = "syspect_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
            self.schema = schema
            folder = nil
            location = .postgres(url: base + (base.contains("?") ? "&" : "?") + "schema=" + schema)
        }
    }

    /// Opens the store (a new connection each time).
    func open() throws -> any ManagedStore & SQLResultStore {
        switch location {
        case .sqlite(let path): return try SQLiteStore(path: path)
        case .postgres(let url): return try PostgresStore(url: url)
        }
    }

    /// Removes everything this test created.
    func destroy() {
        if let folder { try? FileManager.default.removeItem(at: folder) }
        if let schema, let base = postgresURL, let store = try? PostgresStore(url: base) {
            _ = try? store.database.write { try $0.execute("DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE", []) }
            store.close()
        }
    }
}

enum TestSkip: Error { case noPostgres }

func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("syspect-store-tests-" + UUID().uuidString)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

// MARK: - Hand-made records

enum Fixtures {
    /// A measurement using every verdict, numbers above 334 (clone3 = 435, openat2 = 437) and
    /// both static-analysis sets.
    static let redis = SyspectCore.Measurement(
        app: "redis", workload: "benchmark-redis-benchmark", kind: .benchmark,
        verdicts: [0: .required, 1: .fake, 3: .stub, 9: .either, 288: .stub, 435: .either, 437: .required],
        staticBinary: [0, 1, 3, 9, 288, 435, 437, 500], staticSources: [], source: "syspect")

    /// No static analysis known (nil sets), a suite workload.
    static let nginx = SyspectCore.Measurement(
        app: "nginx", workload: "suite-nginx-tests", kind: .suite,
        verdicts: [0: .required, 2: .fake, 288: .stub], source: "loupedb:nginx/suite-nginx-tests/imported")

    static let exploration = ExplorationRecord(
        key: "redis/benchmark-redis-benchmark/abc123", app: "redis", workload: "benchmark-redis-benchmark",
        kind: .benchmark, specHash: "abc123", specText: "name = \"redis\"\n", strategy: "one-by-one",
        startedAt: Date(timeIntervalSince1970: 1_790_000_000.25),
        census: [
            CensusEntry(arch: .x86_64, number: 0, name: "read", calls: 12_000_000_000, failures: 3, errnos: ["EAGAIN": 3]),
            CensusEntry(arch: .i386, number: 20, name: "getpid", calls: 1, failures: 0, errnos: [:]),
        ])

    static func probe(
        _ policy: String, replica: Int = 0, outcome: ProbeOutcome = .pass, exploration: String = exploration.key
    ) -> ProbeRecord {
        ProbeRecord(
            exploration: exploration, policy: policy, replica: replica, outcome: outcome,
            reason: outcome == .pass ? "script exited 0" : "script exited 1", exitStatus: outcome == .error ? nil : 0,
            durationSeconds: 1.5, metric: outcome == .pass ? 81234.5 : nil,
            startedAt: Date(timeIntervalSince1970: 1_790_000_100.5 + Double(replica)))
    }
}

/// Measurements sorted as the store returns them (app, workload, source).
func sortedForStore(_ ms: [SyspectCore.Measurement]) -> [SyspectCore.Measurement] {
    ms.sorted { ($0.app, $0.workload, $0.source) < ($1.app, $1.workload, $1.source) }
}

/// Reads the first column of a one-row query as an integer.
func scalar(_ store: SQLResultStore, _ sql: String, _ arguments: [SQLValue] = []) throws -> Int64? {
    try store.database.read { db in
        guard let row = try db.query(sql, arguments).first, case .integer(let v) = row.values[0] else { return nil }
        return v
    }
}
