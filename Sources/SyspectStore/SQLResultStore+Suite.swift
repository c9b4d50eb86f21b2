import Foundation
import SyspectCore

/// The SQL of the test case tables (schema "suite-cases", docs/suites.md): per journaled probe
/// of a suite, the baseline's passing test cases and a probe's must-pass cases that did not pass.
extension SQLResultStore {
    /// Replaces the test case row of a journaled probe (none when the probe has no case data).
    func writeProbeCases(_ p: ProbeRecord, _ db: any SQLExecutor) throws {
        let key = [SQLValue(p.exploration), SQLValue(p.policy), SQLValue(p.replica)]
        try db.execute("DELETE FROM probe_cases WHERE exploration_key = ? AND policy = ? AND replica = ?", key)
        guard p.passedCases != nil || !p.brokenCases.isEmpty else { return }
        func json(_ list: [String]) -> SQLValue {
            SQLValue(String(decoding: (try? JSONEncoder().encode(list)) ?? Data("[]".utf8), as: UTF8.self))
        }
        try db.execute(
            "INSERT INTO probe_cases (exploration_key, policy, replica, passed_json, broken_json) VALUES (?, ?, ?, ?, ?)",
            key + [p.passedCases.map(json) ?? .null, json(p.brokenCases)])
    }

    /// `records` (all of exploration `key`) with their test case rows attached.
    func withProbeCases(_ key: String, _ db: any SQLExecutor, _ records: [ProbeRecord]) throws -> [ProbeRecord] {
        var byProbe: [String: (passed: [String]?, broken: [String])] = [:]
        func list(_ text: String?) throws -> [String]? {
            guard let text else { return nil }
            return try JSONDecoder().decode([String].self, from: Data(text.utf8))
        }
        for row in try db.query(
            "SELECT policy, replica, passed_json, broken_json FROM probe_cases WHERE exploration_key = ?", [SQLValue(key)])
        {
            byProbe["\(try row.string(0))#\(try row.int(1))"] = (try list(try row.optionalString(2)), try list(try row.string(3)) ?? [])
        }
        guard !byProbe.isEmpty else { return records }
        return records.map { record in
            guard let cases = byProbe["\(record.policy)#\(record.replica)"] else { return record }
            var copy = record
            (copy.passedCases, copy.brokenCases) = cases
            return copy
        }
    }
}
