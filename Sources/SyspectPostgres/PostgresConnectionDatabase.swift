import Foundation
import PostgresNIO
import SyspectCore
import SyspectStore

/// `SQLDatabase` over one PostgreSQL connection: a synchronous bridge over postgres-nio's
/// EventLoopFuture API. The caller's thread waits (`EventLoopFuture.wait()`, which traps if
/// called on an event loop); the connection's I/O runs on NIO's shared event-loop group.
/// A lock serializes transactions, so only one runs at a time on the connection.
///
/// Losing the connection (a server restart, `pg_terminate_backend`, a network cut) is not an
/// error at once: the transaction that saw it is re-run on a new connection, tried again with
/// backoff (at once, then 0.1 s doubling to 2 s) for up to `target.reconnectSeconds` from the
/// loss (0: one attempt), then fails with `StoreError.connectionLost`. A re-run is safe even when the lost COMMIT did go through:
/// every write of `SQLResultStore` is idempotent by key (upserts, or delete-then-insert of the
/// same key). Serialization failures, deadlocks and unique-key races between two writers are
/// re-run too (5 times at most).
final class PostgresConnectionDatabase: SQLDatabase, @unchecked Sendable {
    let target: PostgresTarget
    /// nil after a loss, until the next transaction connects again.
    private var connection: PostgresConnection?
    private let lock = NSLock()
    private let logger: Logger = {
        var logger = Logger(label: "syspect.postgres")
        logger.logLevel = .critical
        return logger
    }()
    private var closed = false
    /// `search_path` sent at each (re)connection.
    private var schema: String?
    /// Session advisory locks held (name → key): taken again after a reconnection.
    private var advisoryLocks: [String: Int64] = [:]
    /// Connections made, the first included (tests read it).
    private(set) var connections = 0

    /// Conflicts between concurrent writers that re-running the transaction resolves.
    private static let retriedStates: Set<String> = ["40001", "40P01", "23505"]
    private static let maxConflictRetries = 5

    var dialect: SQLDialect { .postgres }

    /// Connects once: no server, or a refused login, fails at once (nothing to lose yet).
    init(target: PostgresTarget) throws {
        self.target = target
        switch connect() {
        case .success(let new): connection = new
        case .failure(let failure): throw failure.storeError
        }
    }

    deinit { close() }

    func close() {
        lock.withLock {
            guard !closed else { return }
            closed = true
            dropConnection()
        }
    }

    /// Sets the schema of every later statement (and of every reconnection).
    func setSearchPath(_ schema: String) throws {
        try lock.withLock {
            self.schema = schema
            try retrying { connection in try run(connection, "SET search_path TO \(quoteIdentifier(schema))", []) }
        }
    }

    func write<T>(_ body: (any SQLExecutor) throws -> T) throws -> T {
        try transaction(begin: "BEGIN", body)
    }

