import Foundation
import PostgresNIO
import SyspectStore

/// `SQLDatabase` over one PostgreSQL connection: a synchronous bridge over postgres-nio's
/// EventLoopFuture API. The caller's thread waits (`EventLoopFuture.wait()`, which traps if
/// called on an event loop); the connection's I/O runs on NIO's shared event-loop group.
/// A lock serializes transactions, so only one runs at a time on the connection.
final class PostgresConnectionDatabase: SQLDatabase, @unchecked Sendable {
    let target: PostgresTarget
    private let connection: PostgresConnection
    private let lock = NSLock()
    private let logger: Logger = {
        var logger = Logger(label: "syspect.postgres")
        logger.logLevel = .critical
        return logger
    }()
    private var closed = false

    var dialect: SQLDialect { .postgres }

    init(target: PostgresTarget) throws {
        self.target = target
        let configuration = try target.configuration()
        do {
            connection = try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 1, logger: logger
            ).wait()
        } catch {
            throw Self.connectError(error, target: target)
        }
    }

    deinit { close() }

    func close() {
        lock.withLock {
            guard !closed else { return }
            closed = true
            try? connection.close().wait()
        }
    }

    func setSearchPath(_ schema: String) throws {
        _ = try lock.withLock { try run("SET search_path TO \(quoteIdentifier(schema))", []) }
    }

    func write<T>(_ body: (any SQLExecutor) throws -> T) throws -> T {
        try transaction(begin: "BEGIN", body)
    }

    func read<T>(_ body: (any SQLExecutor) throws -> T) throws -> T {
        try transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    private func transaction<T>(begin: String, _ body: (any SQLExecutor) throws -> T) throws -> T {
        try lock.withLock {
            guard !closed else { throw StoreError.database("the PostgreSQL connection is closed") }
            try run(begin, [])
            do {
                let result = try body(Executor(database: self))
                try run("COMMIT", [])
                return result
            } catch {
                _ = try? run("ROLLBACK", [])
                throw error
            }
        }
    }

    /// Sends one statement and collects its rows (lock held by the caller).
    @discardableResult
    fileprivate func run(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        var binds = PostgresBindings(capacity: arguments.count)
        for value in arguments {
            switch value {
            case .null: binds.appendNull()
            case .integer(let v): binds.append(v)
            case .real(let v): binds.append(v)
            case .text(let v): binds.append(v)
            }
        }
        let query = PostgresQuery(unsafeSQL: Self.numberingPlaceholders(sql), binds: binds)
        let result: PostgresQueryResult
        do {
            result = try connection.query(query, logger: logger).wait()
        } catch {
            throw Self.queryError(error, target: target)
        }
        return try result.rows.map { row in SQLRow(try row.map(Self.value)) }
    }

    private static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .float4, .float8: return .real(try cell.decode(Double.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        default: return .text(try cell.decode(String.self))
        }
    }

    /// `?` → `$1, $2, …`, leaving quoted strings and identifiers alone.
    static func numberingPlaceholders(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.count + 16)
        var n = 0
        var quote: Character?
        for c in sql {
            if let q = quote {
                if c == q { quote = nil }
                out.append(c)
            } else if c == "'" || c == "\"" {
                quote = c
                out.append(c)
            } else if c == "?" {
                n += 1
                out += "$\(n)"
            } else {
                out.append(c)
            }
        }
        return out
    }

    // MARK: - Errors

    private static func connectError(_ error: any Error, target: PostgresTarget) -> StoreError {
        if let psql = error as? PSQLError, psql.code == .server, let info = psql.serverInfo {
            return .rejected(host: target.host, port: target.port, reason: info[.message] ?? "\(psql.code)")
        }
        if let psql = error as? PSQLError,
           [.unsupportedAuthMechanism, .authMechanismRequiresPassword, .saslError].contains(psql.code)
        {
            return .rejected(host: target.host, port: target.port, reason: "authentication failed (\(psql.code))")
        }
        return .unreachable(host: target.host, port: target.port, reason: reason(error))
    }

    private static func queryError(_ error: any Error, target: PostgresTarget) -> StoreError {
        if let psql = error as? PSQLError, let info = psql.serverInfo {
            let state = info[.sqlState].map { " [SQLSTATE \($0)]" } ?? ""
            return .database((info[.message] ?? "\(psql.code)") + state)
        }
        return .database("connection to PostgreSQL at \(target.host):\(target.port) failed: \(reason(error))")
    }

    /// The innermost readable cause of a connection error.
    private static func reason(_ error: any Error) -> String {
        switch error {
        case let psql as PSQLError:
            if let underlying = psql.underlying { return reason(underlying) }
            return psql.serverInfo?[.message] ?? "\(psql.code)"
        case let nio as NIOConnectionError:
            if let first = nio.connectionErrors.first { return reason(first.error) }
            if let dns = nio.dnsAError ?? nio.dnsAAAAError { return "cannot resolve the host name: \(reason(dns))" }
            return "no address found for the host name"
        case let io as IOError:
            return String(cString: strerror(io.errnoCode)).lowercased()
        case ChannelError.connectTimeout:
            return "no answer within 10 s"
        default:
            return String(describing: error)
        }
    }
}

/// Runs statements inside a transaction of `PostgresConnectionDatabase` (its lock is held).
private struct Executor: SQLExecutor {
    let database: PostgresConnectionDatabase

    func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        _ = try database.run(sql, arguments)
    }

    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        try database.run(sql, arguments)
    }
}
