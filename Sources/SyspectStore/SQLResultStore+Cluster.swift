import Foundation
import SyspectCore

/// The SQL of the planned-probe table (schema "planned-probes", docs/cluster.md): the cluster
/// coordinator's plan and the outcomes its tasks store, once each.
extension SQLResultStore: PlannedProbeStore {
    private static let plannedColumns = """
        probe_index, policy, replica, census, request_json, planned_at, job_id, submissions, outcome, run_json, host,
        finished_at, collected_at
        """

    public func plan(_ entries: [ProbePlanEntry], exploration key: String) throws -> [PlannedProbe] {
        guard !entries.isEmpty else { return [] }
        return try database.write { db in
            let known = try db.query("SELECT 1 FROM exploration WHERE key = ?", [SQLValue(key)])
            guard !known.isEmpty else { throw StoreError.unknownExploration(key) }
            let highest = try db.query("SELECT MAX(probe_index) FROM planned_probe WHERE exploration_key = ?", [SQLValue(key)])
            var next = (try highest.first?.optionalInt(0)).map { $0 + 1 } ?? 0
            let now = Date()
            var planned: [PlannedProbe] = []
            for entry in entries {
                let probe = PlannedProbe(exploration: key, index: next, policy: entry.policy, replica: entry.replica,
                                         census: entry.census, request: entry.request, plannedAt: now)
                try db.execute(
                    """
                    INSERT INTO planned_probe (exploration_key, probe_index, policy, replica, census, request_json, planned_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                    [SQLValue(key), SQLValue(next), SQLValue(entry.policy), SQLValue(entry.replica), SQLValue(entry.census),
                     SQLValue(entry.request), SQLValue(now)])
                planned.append(probe)
                next += 1
            }
            return planned
        }
    }

    public func plannedProbes(exploration key: String, indices: [Int]?) throws -> [PlannedProbe] {
        if let indices, indices.isEmpty { return [] }
        var sql = "SELECT \(Self.plannedColumns) FROM planned_probe WHERE exploration_key = ?"
        var arguments = [SQLValue(key)]
        if let indices {
            sql += " AND probe_index IN (" + indices.map { _ in "?" }.joined(separator: ", ") + ")"
            arguments += indices.map(SQLValue.init)
        }
        return try database.read { db in
            try db.query(sql + " ORDER BY probe_index", arguments).map { row in
                PlannedProbe(
                    exploration: key, index: try row.int(0), policy: try row.string(1), replica: try row.int(2),
                    census: try row.bool(3), request: try row.string(4), plannedAt: try row.date(5), job: try row.optionalInt(6),
                    submissions: try row.int(7), outcome: try row.optionalString(8).map { text in
                        guard let outcome = ProbeOutcome(rawValue: text) else { throw StoreError.corrupt("unknown outcome '\(text)' in planned_probe") }
                        return outcome
                    }, run: try row.optionalString(9), host: try row.optionalString(10), finishedAt: try row.optionalDate(11),
                    collectedAt: try row.optionalDate(12))
            }
        }
    }

    public func markSubmitted(exploration key: String, indices: [Int], job: Int) throws {
        guard !indices.isEmpty else { return }
        try database.write { db in
            try db.execute(
                "UPDATE planned_probe SET job_id = ?, submissions = submissions + 1 WHERE exploration_key = ? AND probe_index IN ("
                    + indices.map { _ in "?" }.joined(separator: ", ") + ")",
                [SQLValue(job), SQLValue(key)] + indices.map(SQLValue.init))
        }
    }

    public func storeOutcome(exploration key: String, index: Int, outcome: ProbeOutcome, run: String, host: String) throws -> Bool {
        try database.write { db in
            // The condition in the UPDATE itself: of two tasks of one index storing at once, one wins.
            let updated = try db.query(
                """
                UPDATE planned_probe SET outcome = ?, run_json = ?, host = ?, finished_at = ?
                WHERE exploration_key = ? AND probe_index = ? AND outcome IS NULL RETURNING probe_index
                """,
                [SQLValue(outcome.rawValue), SQLValue(run), SQLValue(host), SQLValue(Date()), SQLValue(key), SQLValue(index)])
            if !updated.isEmpty { return true }
            let exists = try db.query(
                "SELECT 1 FROM planned_probe WHERE exploration_key = ? AND probe_index = ?", [SQLValue(key), SQLValue(index)])
            if exists.isEmpty { throw StoreError.corrupt("no planned probe \(index) in exploration \(key)") }
            return false
        }
    }

    public func markCollected(exploration key: String, indices: [Int]) throws {
        guard !indices.isEmpty else { return }
        try database.write { db in
            try db.execute(
                "UPDATE planned_probe SET collected_at = ? WHERE exploration_key = ? AND probe_index IN ("
                    + indices.map { _ in "?" }.joined(separator: ", ") + ")",
                [SQLValue(Date()), SQLValue(key)] + indices.map(SQLValue.init))
        }
    }
}
