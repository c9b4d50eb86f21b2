import Foundation
import SyspectStore

/// Opens the store a `--db` value (or `SYSPECT_DB`, or the default path) names: SQLite for a
/// path, PostgreSQL for a `postgres://` URL. Lives here so that only code which may open
/// PostgreSQL (the CLI) links postgres-nio; libraries take a `ResultStore`.
public enum Stores {
    public static func open(_ location: StoreLocation) throws -> any ManagedStore {
        switch location {
        case .sqlite(let path): return try SQLiteStore(path: path)
        case .postgres(let url): return try PostgresStore(url: url)
        }
    }

    /// Resolves `url` (nil: `SYSPECT_DB`, else the default path) and opens it.
    public static func open(url: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> any ManagedStore {
        try open(StoreLocation.resolve(flag: url, environment: environment))
    }
}
