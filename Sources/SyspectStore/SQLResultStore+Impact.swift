import Foundation
import SyspectCore

/// The SQL of schema version 3 ("impact"): resource use per probe, the impact analysis's run
/// journal and its results (docs/impact.md). Shared by SQLite and PostgreSQL like the rest.
extension SQLResultStore {
    /// The resource columns, in `ResourceUsage` order (the same in `probe_resources` and `impact_run`).
    static let resourceColumns = [
        "peak_rss_bytes", "peak_hwm_bytes", "peak_fds", "cpu_seconds", "resource_wall_seconds",
        "peak_processes", "samples", "sampler_cpu_seconds",
    ]

    static func resourceValues(_ r: ResourceUsage?) -> [SQLValue] {
        guard let r else { return Array(repeating: .null, count: resourceColumns.count) }
        return [SQLValue(r.peakRSSBytes), SQLValue(r.peakHWMBytes), SQLValue(r.peakFDs), SQLValue(r.cpuSeconds),
                SQLValue(r.wallSeconds), SQLValue(r.peakProcesses), SQLValue(r.samples), SQLValue(r.samplerCPUSeconds)]
    }

    /// The `ResourceUsage` in the resource columns starting at `offset`; nil when not sampled.
    static func resources(_ row: SQLRow, at offset: Int) throws -> ResourceUsage? {
        guard let rss = try row.optionalInt(offset) else { return nil }
        return ResourceUsage(
            peakRSSBytes: rss, peakHWMBytes: try row.int(offset + 1), peakFDs: try row.int(offset + 2),
            cpuSeconds: try row.double(offset + 3), wallSeconds: try row.double(offset + 4),
            peakProcesses: try row.int(offset + 5), samples: try row.int(offset + 6),
            samplerCPUSeconds: try row.double(offset + 7))
    }

    private static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    // MARK: - Probe resources

    /// Replaces the resource row of a journaled probe (none when it was not sampled).
    func writeProbeResources(_ p: ProbeRecord, _ db: any SQLExecutor) throws {
        let key = [SQLValue(p.exploration), SQLValue(p.policy), SQLValue(p.replica)]
        try db.execute("DELETE FROM probe_resources WHERE exploration_key = ? AND policy = ? AND replica = ?", key)
        guard p.resources != nil else { return }
        try db.execute(
            "INSERT INTO probe_resources (exploration_key, policy, replica, \(Self.resourceColumns.joined(separator: ", "))) "
                + "VALUES (\(Self.placeholders(3 + Self.resourceColumns.count)))",
            key + Self.resourceValues(p.resources))
    }

    /// `records` (all of exploration `key`) with their resource rows attached.
    func withProbeResources(_ key: String, _ db: any SQLExecutor, _ records: [ProbeRecord]) throws -> [ProbeRecord] {
        var byProbe: [String: ResourceUsage] = [:]
        for row in try db.query(
            "SELECT policy, replica, \(Self.resourceColumns.joined(separator: ", ")) FROM probe_resources WHERE exploration_key = ?",
            [SQLValue(key)])
        {
            byProbe["\(try row.string(0))#\(try row.int(1))"] = try Self.resources(row, at: 2)
        }
        guard !byProbe.isEmpty else { return records }
        return records.map { record in
            var copy = record
            copy.resources = byProbe["\(record.policy)#\(record.replica)"]
            return copy
        }
    }

    // MARK: - Impact runs

    private static let impactRunColumns =
        "syscall, mode, arm, run, outcome, reason, metric, duration_seconds, started_at, "
        + resourceColumns.joined(separator: ", ")

    public func recordImpactRun(_ r: ImpactRunRecord) throws {
        try database.write { db in
            let known = try db.query("SELECT 1 FROM exploration WHERE key = ?", [SQLValue(r.exploration)])
            guard !known.isEmpty else { throw StoreError.unknownExploration(r.exploration) }
            let key = [SQLValue(r.exploration), SQLValue(r.syscall), SQLValue(r.mode),
                       SQLValue(r.baseline ? "baseline" : "policy"), SQLValue(r.run)]
            try db.execute(
                "DELETE FROM impact_run WHERE exploration_key = ? AND syscall = ? AND mode = ? AND arm = ? AND run = ?", key)
            try db.execute(
                "INSERT INTO impact_run (exploration_key, \(Self.impactRunColumns)) VALUES (\(Self.placeholders(10 + Self.resourceColumns.count)))",
                key + [SQLValue(r.outcome.rawValue), SQLValue(r.reason), SQLValue(r.metric), SQLValue(r.durationSeconds),
                       SQLValue(r.startedAt)] + Self.resourceValues(r.resources))
        }
    }

