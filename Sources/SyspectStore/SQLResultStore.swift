import Foundation
import SyspectCore

/// The `ResultStore` behaviour written once over `SQLDatabase`: all of syspect's SQL for
/// measurements, explorations and probes. `SQLiteStore` and `PostgresStore` are this class on
/// their own connection; they add only opening, migrating and describing.
open class SQLResultStore: ResultStore, @unchecked Sendable {
    /// The connection everything runs on (thread-safe; see `SQLDatabase`). Internal: SQL stays
    /// in this module (tests reach it with `@testable import`).
    let database: any SQLDatabase

    public init(database: any SQLDatabase) {
        self.database = database
    }

    // MARK: - Measurements

    public func save(_ measurement: SyspectCore.Measurement) throws {
        try saveAll([measurement])
    }

    /// Replaces the measurements keyed by (app, workload, source), in one transaction, with a
    /// handful of multi-row statements (not one round trip per row: the loupedb import writes
    /// ~30 000 rows). Verdict and static rows of a replaced measurement go with it (ON DELETE
    /// CASCADE). When the list holds one key twice, the later one wins.
    public func saveAll(_ measurements: [SyspectCore.Measurement]) throws {
        var latest: [MeasurementKey: SyspectCore.Measurement] = [:]
        var order: [MeasurementKey] = []
        for m in measurements {
            let key = MeasurementKey(m)
            if latest.updateValue(m, forKey: key) == nil { order.append(key) }
        }
        guard !order.isEmpty else { return }
        try database.write { db in
            try forEachChunk(of: order, columns: 3) { chunk in
                try db.execute(
                    "DELETE FROM measurement WHERE (app, workload, source) IN (VALUES "
                        + tuples(count: chunk.count, columns: 3) + ")",
                    chunk.flatMap { [SQLValue($0.app), SQLValue($0.workload), SQLValue($0.source)] })
            }
            let heads = order.map { key -> [SQLValue] in
                let m = latest[key]!
                return [SQLValue(m.app), SQLValue(m.workload), SQLValue(m.kind.rawValue), SQLValue(m.source),
                        SQLValue(m.staticBinary != nil), SQLValue(m.staticSources != nil)]
            }
            var ids: [MeasurementKey: Int] = [:]
            for row in try insertRows(
                into: "measurement",
                columns: ["app", "workload", "kind", "source", "static_binary_known", "static_sources_known"],
                heads, db, returning: "id, app, workload, source")
            {
                ids[MeasurementKey(app: try row.string(1), workload: try row.string(2), source: try row.string(3))] = try row.int(0)
            }
            var verdictRows: [[SQLValue]] = [], staticRows: [[SQLValue]] = []
            for key in order {
                guard let id = ids[key] else { throw StoreError.database("INSERT … RETURNING gave no id for \(key.app)/\(key.workload)") }
                let m = latest[key]!
                for (number, verdict) in m.verdicts.sorted(by: { $0.key < $1.key }) {
                    verdictRows.append([SQLValue(id), SQLValue(number), SQLValue(SyscallTable.name(of: number)), SQLValue(verdict.rawValue)])
                }
                for (analysis, set) in [("binary", m.staticBinary), ("sources", m.staticSources)] {
                    for number in (set ?? []).sorted() { staticRows.append([SQLValue(id), SQLValue(analysis), SQLValue(number)]) }
                }
            }
            try insertRows(into: "measurement_verdict", columns: ["measurement_id", "syscall", "name", "verdict"], verdictRows, db)
            try insertRows(into: "measurement_static", columns: ["measurement_id", "analysis", "syscall"], staticRows, db)
        }
    }

    /// Multi-row INSERTs, chunked under the dialect's parameter limit: one round trip per chunk.
    /// Returns the rows of the `RETURNING` clause, when one is given.
    @discardableResult
    private func insertRows(
        into table: String, columns: [String], _ rows: [[SQLValue]], _ db: any SQLExecutor, returning: String? = nil
    ) throws -> [SQLRow] {
        var returned: [SQLRow] = []
        try forEachChunk(of: rows, columns: columns.count) { chunk in
            let sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
                + tuples(count: chunk.count, columns: columns.count) + (returning.map { " RETURNING " + $0 } ?? "")
            returned += try db.query(sql, chunk.flatMap { $0 })
        }
        return returned
    }

