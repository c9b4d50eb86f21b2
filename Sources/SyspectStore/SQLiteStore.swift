import Foundation
import GRDB
import SyspectCore

/// The embedded results store: one SQLite file in WAL mode (readers never wait for the
/// writer), `synchronous = FULL` (a write is on disk when the call returns), foreign keys on,
/// migrated to `StoreSchema.currentVersion` when opened. Safe to share between threads and
/// between processes (writers wait up to 30 s for one another).
public final class SQLiteStore: SQLResultStore, ManagedStore, @unchecked Sendable {
    public let path: String
    public var location: StoreLocation { .sqlite(path: path) }

    /// Opens (creating the file and its folders on first use) and migrates the database.
    /// Throws `StoreError.newerSchema` for a database written by a newer syspect, untouched.
    public init(path: String) throws {
        self.path = path
        let pool: DatabasePool
        do {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            var config = Configuration()
            config.busyMode = .timeout(30)
            pool = try DatabasePool(path: path, configuration: config)
            // After GRDB's WAL setup, which picks NORMAL: FULL syncs the WAL at each commit, so a
            // journaled probe survives a power loss too. The pool's writer connection keeps it.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw StoreError.notASyspectDatabase(path: path, reason: "not an SQLite file")
        } catch let error as DatabaseError {
            throw StoreError.cannotOpen(path: path, reason: error.message ?? "\(error.resultCode)")
        } catch {
            throw StoreError.cannotOpen(path: path, reason: error.localizedDescription)
        }
        super.init(database: GRDBDatabase(pool))
        try Self.migrate(pool, path: path)
    }

    /// Checks the file is a syspect database and applies the migrations of
    /// `StoreSchema.migrations` it lacks, marking it with the application id, all in ONE
    /// immediate transaction: two processes opening a new file at once wait for each other
    /// (busy timeout) and migrate it once; none ever sees it half-migrated.
    private static func migrate(_ pool: DatabasePool, path: String) throws {
        do {
            try pool.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
                    let hasTables = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM sqlite_master)") ?? false
                    if hasTables && applicationID != StoreSchema.sqliteApplicationID {
                        throw StoreError.notASyspectDatabase(path: path, reason: "it holds tables of another program")
                    }
                    try db.execute(sql: "CREATE TABLE IF NOT EXISTS \(StoreSchema.versionTable) (identifier TEXT NOT NULL PRIMARY KEY)")
                    let applied = Set(try String.fetchAll(db, sql: "SELECT identifier FROM \(StoreSchema.versionTable)"))
                    _ = try StoreSchema.version(ofApplied: applied, location: path)
                    for migration in StoreSchema.migrations where !applied.contains(migration.identifier) {
                        for sql in migration.statements(for: .sqlite) { try db.execute(sql: sql) }
                        try db.execute(sql: "INSERT INTO \(StoreSchema.versionTable) (identifier) VALUES (?)",
                                       arguments: [migration.identifier])
                    }
                    if applicationID != StoreSchema.sqliteApplicationID {
                        try db.execute(sql: "PRAGMA application_id = \(StoreSchema.sqliteApplicationID)")
                    }
                    return .commit
                }
            }
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw StoreError.notASyspectDatabase(path: path, reason: "not an SQLite file")
        } catch let error as DatabaseError {
            throw StoreError.cannotOpen(path: path, reason: error.message ?? "\(error.resultCode)")
        }
    }

    public func info() throws -> StoreInfo {
        try storeInfo(backend: "sqlite", location: location)
    }
}

/// `SQLDatabase` over a GRDB `DatabasePool`.
final class GRDBDatabase: SQLDatabase {
    let pool: DatabasePool
    private let locks: FileLocks
    var dialect: SQLDialect { .sqlite }

    init(_ pool: DatabasePool) {
        self.pool = pool
        locks = FileLocks(databasePath: pool.path)
    }

    func tryLock(_ name: String) throws -> String? { try locks.tryLock(name) }
    func unlock(_ name: String) { locks.unlock(name) }

    func write<T>(_ body: (any SQLExecutor) throws -> T) throws -> T {
        try Self.mappingErrors { try pool.write { db in try body(GRDBExecutor(db: db)) } }
    }

    func read<T>(_ body: (any SQLExecutor) throws -> T) throws -> T {
        try Self.mappingErrors { try pool.read { db in try body(GRDBExecutor(db: db)) } }
    }

    private static func mappingErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            throw StoreError.database(error.message ?? "\(error.resultCode)")
        }
    }
}

/// Runs statements on one GRDB connection (inside a `write`/`read` transaction).
struct GRDBExecutor: SQLExecutor {
    let db: Database

    func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        try db.execute(sql: sql, arguments: Self.arguments(arguments))
    }

    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let statement = try db.cachedStatement(sql: sql)
        return try Row.fetchAll(statement, arguments: Self.arguments(arguments)).map { row in
            SQLRow(row.databaseValues.map { value in
                switch value.storage {
                case .null: return .null
                case .int64(let v): return .integer(v)
                case .double(let v): return .real(v)
                case .string(let v): return .text(v)
                case .blob(let data): return .text(String(decoding: data, as: UTF8.self))
                }
            })
        }
    }

    private static func arguments(_ values: [SQLValue]) -> StatementArguments {
        StatementArguments(values.map { value -> (any DatabaseValueConvertible)? in
            switch value {
            case .null: return nil
            case .integer(let v): return v
            case .real(let v): return v
            case .text(let v): return v
            }
        })
    }
}
