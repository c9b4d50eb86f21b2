import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SyspectCore
import SyspectPostgres
@testable import SyspectServe
@testable import SyspectStore
import Testing

/// The test PostgreSQL database (`.ci/run` sets it after `scripts/start-postgres`); unset: the
/// PostgreSQL cases are skipped.
let servePostgresURL: String? = ProcessInfo.processInfo.environment["SYSPECT_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

/// The built CLI beside the test bundle.
let serveSyspectBinary = Bundle.main.bundleURL.appendingPathComponent("syspect").path

enum ServeBackend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres
    var testDescription: String { rawValue }

    /// The backends this machine can test (PostgreSQL only with SYSPECT_TEST_POSTGRES_URL).
    static var available: [ServeBackend] { servePostgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }
}

/// A fresh database of one test: an SQLite file in a new folder, or a new PostgreSQL schema
/// (dropped by `destroy`).
final class ServeTestDatabase: @unchecked Sendable {
    let location: StoreLocation
    let folder: URL
    private let schema: String?

    init(_ backend: ServeBackend) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("syspect-serve-tests-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        switch backend {
        case .sqlite:
            schema = nil
            location = .sqlite(path: folder.appendingPathComponent("syspect.db").path)
        case .postgres:
            let base = servePostgresURL!
            let schema = "syspect_serve_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
            self.schema = schema
            location = .postgres(url: base + (base.contains("?") ? "&" : "?") + "schema=" + schema)
        }
    }

    /// The `--db` value of this database.
    var argument: String {
        switch location {
        case .sqlite(let path): return path
        case .postgres(let url): return url
        }
    }

    func open() throws -> any ManagedStore & SQLResultStore {
        switch location {
        case .sqlite(let path): return try SQLiteStore(path: path)
        case .postgres(let url): return try PostgresStore(url: url)
        }
    }

    func destroy() {
        try? FileManager.default.removeItem(at: folder)
        if let schema, let base = servePostgresURL, let store = try? PostgresStore(url: base) {
            _ = try? store.database.write { try $0.execute("DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE", []) }
            store.close()
        }
    }
}

/// Row counts of every table a push or a token writes: a refused request must leave them as they were.
func writeCounts(_ store: SQLResultStore) throws -> [Int] {
    try store.database.read { db in
        try ["exploration", "probe", "census_entry", "measurement", "feature_finding", "impact_run", "impact_result",
             "exploration_static", "api_token", "push_log"].map { table in
            try db.query("SELECT COUNT(*) FROM \(table)", [])[0].int(0)
        }
    }
}

/// An HTTP answer.
struct HTTPAnswer: Sendable {
    var status: Int
    var headers: [String: String]
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }

    func json<T: Decodable>(_ type: T.Type) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(type, from: body)
    }

    /// The `error.message` of a JSON error answer.
    var errorMessage: String? {
        struct Body: Decodable { struct E: Decodable { var message: String }; var error: E }
        return (try? JSONDecoder().decode(Body.self, from: body))?.error.message
    }

    func header(_ name: String) -> String? {
        headers.first { $0.key.lowercased() == name.lowercased() }?.value
    }
}

/// A real HTTP client (URLSession) against a server on loopback.
struct HTTP {
    let base: URL

    func get(_ path: String, headers: [String: String] = [:]) async throws -> HTTPAnswer {
        try await send("GET", path, headers: headers, body: nil)
    }

    func post(_ path: String, body: Data, contentType: String = "application/json", headers: [String: String] = [:]) async throws -> HTTPAnswer {
        try await send("POST", path, headers: headers.merging(["Content-Type": contentType]) { $1 }, body: body)
    }

    func send(_ method: String, _ path: String, headers: [String: String], body: Data?) async throws -> HTTPAnswer {
        var request = URLRequest(url: URL(string: base.absoluteString + path)!, timeoutInterval: 120)
        request.httpMethod = method
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        request.httpBody = body
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (k, v) in http.allHeaderFields { fields["\(k)"] = "\(v)" }
        return HTTPAnswer(status: http.statusCode, headers: fields, body: data)
    }
}