    /// Calls `body` with slices of `items` small enough for one statement (`columns` parameters each).
    private func forEachChunk<T>(of items: [T], columns: Int, _ body: (ArraySlice<T>) throws -> Void) throws {
        let perChunk = min(1000, database.dialect.maxParameters / columns)
        var start = 0
        while start < items.count {
            try body(items[start..<min(start + perChunk, items.count)])
            start += perChunk
        }
    }

    /// "(?, ?), (?, ?)" for `count` rows of `columns` values.
    private func tuples(count: Int, columns: Int) -> String {
        let tuple = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        return Array(repeating: tuple, count: count).joined(separator: ", ")
    }

    public func measurements(apps: [String]?, kind: WorkloadKind?) throws -> [SyspectCore.Measurement] {
        var conditions: [String] = []
        var arguments: [SQLValue] = []
        if let apps {
            guard !apps.isEmpty else { return [] }
            conditions.append("m.app IN (" + apps.map { _ in "?" }.joined(separator: ", ") + ")")
            arguments += apps.map(SQLValue.init)
        }
        if let kind {
            conditions.append("m.kind = ?")
            arguments.append(SQLValue(kind.rawValue))
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try database.read { db in
            let heads = try db.query(
                """
                SELECT m.id, m.app, m.workload, m.kind, m.source, m.static_binary_known, m.static_sources_known
                FROM measurement m\(filter) ORDER BY m.app, m.workload, m.source
                """, arguments)
            var byID: [Int: SyspectCore.Measurement] = [:]
            var order: [Int] = []
            for row in heads {
                let id = try row.int(0)
                order.append(id)
                byID[id] = SyspectCore.Measurement(
                    app: try row.string(1), workload: try row.string(2),
                    kind: try row.value(3, as: WorkloadKind.self), verdicts: [:],
                    staticBinary: try row.bool(5) ? [] : nil, staticSources: try row.bool(6) ? [] : nil,
                    source: try row.string(4))
            }
            for row in try db.query(
                "SELECT v.measurement_id, v.syscall, v.verdict FROM measurement_verdict v JOIN measurement m ON m.id = v.measurement_id\(filter)",
                arguments)
            {
                byID[try row.int(0)]?.verdicts[try row.int(1)] = try row.value(2, as: Verdict.self)
            }
            for row in try db.query(
                "SELECT s.measurement_id, s.analysis, s.syscall FROM measurement_static s JOIN measurement m ON m.id = s.measurement_id\(filter)",
                arguments)
            {
                let id = try row.int(0), number = try row.int(2)
                switch try row.string(1) {
                case "binary": byID[id]?.staticBinary?.insert(number)
                case "sources": byID[id]?.staticSources?.insert(number)
                case let other: throw StoreError.corrupt("unknown static analysis '\(other)'")
                }
            }
            return order.map { byID[$0]! }
        }
    }

    // MARK: - Explorations

    private static let explorationColumns =
        "key, app, workload, kind, spec_hash, spec_text, strategy, started_at, finished_at, probe_count, wall_seconds, "
        + "priors_origin, priors_apps, priors_dataset"

    public func beginExploration(_ e: ExplorationRecord) throws {
        try database.write { db in
            let inserted = try db.query(
                """
                INSERT INTO exploration (\(Self.explorationColumns))
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING key
                """,
                [SQLValue(e.key), SQLValue(e.app), SQLValue(e.workload), SQLValue(e.kind.rawValue),
                 SQLValue(e.specHash), SQLValue(e.specText), SQLValue(e.strategy), SQLValue(e.startedAt),
                 SQLValue(e.finishedAt), SQLValue(e.probeCount), SQLValue(e.wallSeconds)] + Self.priorsValues(e))
            if !inserted.isEmpty { try insertCensus(e, db) }
        }
    }

    public func updateExploration(_ e: ExplorationRecord) throws {
        try database.write { db in
            let updated = try db.query(
                """
                UPDATE exploration SET strategy = ?, finished_at = ?, probe_count = ?, wall_seconds = ?,
                    priors_origin = ?, priors_apps = ?, priors_dataset = ?
                WHERE key = ? RETURNING key
                """,
                [SQLValue(e.strategy), SQLValue(e.finishedAt), SQLValue(e.probeCount),
                 SQLValue(e.wallSeconds)] + Self.priorsValues(e) + [SQLValue(e.key)])
            guard !updated.isEmpty else { throw StoreError.unknownExploration(e.key) }
            try db.execute("DELETE FROM census_entry WHERE exploration_key = ?", [SQLValue(e.key)])
            try insertCensus(e, db)
        }
    }

    /// `priors_origin`, `priors_apps`, `priors_dataset` of an exploration (NULLs without priors).
    private static func priorsValues(_ e: ExplorationRecord) -> [SQLValue] {
        [SQLValue(e.priors?.origin.rawValue), SQLValue(e.priors?.apps), SQLValue(e.priors?.dataset)]
    }

    private func insertCensus(_ e: ExplorationRecord, _ db: any SQLExecutor) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let rows = try e.census.enumerated().map { position, c in
            [SQLValue(e.key), SQLValue(position), SQLValue(c.arch.rawValue), SQLValue(c.number), SQLValue(c.name),
             SQLValue(c.calls), SQLValue(c.failures),
             SQLValue(String(decoding: try encoder.encode(c.errnos), as: UTF8.self))]
        }
        try insertRows(
            into: "census_entry",
            columns: ["exploration_key", "position", "arch", "number", "name", "calls", "failures", "errnos"], rows, db)
    }