    func read<T>(_ body: (any SQLExecutor) throws -> T) throws -> T {
        try transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    private func transaction<T>(begin: String, _ body: (any SQLExecutor) throws -> T) throws -> T {
        try lock.withLock {
            try retrying { connection in
                try run(connection, begin, [])
                do {
                    let result = try body(Executor(database: self, connection: connection))
                    try run(connection, "COMMIT", [])
                    return result
                } catch {
                    if !(error is ConnectionLoss) { _ = try? run(connection, "ROLLBACK", []) }
                    throw error
                }
            }
        }
    }

    // MARK: - Advisory locks

    /// `pg_try_advisory_lock` on a key hashed from the schema and `name`: per database and
    /// schema, held by this connection's session (the server drops it when the session ends).
    func tryLock(_ name: String) throws -> String? {
        try lock.withLock {
            if advisoryLocks[name] != nil { return Self.holder }
            let key = Self.lockKey(schema: schema ?? "public", name: name)
            return try retrying { connection in
                if try take(key, connection) {
                    advisoryLocks[name] = key
                    return nil
                }
                return try holder(of: key, connection)
            }
        }
    }

    func unlock(_ name: String) {
        lock.withLock {
            guard let key = advisoryLocks.removeValue(forKey: name), !closed, let connection else { return }
            _ = try? run(connection, "SELECT pg_advisory_unlock(?)", [.integer(key)])
        }
    }

    private func take(_ key: Int64, _ connection: PostgresConnection) throws -> Bool {
        try run(connection, "SELECT pg_try_advisory_lock(?)", [.integer(key)]).first?.values.first == .integer(1)
    }

    /// "pid N on host H" from the holder's `application_name`, its address, else its backend pid.
    private func holder(of key: Int64, _ connection: PostgresConnection) throws -> String {
        let rows = try run(connection, """
            SELECT a.application_name, host(a.client_addr), l.pid FROM pg_locks l
            LEFT JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
              AND l.classid::bigint = ? AND l.objid::bigint = ?
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """, [.integer(Int64(UInt64(bitPattern: key) >> 32)), .integer(Int64(UInt64(bitPattern: key) & 0xffff_ffff))])
        guard let row = rows.first else { return "a run that has just ended: try again" }
        if case .text(let name) = row.values[0], name.hasPrefix("syspect ") { return String(name.dropFirst("syspect ".count)) }
        if case .text(let address) = row.values[1] { return "a client at \(address), server process \(row.values[2])" }
        if case .integer(let pid) = row.values[2] { return "server process \(pid)" }
        return "another client"
    }

    /// FNV-1a 64 of "schema\0name": stable across processes and builds.
    static func lockKey(schema: String, name: String) -> Int64 {
        Int64(bitPattern: fnv1a64(schema + "\u{0}" + name))
    }

    /// "pid N on host H" (sent as `application_name`, so that a refused run can name this one).
    static let holder = "pid \(getpid()) on host \(ProcessInfo.processInfo.hostName)"

    // MARK: - Connecting again

    /// Runs `body` on a live connection; after a connection loss connects again and re-runs it
    /// until `target.reconnectSeconds` have passed since the loss; re-runs it after a conflict
    /// with another writer. Lock held by the caller.
    private func retrying<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        var lostAt: Date?
        var lastLoss = ""
        var delay = 0.1
        var conflicts = 0
        while true {
            guard !closed else { throw StoreError.database("the PostgreSQL connection is closed") }
            do {
                let live: PostgresConnection
                if let connection, !connection.isClosed {
                    live = connection
                } else {
                    dropConnection()
                    switch connect() {
                    case .success(let new):
                        connection = new
                        live = new
                        try restoreLocks(new)
                    case .failure(let failure):
                        // The first connection was made in `init`: failing to connect now is a loss.
                        guard failure.isRetryable else { throw failure.storeError }
                        throw ConnectionLoss(reason: failure.reason)
                    }
                }
                return try body(live)
            } catch let loss as ConnectionLoss {
                dropConnection()
                lastLoss = loss.reason
                // The first loss: connect again at once. Then back off until the window ends.
                guard let since = lostAt else {
                    lostAt = Date()
                    continue
                }
                let waited = Date().timeIntervalSince(since)
                guard waited + delay <= target.reconnectSeconds else {
                    throw StoreError.connectionLost(
                        host: target.host, port: target.port, seconds: Int(target.reconnectSeconds.rounded()), reason: lastLoss)
                }
                Thread.sleep(forTimeInterval: delay)
                delay = min(2, delay * 2)
            } catch let conflict as WriteConflict {
                guard conflicts < Self.maxConflictRetries else { throw conflict.error }
                conflicts += 1
                Thread.sleep(forTimeInterval: Double.random(in: 0.01...0.05) * Double(conflicts))
            }
        }
    }

    /// Takes the held advisory locks again on a new connection. One another run took meanwhile
    /// (the lock went with the old session) is lost: fails naming that run.
    private func restoreLocks(_ connection: PostgresConnection) throws {
        for (name, key) in advisoryLocks.sorted(by: { $0.key < $1.key }) where !(try take(key, connection)) {
            advisoryLocks[name] = nil
            let holder = try holder(of: key, connection)
            throw StoreError.explorationRunning(
                key: name.hasPrefix("explore ") ? String(name.dropFirst("explore ".count)) : name,
                holder: holder + "; it started while this run's connection was lost")
        }
    }

