import Foundation
import PostgresNIO
import SyspectCore
import SyspectStore

/// The results store on a PostgreSQL server: the same schema, migrations and version table
/// (`grdb_migrations`) as `SQLiteStore`, for a team sharing one database.
///
/// URL: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require&schema=NAME&reconnect=SECONDS]`
/// (port 5432, database = user, no TLS, schema `public`, reconnect 60 by default). With
/// `schema=NAME` the tables live in that schema, created on first use. `reconnect`: how long a
/// lost connection is tried again before the store fails (`StoreError.connectionLost`); 0 fails
/// at the first loss.
///
/// postgres-nio is asynchronous; this store is synchronous (the `ResultStore` protocol). It
/// uses one connection and the EventLoopFuture API, waiting on the *calling* thread, which is
/// never an event-loop thread: NIO's own loop thread does the I/O. Calls are serialized by a
/// lock, so the store is safe to share between threads (not from inside an event loop).
public final class PostgresStore: SQLResultStore, ManagedStore, @unchecked Sendable {
    public let url: String
    public var location: StoreLocation { .postgres(url: url) }
    private let connection: PostgresConnectionDatabase

    /// Connects and migrates. Throws `StoreError.unreachable` when no server answers,
    /// `.rejected` when it refuses the login or database, `.newerSchema` for a newer schema.
    public init(url: String) throws {
        self.url = url
        let target = try PostgresTarget(url: url)
        connection = try PostgresConnectionDatabase(target: target)
        super.init(database: connection)
        let migrationLock = SQLValue.integer(PostgresConnectionDatabase.lockKey(schema: target.schema ?? "public", name: "migrate"))
        if let schema = target.schema {
            try connection.write { db in
                try db.execute("SELECT pg_advisory_xact_lock(?)", [migrationLock])
                try db.execute("CREATE SCHEMA IF NOT EXISTS \(quoteIdentifier(schema))", [])
            }
            try connection.setSearchPath(schema)
        }
        try migrate(lock: migrationLock)
    }

    /// Applies the migrations this database lacks, in one transaction that first takes an
    /// advisory lock of the schema (`CREATE TABLE IF NOT EXISTS` is not safe against a
    /// concurrent one), then an exclusive lock on the version table: two syspects starting
    /// together on a new database migrate it once, and neither fails.
    private func migrate(lock: SQLValue) throws {
        try connection.write { db in
            try db.execute("SELECT pg_advisory_xact_lock(?)", [lock])
            try db.execute("CREATE TABLE IF NOT EXISTS \(StoreSchema.versionTable) (identifier TEXT NOT NULL PRIMARY KEY)", [])
            try db.execute("LOCK TABLE \(StoreSchema.versionTable) IN EXCLUSIVE MODE", [])
            let applied = Set(try db.query("SELECT identifier FROM \(StoreSchema.versionTable)", []).map {
                guard case .text(let s) = $0.values[0] else { throw StoreError.corrupt("non-text migration identifier") }
                return s
            })
            _ = try StoreSchema.version(ofApplied: applied, location: location.description)
            for migration in StoreSchema.migrations where !applied.contains(migration.identifier) {
                for sql in migration.statements(for: .postgres) { try db.execute(sql, []) }
                try db.execute("INSERT INTO \(StoreSchema.versionTable) (identifier) VALUES (?)", [.text(migration.identifier)])
            }
        }
    }

    public func info() throws -> StoreInfo {
        try storeInfo(backend: "postgres", location: location)
    }

    /// Connections made so far: 1, plus one per reconnection after a loss.
    public var connectionCount: Int { connection.connections }

    /// Closes the connection (also done when the store is released).
    public func close() { connection.close() }
}

/// Double-quotes an SQL identifier.
func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// The parts of a `postgres://` URL.
struct PostgresTarget: Sendable {
    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String
    var tls: TLSMode
    var schema: String?
    /// Seconds a lost connection is tried again (`reconnect=`; default 60).
    var reconnectSeconds: Double

    static let defaultReconnectSeconds = 60.0

    enum TLSMode: String { case disable, prefer, require }

    init(url: String) throws {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(),
              scheme == "postgres" || scheme == "postgresql"
        else {
            throw StoreError.invalidLocation(
                StoreLocation.postgres(url: url).description,
                reason: "expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        let shown = StoreLocation.postgres(url: url).description
        host = parts.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        port = parts.port ?? 5432
        guard (1...65535).contains(port) else { throw StoreError.invalidLocation(shown, reason: "port \(port) out of range") }
        guard let user = parts.user?.removingPercentEncoding, !user.isEmpty else {
            throw StoreError.invalidLocation(shown, reason: "no user name: write postgres://USER@HOST/DATABASE")
        }
        self.user = user
        password = parts.password?.removingPercentEncoding
        let path = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        database = path.isEmpty ? user : (path.removingPercentEncoding ?? path)
        let query = Dictionary((parts.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        for name in query.keys where !["sslmode", "schema", "reconnect"].contains(name) {
            throw StoreError.invalidLocation(shown, reason: "unknown URL parameter '\(name)' (known: sslmode, schema, reconnect)")
        }
        if let mode = query["sslmode"] {
            guard let m = TLSMode(rawValue: mode) else {
                throw StoreError.invalidLocation(shown, reason: "sslmode must be disable, prefer or require")
            }
            tls = m
        } else {
            tls = .disable
        }
        schema = query["schema"].flatMap { $0.isEmpty ? nil : $0 }
        if let text = query["reconnect"] {
            guard let seconds = Double(text), seconds >= 0, seconds <= 86_400 else {
                throw StoreError.invalidLocation(shown, reason: "reconnect must be a number of seconds from 0 to 86400, not '\(text)'")
            }
            reconnectSeconds = seconds
        } else {
            reconnectSeconds = Self.defaultReconnectSeconds
        }
    }

    func configuration() throws -> PostgresConnection.Configuration {
        let tlsConfig: PostgresConnection.Configuration.TLS
        switch tls {
        case .disable: tlsConfig = .disable
        case .prefer: tlsConfig = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: tlsConfig = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        var config = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tlsConfig)
        config.options.connectTimeout = .seconds(10)
        return config
    }
}