    public func exploration(key: String) throws -> ExplorationRecord? {
        try loadExplorations(where: "key = ?", [SQLValue(key)]).first
    }

    public func explorations(app: String?) throws -> [ExplorationRecord] {
        if let app { return try loadExplorations(where: "app = ?", [SQLValue(app)]) }
        return try loadExplorations(where: nil, [])
    }

    private func loadExplorations(where condition: String?, _ arguments: [SQLValue]) throws -> [ExplorationRecord] {
        let filter = condition.map { " WHERE " + $0 } ?? ""
        return try database.read { db in
            var records: [ExplorationRecord] = try db.query(
                "SELECT \(Self.explorationColumns) FROM exploration\(filter) ORDER BY app, workload, started_at, key",
                arguments
            ).map { row in
                var record = ExplorationRecord(
                    key: try row.string(0), app: try row.string(1), workload: try row.string(2),
                    kind: try row.value(3, as: WorkloadKind.self), specHash: try row.string(4),
                    specText: try row.string(5), strategy: try row.string(6), startedAt: try row.date(7),
                    finishedAt: try row.optionalDate(8), census: [], probeCount: try row.int(9),
                    wallSeconds: try row.double(10))
                if let origin = try row.optionalString(11) {
                    guard let o = PriorsSource.Origin(rawValue: origin) else { throw StoreError.corrupt("unknown priors origin '\(origin)'") }
                    record.priors = PriorsSource(origin: o, apps: try row.optionalInt(12) ?? 0, dataset: try row.optionalString(13))
                }
                return record
            }
            let index = Dictionary(uniqueKeysWithValues: records.enumerated().map { ($1.key, $0) })
            let censusFilter = condition.map { " WHERE exploration_key IN (SELECT key FROM exploration WHERE \($0))" } ?? ""
            let decoder = JSONDecoder()
            for row in try db.query(
                "SELECT exploration_key, arch, number, name, calls, failures, errnos FROM census_entry\(censusFilter) ORDER BY exploration_key, position",
                arguments)
            {
                guard let i = index[try row.string(0)] else { continue }
                let errnos: [String: Int]
                do {
                    errnos = try decoder.decode([String: Int].self, from: Data(try row.string(6).utf8))
                } catch {
                    throw StoreError.corrupt("census errnos of exploration '\(records[i].key)' are not a JSON object of counts")
                }
                records[i].census.append(CensusEntry(
                    arch: try row.value(1, as: Arch.self), number: try row.int(2), name: try row.string(3),
                    calls: try row.int(4), failures: try row.int(5), errnos: errnos))
            }
            return records
        }
    }

    // MARK: - Probe journal