    public func impactRuns(exploration key: String) throws -> [ImpactRunRecord] {
        try database.read { db in
            try db.query(
                "SELECT \(Self.impactRunColumns) FROM impact_run WHERE exploration_key = ? ORDER BY started_at, syscall, mode, arm, run",
                [SQLValue(key)]
            ).map { row in
                ImpactRunRecord(
                    exploration: key, syscall: try row.int(0), mode: try row.string(1),
                    baseline: try row.string(2) == "baseline", run: try row.int(3),
                    outcome: try row.value(4, as: ProbeOutcome.self), reason: try row.string(5),
                    metric: try row.optionalDouble(6), durationSeconds: try row.double(7),
                    resources: try Self.resources(row, at: 9), startedAt: try row.date(8))
            }
        }
    }

    // MARK: - Impact results

    public func saveImpact(_ results: [ImpactResult]) throws {
        guard !results.isEmpty else { return }
        try database.write { db in
            for r in results {
                let key = [SQLValue(r.exploration), SQLValue(r.syscall), SQLValue(r.mode)]
                // Comparison rows go with their result (ON DELETE CASCADE).
                try db.execute("DELETE FROM impact_result WHERE exploration_key = ? AND syscall = ? AND mode = ?", key)
                try db.execute(
                    """
                    INSERT INTO impact_result (exploration_key, syscall, mode, app, baseline_runs, policy_runs,
                        policy_failures, test, alpha, threshold, metric_better, metric_name, measured_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    key + [SQLValue(r.app), SQLValue(r.baselineRuns), SQLValue(r.policyRuns), SQLValue(r.policyFailures),
                           SQLValue(r.test), SQLValue(r.alpha), SQLValue(r.threshold), SQLValue(r.metricBetter),
                           SQLValue(r.metricName), SQLValue(r.measuredAt)])
                for c in r.comparisons {
                    try db.execute(
                        """
                        INSERT INTO impact_comparison (exploration_key, syscall, mode, measure, baseline_mean,
                            policy_mean, relative_change, p_value, flagged)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                        key + [SQLValue(c.measure.rawValue), SQLValue(c.baselineMean), SQLValue(c.policyMean),
                               SQLValue(c.change), SQLValue(c.pValue), SQLValue(c.flagged)])
                }
            }
        }
    }

    public func impactResults(exploration key: String) throws -> [ImpactResult] {
        try database.read { db in
            var results = try db.query(
                """
                SELECT syscall, mode, app, baseline_runs, policy_runs, policy_failures, test, alpha, threshold,
                    metric_better, metric_name, measured_at
                FROM impact_result WHERE exploration_key = ? ORDER BY syscall, mode
                """, [SQLValue(key)]
            ).map { row in
                ImpactResult(
                    exploration: key, app: try row.string(2), syscall: try row.int(0), mode: try row.string(1),
                    baselineRuns: try row.int(3), policyRuns: try row.int(4), policyFailures: try row.int(5),
                    test: try row.string(6), alpha: try row.double(7), threshold: try row.double(8),
                    metricBetter: try row.string(9), metricName: try row.optionalString(10), comparisons: [],
                    measuredAt: try row.date(11))
            }
            let index = Dictionary(uniqueKeysWithValues: results.enumerated().map { ("\($1.syscall):\($1.mode)", $0) })
            for row in try db.query(
                """
                SELECT syscall, mode, measure, baseline_mean, policy_mean, relative_change, p_value, flagged
                FROM impact_comparison WHERE exploration_key = ? ORDER BY syscall, mode, measure
                """, [SQLValue(key)])
            {
                guard let i = index["\(try row.int(0)):\(try row.string(1))"] else { continue }
                results[i].comparisons.append(ImpactComparison(
                    measure: try row.value(2, as: ImpactMeasure.self), baselineMean: try row.double(3),
                    policyMean: try row.double(4), change: try row.optionalDouble(5), pValue: try row.optionalDouble(6),
                    flagged: try row.bool(7)))
            }
            for i in results.indices {
                results[i].comparisons.sort { ImpactMeasure.allCases.firstIndex(of: $0.measure)! < ImpactMeasure.allCases.firstIndex(of: $1.measure)! }
            }
            return results
        }
    }
}
