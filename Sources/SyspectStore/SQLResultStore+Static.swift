import Foundation
import SyspectCore

/// The SQL of schema version 4 ("static-analysis", issue 13): syspect's own static analysis,
/// shared by SQLite and PostgreSQL like the rest. An object (target binary or library) is stored
/// once per (build-id, digest of its result): the same library analysed the same way by several
/// explorations is one row, and a different result (another call graph charges other functions
/// of it, or a newer analyser) is another row under the same build-id.
extension SQLResultStore {
    private static func jsonEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    private static func json<T: Encodable>(_ value: T, _ encoder: JSONEncoder) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ text: String, _ what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw StoreError.corrupt("\(what) is not valid JSON of a \(T.self): \(error)")
        }
    }

    public func saveStatic(_ record: ExplorationStatic) throws {
        let encoder = Self.jsonEncoder()
        let a = record.analysis
        // Sets as sorted arrays, so the same analysis always gives the same text (and digest).
        let byTarget = a.syscallsByTarget.mapValues { $0.sorted() }
        let objects = try a.objects.map { object -> (object: StaticObject, json: String) in (object, try Self.json(object, encoder)) }
        let key = SQLValue(record.exploration)
        try database.write { db in
            let known = try db.query("SELECT 1 FROM exploration WHERE key = ?", [key])
            guard !known.isEmpty else { throw StoreError.unknownExploration(record.exploration) }
            // The link rows go with it (ON DELETE CASCADE); shared objects stay.
            try db.execute("DELETE FROM exploration_static WHERE exploration_key = ?", [key])
            try db.execute(
                """
                INSERT INTO exploration_static (exploration_key, mode, analyser_version, targets_json, by_target_json,
                    missing_libraries_json, outside_static_json, analysed_at, seconds)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [key, SQLValue(a.mode.rawValue), SQLValue(a.version), SQLValue(try Self.json(a.targets, encoder)),
                 SQLValue(try Self.json(byTarget, encoder)), SQLValue(try Self.json(a.missingLibraries, encoder)),
                 SQLValue(try Self.json(record.outsideStatic, encoder)), SQLValue(record.analysedAt), SQLValue(record.seconds)])
            for (position, (object, text)) in objects.enumerated() {
                let digest = stableHash(text)
                let id = [SQLValue(object.buildID), SQLValue(digest)]
                let stored = try db.query("SELECT object_json FROM static_object WHERE build_id = ? AND digest = ?", id)
                if let row = stored.first {
                    // A 64-bit digest: check that the row really is this result.
                    guard try row.string(0) == text else {
                        throw StoreError.corrupt("static_object \(object.buildID)/\(digest) holds another result of \(object.path)")
                    }
                } else {
                    try db.execute(
                        """
                        INSERT INTO static_object (build_id, digest, analyser_version, path, soname, stripped, syscall_count,
                            i386_syscall_count, unresolved_count, object_json)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                        id + [SQLValue(a.version), SQLValue(object.path), SQLValue(object.soname), SQLValue(object.stripped),
                              SQLValue(object.sites.count), SQLValue(object.i386Sites.count), SQLValue(object.unresolved.count),
                              SQLValue(text)])
                }
                try db.execute(
                    "INSERT INTO exploration_static_object (exploration_key, position, build_id, digest) VALUES (?, ?, ?, ?)",
                    [key, SQLValue(position)] + id)
            }
        }
    }

    public func staticAnalysis(exploration key: String) throws -> ExplorationStatic? {
        try database.read { db in
            guard let head = try db.query(
                """
                SELECT mode, analyser_version, targets_json, by_target_json, missing_libraries_json, outside_static_json,
                    analysed_at, seconds
                FROM exploration_static WHERE exploration_key = ?
                """, [SQLValue(key)]).first
            else { return nil }
            let objects = try db.query(
                """
                SELECT o.object_json FROM exploration_static_object l
                JOIN static_object o ON o.build_id = l.build_id AND o.digest = l.digest
                WHERE l.exploration_key = ? ORDER BY l.position
                """, [SQLValue(key)]
            ).map { try Self.decode(StaticObject.self, try $0.string(0), "a static_object of \(key)") }
            let byTarget = try Self.decode([String: [Int]].self, try head.string(3), "exploration_static.by_target_json of \(key)")
            let analysis = StaticAnalysis(
                targets: try Self.decode([String].self, try head.string(2), "exploration_static.targets_json of \(key)"),
                mode: try head.value(0, as: StaticMode.self), objects: objects,
                syscallsByTarget: byTarget.mapValues(Set.init),
                missingLibraries: try Self.decode([String].self, try head.string(4), "exploration_static.missing_libraries_json of \(key)"),
                version: try head.int(1))
            return ExplorationStatic(
                exploration: key, analysis: analysis,
                outsideStatic: try Self.decode([CensusEntry].self, try head.string(5), "exploration_static.outside_static_json of \(key)"),
                analysedAt: try head.date(6), seconds: try head.double(7))
        }
    }
}