    private func connect() -> Result<PostgresConnection, ConnectFailure> {
        do {
            var configuration = try target.configuration()
            configuration.options.additionalStartupParameters.append(("application_name", String(("syspect " + Self.holder).prefix(63))))
            if let schema { configuration.options.additionalStartupParameters.append(("search_path", quoteIdentifier(schema))) }
            connections += 1
            return .success(try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: connections, logger: logger
            ).wait())
        } catch let error as StoreError {
            return .failure(ConnectFailure(storeError: error, isRetryable: false, reason: error.description))
        } catch {
            return .failure(Self.connectFailure(error, target: target))
        }
    }

    private func dropConnection() {
        guard let old = connection else { return }
        connection = nil
        try? old.close().wait()
    }

    /// Sends one statement on `connection` and collects its rows (lock held by the caller).
    /// Throws `ConnectionLoss` when the connection broke, `WriteConflict` for a conflict that a
    /// re-run resolves, `StoreError` otherwise.
    @discardableResult
    fileprivate func run(_ connection: PostgresConnection, _ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
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
        // A query sent on a connection the server has already closed may never be answered
        // (postgres-nio 1.x queues it): a closed connection is a loss before anything is sent.
        guard !connection.isClosed else { throw ConnectionLoss(reason: "the server closed the connection") }
        let result: PostgresQueryResult
        do {
            result = try connection.query(query, logger: logger).wait()
        } catch {
            if Self.isConnectionLoss(error) { throw ConnectionLoss(reason: Self.reason(error)) }
            let storeError = Self.queryError(error, target: target)
            if let state = (error as? PSQLError)?.serverInfo?[.sqlState], Self.retriedStates.contains(state) {
                throw WriteConflict(error: storeError)
            }
            throw storeError
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

    /// Whether `error` means the connection is gone (not that the statement was wrong).
    static func isConnectionLoss(_ error: any Error) -> Bool {
        guard let psql = error as? PSQLError else { return !(error is StoreError) }
        switch psql.code {
        case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown:
            return true
        case .server:
            // 57P01 admin shutdown / terminated, 57P02 crash shutdown, 57P03 cannot connect now,
            // class 08: connection exception.
            let state = psql.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("57P0") || state.hasPrefix("08")
        default:
            return false
        }
    }

    private static func connectFailure(_ error: any Error, target: PostgresTarget) -> ConnectFailure {
        if let psql = error as? PSQLError, psql.code == .server, let info = psql.serverInfo {
            let state = info[.sqlState] ?? ""
            // Starting up / shutting down (57P03), too many clients (53300): a server that will answer.
            let retryable = state.hasPrefix("57P0") || state.hasPrefix("08") || state == "53300"
            return ConnectFailure(
                storeError: .rejected(host: target.host, port: target.port, reason: info[.message] ?? "\(psql.code)"),
                isRetryable: retryable, reason: info[.message] ?? "\(psql.code)")
        }
        if let psql = error as? PSQLError,
           [.unsupportedAuthMechanism, .authMechanismRequiresPassword, .saslError].contains(psql.code)
        {
            return ConnectFailure(
                storeError: .rejected(host: target.host, port: target.port, reason: "authentication failed (\(psql.code))"),
                isRetryable: false, reason: "authentication failed")
        }
        return ConnectFailure(
            storeError: .unreachable(host: target.host, port: target.port, reason: reason(error)), isRetryable: true,
            reason: reason(error))
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
    let connection: PostgresConnection

    func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        _ = try database.run(connection, sql, arguments)
    }

    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        try database.run(connection, sql, arguments)
    }
}

/// The connection broke under a statement: the transaction is re-run on a new one.
private struct ConnectionLoss: Error {
    var reason: String
}

/// A conflict with a concurrent writer (serialization failure, deadlock, unique-key race).
private struct WriteConflict: Error {
    var error: StoreError
}

/// A failed connection attempt: the error to report, and whether trying again may help.
private struct ConnectFailure: Error {
    var storeError: StoreError
    var isRetryable: Bool
    var reason: String
}