/// Runs `body` against a real server on a free loopback port over `site`; stops it after.
func withServer<T>(_ site: Site, _ body: (HTTP) async throws -> T) async throws -> T {
    let server = try await SiteServer.start(site: site)
    do {
        let result = try await body(HTTP(base: server.baseURL))
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// Hand-made explorations, as `syspect explore` stores them.
enum ServeFixtures {
    static let spec = "name: redis\nworkload:\n  kind: benchmark\n"

    static func record(key: String = "redis/benchmark-redis-benchmark/s1", specHash: String = "s1", startedAt: Double = 1000,
                       finishedAt: Double? = 2000) -> ExplorationRecord {
        ExplorationRecord(
            key: key, app: "redis", workload: "benchmark-redis-benchmark", kind: .benchmark, specHash: specHash, specText: spec,
            strategy: "one-by-one", startedAt: Date(timeIntervalSince1970: startedAt),
            finishedAt: finishedAt.map { Date(timeIntervalSince1970: $0) },
            census: [CensusEntry(arch: .x86_64, number: 0, name: "read", calls: 10, failures: 0, errnos: [:]),
                     CensusEntry(arch: .x86_64, number: 39, name: "getpid", calls: 2, failures: 0, errnos: [:]),
                     CensusEntry(arch: .x86_64, number: 3, name: "close", calls: 4, failures: 1, errnos: ["EBADF": 1])],
            probeCount: 0, wallSeconds: 12.5)
    }

    static func probe(_ key: String, _ policy: String, _ outcome: ProbeOutcome, replica: Int = 1, at: Double = 1500) -> ProbeRecord {
        var p = ProbeRecord(exploration: key, policy: policy, replica: replica, outcome: outcome,
                            reason: outcome == .pass ? "passed" : "script exited 1", exitStatus: outcome == .pass ? 0 : 1,
                            durationSeconds: 1.25, metric: 1234.5, startedAt: Date(timeIntervalSince1970: at),
                            resources: ResourceUsage(peakRSSBytes: 1 << 20, peakFDs: 9, cpuSeconds: 0.5, wallSeconds: 1.2, samples: 4))
        if policy == "baseline" { p.passedCases = nil }
        return p
    }

    static func measurement(_ verdicts: [Int: Verdict] = [0: .required, 3: .either, 39: .stub]) -> SyspectCore.Measurement {
        SyspectCore.Measurement(app: "redis", workload: "benchmark-redis-benchmark", kind: .benchmark, verdicts: verdicts,
                                staticBinary: [0, 3, 39, 60], source: "syspect")
    }

    static func findings() -> FeatureFindings {
        FeatureFindings(
            features: [FeatureFinding(use: FeatureUse(feature: SubFeature(syscall: 72, argument: "cmd", name: "F_GETFL", match: .arguments([ArgumentCondition(index: 1, value: 3)])),
                                                      calls: 3, failures: 0), verdict: .fake)],
            files: [FileFinding(use: PseudoFileUse(path: "/proc/self/status", calls: ["openat": 1], failures: 0), absentPasses: true, stubPasses: false)])
    }

    static func impact(_ key: String) -> ([ImpactRunRecord], [ImpactResult]) {
        let runs = (1...2).flatMap { run in
            [true, false].map { baseline in
                ImpactRunRecord(exploration: key, syscall: 39, mode: "stub", baseline: baseline, run: run, outcome: .pass, reason: "passed",
                                metric: baseline ? 100 : 90, durationSeconds: 1, resources: nil, startedAt: Date(timeIntervalSince1970: 1700 + Double(run)))
            }
        }
        let result = ImpactResult(exploration: key, app: "redis", syscall: 39, mode: "stub", baselineRuns: 2, policyRuns: 2, policyFailures: 0,
                                  test: "welch", alpha: 0.05, threshold: 0.03, metricBetter: "higher", metricName: "requests/s",
                                  comparisons: [ImpactComparison(measure: .metric, baselineMean: 100, policyMean: 90, change: -0.1, pValue: 0.01, flagged: true)],
                                  measuredAt: Date(timeIntervalSince1970: 1800))
        return (runs, [result])
    }

    /// Stores an exploration with probes (and, when asked, findings, impact and the measurement).
    static func store(_ store: any ResultStore, record: ExplorationRecord, probes: [(String, ProbeOutcome)],
                      measurement: SyspectCore.Measurement? = nil, extras: Bool = false) throws {
        try store.beginExploration(record)
        for (policy, outcome) in probes { try store.record(probe(record.key, policy, outcome)) }
        var done = record
        done.probeCount = probes.count
        try store.updateExploration(done)
        if extras {
            try store.saveFindings(findings(), exploration: record.key)
            let (runs, results) = impact(record.key)
            for r in runs { try store.recordImpactRun(r) }
            try store.saveImpact(results)
        }
        if let measurement { try store.save(measurement) }
    }
}