    /// Journals a probe. Keyed by (exploration, policy, replica): recording the same probe again
    /// replaces it (a retried `error` probe keeps only its latest outcome), never duplicates it.
    public func record(_ p: ProbeRecord) throws {
        try database.write { db in
            let known = try db.query("SELECT 1 FROM exploration WHERE key = ?", [SQLValue(p.exploration)])
            guard !known.isEmpty else { throw StoreError.unknownExploration(p.exploration) }
            try db.execute(
                """
                INSERT INTO probe (exploration_key, policy, replica, outcome, reason, exit_status, duration_seconds, metric, started_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (exploration_key, policy, replica) DO UPDATE SET
                    outcome = excluded.outcome, reason = excluded.reason, exit_status = excluded.exit_status,
                    duration_seconds = excluded.duration_seconds, metric = excluded.metric, started_at = excluded.started_at
                """,
                [SQLValue(p.exploration), SQLValue(p.policy), SQLValue(p.replica), SQLValue(p.outcome.rawValue),
                 SQLValue(p.reason), SQLValue(p.exitStatus.map(Int.init)), SQLValue(p.durationSeconds),
                 SQLValue(p.metric), SQLValue(p.startedAt)])
            try writeProbeResources(p, db)
            try writeProbeCases(p, db)
        }
    }

    public func probes(exploration key: String) throws -> [ProbeRecord] {
        try database.read { db in
            try withProbeCases(key, db, try withProbeResources(key, db, try db.query(
                """
                SELECT policy, replica, outcome, reason, exit_status, duration_seconds, metric, started_at
                FROM probe WHERE exploration_key = ? ORDER BY started_at, policy, replica
                """, [SQLValue(key)]
            ).map { row in
                ProbeRecord(
                    exploration: key, policy: try row.string(0), replica: try row.int(1),
                    outcome: try row.value(2, as: ProbeOutcome.self), reason: try row.string(3),
                    exitStatus: try row.optionalInt(4).map { Int32(truncatingIfNeeded: $0) },
                    durationSeconds: try row.double(5), metric: try row.optionalDouble(6),
                    startedAt: try row.date(7))
            }))
        }
    }

    // MARK: - Sub-features, pseudo-files, fake values (issue 5)

    public func saveFindings(_ f: FeatureFindings, exploration key: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func json<T: Encodable>(_ value: T) throws -> SQLValue { SQLValue(String(decoding: try encoder.encode(value), as: UTF8.self)) }
        let k = SQLValue(key)
        let features = try f.features.map { x -> [SQLValue] in
            let feature = x.use.feature
            return [k, SQLValue(feature.key), SQLValue(feature.syscall), SQLValue(feature.argument), SQLValue(feature.name),
                    try json(feature.match), SQLValue(x.use.calls), SQLValue(x.use.failures), SQLValue(x.verdict?.rawValue)]
        }
        let files = try f.files.map { x -> [SQLValue] in
            [k, SQLValue(x.use.path), try json(x.use.calls), SQLValue(x.use.failures),
             SQLValue(x.absentPasses.map { $0 ? 1 : 0 }), SQLValue(x.stubPasses.map { $0 ? 1 : 0 })]
        }
        let values = f.fakeValues.sorted { $0.key < $1.key }.map { [k, SQLValue($0.key), SQLValue($0.value.text)] }
        try database.write { db in
            let known = try db.query("SELECT 1 FROM exploration WHERE key = ?", [k])
            guard !known.isEmpty else { throw StoreError.unknownExploration(key) }
            for table in ["feature_finding", "file_finding", "fake_value"] {
                try db.execute("DELETE FROM \(table) WHERE exploration_key = ?", [k])
            }
            try insertRows(into: "feature_finding", columns: ["exploration_key", "feature_key", "syscall", "argument", "name",
                                                              "match_json", "calls", "failures", "verdict"], features, db)
            try insertRows(into: "file_finding", columns: ["exploration_key", "path", "calls_json", "failures",
                                                           "absent_passes", "stub_passes"], files, db)
            try insertRows(into: "fake_value", columns: ["exploration_key", "syscall", "rule"], values, db)
        }
    }

