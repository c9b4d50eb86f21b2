import Foundation
import SyspectCore

/// An API token of a shared results server as stored: its name and times, never its secret
/// (the store keeps only the SHA-256 of it; docs/serve.md).
public struct StoredToken: Codable, Sendable, Hashable {
    public var name: String
    public var createdAt: Date
    public var revokedAt: Date?

    public init(name: String, createdAt: Date, revokedAt: Date? = nil) {
        self.name = name
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// One push a server received.
public struct PushLogEntry: Codable, Sendable, Hashable {
    public var tokenName: String
    public var receivedAt: Date
    public var explorations: Int
    public var probesAdded: Int
    /// Pushed probes whose key the server already held with another outcome: the server's kept.
    public var probesKept: Int
    /// The merge summary the pusher was sent (JSON).
    public var summaryJSON: String

    public init(tokenName: String, receivedAt: Date, explorations: Int, probesAdded: Int, probesKept: Int, summaryJSON: String) {
        self.tokenName = tokenName
        self.receivedAt = receivedAt
        self.explorations = explorations
        self.probesAdded = probesAdded
        self.probesKept = probesKept
        self.summaryJSON = summaryJSON
    }
}

/// The SQL of the token and push tables (schema "tokens-and-pushes").
extension SQLResultStore {
    /// Adds a token; false (nothing written) when a token of that name exists, revoked or not.
    public func addToken(name: String, hash: String, createdAt: Date = Date()) throws -> Bool {
        try database.write { db in
            let inserted = try db.query(
                "INSERT INTO api_token (name, token_hash, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING name",
                [SQLValue(name), SQLValue(hash), SQLValue(createdAt)])
            return !inserted.isEmpty
        }
    }

    /// Every token, by name.
    public func tokens() throws -> [StoredToken] {
        try database.read { db in
            try db.query("SELECT name, created_at, revoked_at FROM api_token ORDER BY name", []).map { row in
                StoredToken(name: try row.string(0), createdAt: try row.date(1), revokedAt: try row.optionalDate(2))
            }
        }
    }

    /// Revokes the token `name`; false when there is none of that name or it was revoked already.
    public func revokeToken(name: String, at date: Date = Date()) throws -> Bool {
        try database.write { db in
            !(try db.query("UPDATE api_token SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL RETURNING name",
                           [SQLValue(date), SQLValue(name)])).isEmpty
        }
    }

    /// The name of the unrevoked token whose secret hashes to `hash`, nil when none.
    public func activeTokenName(hash: String) throws -> String? {
        try database.read { db in
            try db.query("SELECT name FROM api_token WHERE token_hash = ? AND revoked_at IS NULL", [SQLValue(hash)])
                .first.map { try $0.string(0) }
        }
    }

    public func recordPush(_ entry: PushLogEntry) throws {
        try database.write { db in
            try db.execute(
                """
                INSERT INTO push_log (token_name, received_at, explorations, probes_added, probes_kept, summary_json)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
                [SQLValue(entry.tokenName), SQLValue(entry.receivedAt), SQLValue(entry.explorations),
                 SQLValue(entry.probesAdded), SQLValue(entry.probesKept), SQLValue(entry.summaryJSON)])
        }
    }

    /// Pushes received, newest first.
    public func pushes(limit: Int = 100) throws -> [PushLogEntry] {
        try database.read { db in
            try db.query(
                """
                SELECT token_name, received_at, explorations, probes_added, probes_kept, summary_json
                FROM push_log ORDER BY received_at DESC, id DESC LIMIT ?
                """, [SQLValue(limit)]
            ).map { row in
                PushLogEntry(tokenName: try row.string(0), receivedAt: try row.date(1), explorations: try row.int(2),
                             probesAdded: try row.int(3), probesKept: try row.int(4), summaryJSON: try row.string(5))
            }
        }
    }
}
