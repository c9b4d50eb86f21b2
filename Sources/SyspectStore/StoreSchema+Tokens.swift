extension StoreSchema {
    // MARK: - Version 8

    /// The shared results server (issue 16, docs/serve.md): API tokens, each stored only as the
    /// SHA-256 of its secret (hex) with a unique name, created and revoked times; and one row
    /// per push received (which token, when, what it merged).
    static func tokensAndPushes(_ d: SQLDialect) -> [String] {
        [
            """
            CREATE TABLE api_token (
                name TEXT PRIMARY KEY CHECK (name <> ''),
                token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
                created_at DOUBLE PRECISION NOT NULL,
                revoked_at DOUBLE PRECISION
            )
            """,
            """
            CREATE TABLE push_log (
                id \(d.autoIncrementPrimaryKey),
                token_name TEXT NOT NULL,
                received_at DOUBLE PRECISION NOT NULL,
                explorations INTEGER NOT NULL,
                probes_added INTEGER NOT NULL,
                probes_kept INTEGER NOT NULL,
                summary_json TEXT NOT NULL
            )
            """,
        ]
    }
}
