import Foundation

/// A PostgreSQL cluster of one test's own: `initdb` in a folder under /var/tmp, a server on a
/// free loopback port (trust authentication, no fsync), run as the `postgres` user. A test may
/// restart or stop it without disturbing the shared server the other suites use.
/// Needs root and Debian's `postgresql` binaries (`scripts/start-postgres` installs them; CI
/// runs it), found in the newest /usr/lib/postgresql/*/bin or `$SYSPECT_TEST_POSTGRES_BIN`.
final class PrivatePostgres {
    let folder: String
    let port: Int
    private let bin: String

    /// postgres://postgres@127.0.0.1:PORT/postgres with extra URL `parameters`.
    func url(_ parameters: String = "") -> String {
        "postgres://postgres@127.0.0.1:\(port)/postgres" + (parameters.isEmpty ? "" : "?" + parameters)
    }

    /// The binaries folder, when this machine can run a private cluster.
    static let binaries: String? = {
        guard getuid() == 0, getpwnam("postgres") != nil else { return nil }
        if let dir = ProcessInfo.processInfo.environment["SYSPECT_TEST_POSTGRES_BIN"], !dir.isEmpty { return dir }
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root))?
            .compactMap(Int.init).sorted() ?? []
        return versions.last.map { "\(root)/\($0)/bin" }.flatMap {
            FileManager.default.isExecutableFile(atPath: $0 + "/initdb") ? $0 : nil
        }
    }()

    static var available: Bool { binaries != nil }

    init() throws {
        guard let bin = Self.binaries else { throw PrivatePostgresError("no PostgreSQL binaries, or not root") }
        self.bin = bin
        folder = "/var/tmp/syspect-pg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: folder)
        port = try Self.freePort()
        try asPostgres("initdb", ["-D", folder + "/data", "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"])
        try start()
    }

    func start() throws {
        try asPostgres("pg_ctl", ["-D", folder + "/data", "-l", folder + "/log", "-w", "-t", "30", "-o",
                                  "-p \(port) -k \(folder) -c listen_addresses=127.0.0.1 -c fsync=off", "start"])
    }

    /// Fast shutdown (every session ended with SQLSTATE 57P01), then start again.
    func restart() throws {
        try stop()
        try start()
    }

    func stop() throws {
        try asPostgres("pg_ctl", ["-D", folder + "/data", "-m", "fast", "-w", "-t", "30", "stop"])
    }

    func destroy() {
        _ = try? asPostgres("pg_ctl", ["-D", folder + "/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Runs a PostgreSQL tool as `postgres` (posix_spawn and waitpid: Foundation's `Process`
    /// was seen never to return from `waitUntilExit` for `runuser … pg_ctl start`, whose server
    /// lives on). Its output goes to a file, not a pipe the server would hold open.
    private func asPostgres(_ tool: String, _ arguments: [String]) throws {
        let outputPath = folder + "/\(tool).out"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ["/usr/sbin/runuser", "-u", "postgres", "--", bin + "/" + tool] + arguments
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
        guard spawned == 0 else { throw PrivatePostgresError("cannot run \(tool): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exited = (status & 0x7f) == 0, code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            let log = (try? String(contentsOfFile: folder + "/log", encoding: .utf8)) ?? ""
            throw PrivatePostgresError("\(tool) \(arguments.last ?? "") failed (wait status \(status)): \(text)\(log.suffix(2000))")
        }
    }

    /// A loopback port nothing listens on (the kernel's pick for a bound socket, then closed).
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PrivatePostgresError("socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw PrivatePostgresError("bind: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct PrivatePostgresError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
