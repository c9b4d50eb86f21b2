import Foundation
import SyspectCore

/// Where the results database is: an SQLite file (the embedded default) or a PostgreSQL URL.
///
/// Resolution order: the `--db` value, else the `SYSPECT_DB` environment variable, else the
/// default file `$XDG_DATA_HOME/syspect/syspect.db` (when `XDG_DATA_HOME` is set and absolute),
/// else `~/.local/share/syspect/syspect.db`. A value is a PostgreSQL URL when it starts with
/// `postgres://` or `postgresql://`, an SQLite file when it is a path or `sqlite:PATH`.
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    /// The environment variable that overrides the default location.
    public static let environmentVariable = "SYSPECT_DB"

    /// Resolves `--db` (`flag`), then `SYSPECT_DB`, then the default path.
    public static func resolve(
        flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> StoreLocation {
        if let flag { return try parse(flag) }
        if let value = environment[environmentVariable], !value.isEmpty { return try parse(value) }
        return .sqlite(path: defaultPath(environment: environment))
    }

    /// The default SQLite file for this user.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") {
            return (xdg as NSString).appendingPathComponent("syspect/syspect.db")
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".local/share/syspect/syspect.db")
    }

    /// Parses a `--db` / `SYSPECT_DB` value.
    public static func parse(_ value: String) throws -> StoreLocation {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else {
            throw StoreError.invalidLocation(value, reason: "empty: give a file path or a postgres:// URL")
        }
        let lower = trimmed.lowercased()
        if lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://") {
            return .postgres(url: trimmed)
        }
        if lower.hasPrefix("sqlite:") {
            var path = String(trimmed.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }  // sqlite:///abs/path
            guard !path.isEmpty else { throw StoreError.invalidLocation(value, reason: "no file path after 'sqlite:'") }
            return .sqlite(path: expand(path))
        }
        if let scheme = trimmed.range(of: "://").map({ String(trimmed[..<$0.lowerBound]) }),
           !scheme.contains("/")
        {
            throw StoreError.invalidLocation(
                value, reason: "unsupported scheme '\(scheme)': give a file path (SQLite) or a postgres:// URL")
        }
        return .sqlite(path: expand(trimmed))
    }

    private static func expand(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return expanded }
        return (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(expanded)
    }

    /// The path, or the URL with its password hidden: safe to print.
    public var description: String {
        switch self {
        case .sqlite(let path): return path
        case .postgres(let url): return Self.redactingPassword(url)
        }
    }

    /// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
    static func redactingPassword(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.password != nil else { return url }
        parts.password = "***"
        return parts.string ?? url
    }
}

/// What `syspect db info` prints about a store.
public struct StoreInfo: Codable, Sendable, Hashable {
    /// "sqlite" or "postgres".
    public var backend: String
    /// File path, or URL without the password.
    public var location: String
    public var schemaVersion: Int
    /// The newest schema version this build knows.
    public var knownSchemaVersion: Int
    public var counts: StoreCounts
}

/// A store opened from a `StoreLocation`: the `ResultStore` others use, plus what the `db`
/// commands need.
public protocol ManagedStore: ResultStore, Sendable {
    var location: StoreLocation { get }
    /// Schema version and row counts.
    func info() throws -> StoreInfo
}