    public func findings(exploration key: String) throws -> FeatureFindings {
        let decoder = JSONDecoder()
        func decode<T: Decodable>(_ type: T.Type, _ text: String, _ what: String) throws -> T {
            do { return try decoder.decode(type, from: Data(text.utf8)) } catch {
                throw StoreError.corrupt("\(what) of exploration '\(key)' is not valid JSON")
            }
        }
        func passes(_ value: Int?) -> Bool? { value.map { $0 != 0 } }
        return try database.read { db in
            var result = FeatureFindings()
            for row in try db.query(
                "SELECT syscall, argument, name, match_json, calls, failures, verdict FROM feature_finding WHERE exploration_key = ? ORDER BY syscall, argument, name",
                [SQLValue(key)])
            {
                let feature = SubFeature(syscall: try row.int(0), argument: try row.string(1), name: try row.string(2),
                                         match: try decode(FeatureMatch.self, try row.string(3), "a sub-feature match"))
                result.features.append(FeatureFinding(
                    use: FeatureUse(feature: feature, calls: try row.int(4), failures: try row.int(5)),
                    verdict: try row.optionalString(6) == nil ? nil : try row.value(6, as: Verdict.self)))
            }
            for row in try db.query(
                "SELECT path, calls_json, failures, absent_passes, stub_passes FROM file_finding WHERE exploration_key = ? ORDER BY path",
                [SQLValue(key)])
            {
                result.files.append(FileFinding(
                    use: PseudoFileUse(path: try row.string(0), calls: try decode([String: Int].self, try row.string(1), "pseudo-file calls"),
                                       failures: try row.int(2)),
                    absentPasses: passes(try row.optionalInt(3)), stubPasses: passes(try row.optionalInt(4))))
            }
            for row in try db.query("SELECT syscall, rule FROM fake_value WHERE exploration_key = ?", [SQLValue(key)]) {
                guard let rule = FakeValueRule(text: try row.string(1)) else {
                    throw StoreError.corrupt("fake value '\(try row.string(1))' of exploration '\(key)' is not a known rule")
                }
                result.fakeValues[try row.int(0)] = rule
            }
            return result
        }
    }

    // MARK: - Run locks

    /// The run lock of exploration `key` (`SQLDatabase.tryLock`); throws
    /// `StoreError.explorationRunning` naming the holder when another run has it.
    public func claimExploration(key: String) throws -> any ExplorationClaim {
        let name = "explore " + key
        if let holder = try database.tryLock(name) { throw StoreError.explorationRunning(key: key, holder: holder) }
        return DatabaseClaim(database: database, name: name)
    }

    // MARK: - Administration

    /// Backend, location, schema version and row counts, for `syspect db info`.
    public func storeInfo(backend: String, location: StoreLocation) throws -> StoreInfo {
        let applied = try database.read { db in
            try db.query("SELECT identifier FROM \(StoreSchema.versionTable)", []).map { try $0.string(0) }
        }
        return StoreInfo(
            backend: backend, location: location.description,
            schemaVersion: try StoreSchema.version(ofApplied: Set(applied), location: location.description),
            knownSchemaVersion: StoreSchema.currentVersion, counts: try counts())
    }

    /// Row counts for `syspect db info`.
    public func counts() throws -> StoreCounts {
        try database.read { db in
            let row = try db.query(
                """
                SELECT (SELECT COUNT(*) FROM measurement), (SELECT COUNT(DISTINCT app) FROM measurement),
                       (SELECT COUNT(*) FROM measurement_verdict), (SELECT COUNT(*) FROM exploration),
                       (SELECT COUNT(*) FROM probe)
                """, [])[0]
            return StoreCounts(
                measurements: try row.int(0), apps: try row.int(1), verdicts: try row.int(2),
                explorations: try row.int(3), probes: try row.int(4))
        }
    }
}

/// A held `SQLDatabase` lock, given back once.
private final class DatabaseClaim: ExplorationClaim, @unchecked Sendable {
    private let database: any SQLDatabase
    private let name: String
    private let released = NSLock()
    private var done = false

    init(database: any SQLDatabase, name: String) {
        self.database = database
        self.name = name
    }

    deinit { release() }

    func release() {
        let first = released.withLock { () -> Bool in
            defer { done = true }
            return !done
        }
        if first { database.unlock(name) }
    }
}

/// The identity of a stored measurement.
private struct MeasurementKey: Hashable {
    var app: String
    var workload: String
    var source: String

    init(app: String, workload: String, source: String) {
        self.app = app
        self.workload = workload
        self.source = source
    }

    init(_ m: SyspectCore.Measurement) { self.init(app: m.app, workload: m.workload, source: m.source) }
}

/// How much a store holds (`syspect db info`).
public struct StoreCounts: Codable, Sendable, Hashable {
    public var measurements: Int
    public var apps: Int
    /// Per-syscall verdict rows over all measurements.
    public var verdicts: Int
    public var explorations: Int
    public var probes: Int

    public init(measurements: Int, apps: Int, verdicts: Int, explorations: Int, probes: Int) {
        self.measurements = measurements
        self.apps = apps
        self.verdicts = verdicts
        self.explorations = explorations
        self.probes = probes
    }
}
