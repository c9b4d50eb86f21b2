import Foundation

/// Everything that can go wrong opening or using a results store. Each description is one
/// line naming the problem and what to do about it; the CLI prints it as is.
public enum StoreError: Error, Sendable, Equatable {
    /// The database was written by a newer syspect (schema `found` > `known`).
    case newerSchema(location: String, found: Int, known: Int)
    /// The database has a migration this syspect does not know and that is not newer
    /// (written by a diverging build).
    case unknownMigration(location: String, identifier: String)
    /// The file exists but is not a syspect database (another SQLite database, or not SQLite).
    case notASyspectDatabase(path: String, reason: String)
    /// The file or its folder cannot be created or opened.
    case cannotOpen(path: String, reason: String)
    /// `--db` / `SYSPECT_DB` holds something that is neither a path nor a supported URL.
    case invalidLocation(String, reason: String)
    /// No PostgreSQL server answered at host:port.
    case unreachable(host: String, port: Int, reason: String)
    /// The PostgreSQL server refused the login or the database.
    case rejected(host: String, port: Int, reason: String)
    /// The connection to PostgreSQL was lost mid-run and no new one could be made within
    /// `seconds` (the URL's `reconnect`). Everything committed before is kept.
    case connectionLost(host: String, port: Int, seconds: Int, reason: String)
    /// Another explore of the same exploration key holds its run lock on this database;
    /// `holder` says who (host and pid when known).
    case explorationRunning(key: String, holder: String)
    /// `--db postgres://…` given to a syspect built without PostgreSQL support.
    case postgresUnavailable
    /// `updateExploration` or `record` named an exploration that was never begun.
    case unknownExploration(String)
    /// A stored value cannot be read back (edited by hand, or a bug).
    case corrupt(String)
    /// Any other database error, with the database's own message.
    case database(String)
    /// Writing exported files failed.
    case export(path: String, reason: String)
}

extension StoreError: CustomStringConvertible, LocalizedError {
    public var description: String {
        switch self {
        case let .newerSchema(location, found, known):
            return "the database \(location) has schema version \(found), newer than this syspect knows (\(known)): upgrade syspect, or use another database with --db"
        case let .unknownMigration(location, identifier):
            return "the database \(location) holds schema migration '\(identifier)' that this syspect does not know: open it with the syspect build that wrote it, or use another database with --db"
        case let .notASyspectDatabase(path, reason):
            return "\(path) is not a syspect database (\(reason)): give another path with --db"
        case let .cannotOpen(path, reason):
            return "cannot open the database \(path): \(reason)"
        case let .invalidLocation(value, reason):
            return "invalid database location '\(value)': \(reason)"
        case let .unreachable(host, port, reason):
            return "cannot reach PostgreSQL at \(host):\(port) (\(reason)): check that the server runs and accepts TCP connections there, and the host and port in --db"
        case let .rejected(host, port, reason):
            return "PostgreSQL at \(host):\(port) refused the connection: \(reason): check the user, password and database name in --db"
        case let .connectionLost(host, port, seconds, reason):
            return "lost the connection to PostgreSQL at \(host):\(port) and it did not come back within \(seconds) s (\(reason)): everything written before is kept; run the same command again once the server is back"
        case let .explorationRunning(key, holder):
            return "another syspect explore of \(key) is running on this database (\(holder)): wait for it to finish and run again (its probes are reused), or stop it first (it resumes from its journal)"
        case .postgresUnavailable:
            return "this syspect was built without PostgreSQL support: use an SQLite path with --db"
        case let .unknownExploration(key):
            return "no exploration '\(key)' in the database: begin it first"
        case let .corrupt(detail):
            return "the database holds a value syspect cannot read: \(detail)"
        case let .database(message):
            return "database error: \(message)"
        case let .export(path, reason):
            return "cannot write \(path): \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
