import Foundation
import SyspectCore
import SyspectStatic
import SyspectTestSupport
import Testing

/// Issue 13, Must 1: for every application the tests explore, each system call its dynamic
/// census holds is in its static set (0 misses). Each app runs a short real workload under
/// `syspect trace --sandbox` (its own network namespace: fixed ports never clash), the example
/// scripts of examples/ driving the servers; the static set comes from a fresh analysis.
@Suite(.serialized) struct SoundnessTests {
    static let products: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return (exe as NSString).deletingLastPathComponent
    }()
    static let examples = RepositoryData.root + "/examples"

    /// One analyser for the suite, caching into a fresh directory (the first analysis of each
    /// object is a real one; later tests reuse libc's summary).
    static let analyzer: StaticAnalyzer = {
        let dir = NSTemporaryDirectory() + "syspect-static-soundness-\(getpid())"
        return StaticAnalyzer(cache: FileSummaryCache(directory: dir))
    }()

    struct Census {
        var x86_64 = Set<Int>()
        var i386 = Set<Int>()
        var x32 = Set<Int>()
    }

    /// Traces `script` (bash, run in a fresh directory outside /tmp, which the sandbox hides)
    /// and returns the census of `target`.
    func census(target: String, script: String) throws -> Census {
        let dir = "/var/tmp/syspect-static-\(target)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let wrapped = "set -e; cd '\(dir)'; export SYSPECT_PROBE_DIR='\(dir)'\n" + script
        let out = try runProgram(Self.products + "/syspect", [
            "trace", "--json", "--output", "-", "--sandbox", "--timeout", "90", "--target", target,
            "--", "bash", "-c", wrapped,
        ])
        #expect(out.status == 0, "trace of \(target) failed (\(out.status)): \(out.stderr.suffix(2000))")
        let json = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any]
        let entries = (json?["result"] as? [String: Any])?["census"] as? [[String: Any]] ?? []
        var c = Census()
        for e in entries {
            guard let n = e["number"] as? Int, let arch = e["arch"] as? String else { continue }
            switch arch {
            case "x86_64": c.x86_64.insert(n)
            case "i386": c.i386.insert(n)
            default: c.x32.insert(n)
            }
        }
        return c
    }

    /// Checks static ⊇ traced for `binary` and prints the Figure 4 pair.
    func check(_ app: String, binary: String, census: Census) throws {
        #expect(!census.x86_64.isEmpty, "the \(app) workload traced no call: the test checks nothing")
        let analysis = try Self.analyzer.analyse([binary])
        let missed = census.x86_64.subtracting(analysis.syscalls)
        let missedI386 = census.i386.subtracting(analysis.i386Syscalls)
        let missedX32 = census.x32.subtracting(analysis.x32Syscalls)
        print("static-soundness \(app): static \(analysis.syscalls.count), traced \(census.x86_64.count), "
              + "unresolved sites \(analysis.unresolvedCount), missed \(missed.count + missedI386.count + missedX32.count)")
        #expect(missed.isEmpty, "\(app): traced but not in the static set: \(missed.sorted().map { SyscallTable.displayName(of: $0) })")
        #expect(missedI386.isEmpty, "\(app): i386 calls missed: \(missedI386.sorted())")
        #expect(missedX32.isEmpty, "\(app): x32 calls missed: \(missedX32.sorted())")
    }

    func installed(_ name: String) -> String? { locateExecutable(name) }

    /// Starts a server in the background, waits for its port, runs the workload, stops the
    /// server with SIGTERM and waits for it (so its shutdown calls are in the census too).
    func serverScript(start: String, port: Int, workload: String) -> String {
        """
        \(start) >server.log 2>&1 &
        pid=$!
        for i in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/\(port)) 2>/dev/null && break; sleep 0.05; done
        \(workload)
        kill -TERM $pid
        wait $pid || true
        """
    }

    @Test func sqlite3() throws {
        let bin = try #require(installed("sqlite3"), "sqlite3 is not installed: run scripts/setup")
        let sql = """
            PRAGMA journal_mode = WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) INSERT INTO t SELECT i, hex(randomblob(16)) FROM n;
            CREATE INDEX tv ON t(v); SELECT count(*), max(v) FROM t; VACUUM;
            """
        let c = try census(target: "sqlite3", script: "sqlite3 -bail -init /dev/null probe.db \"\(sql)\" >/dev/null; sqlite3 probe.db .dump >/dev/null")
        try check("sqlite3", binary: bin, census: c)
    }

    /// A server of examples/: how to start it, its port, the example script that drives it.
    struct Server: Sendable, CustomStringConvertible {
        var binary: String
        var start: String
        var port: Int
        var workload: String
        var description: String { binary }
    }

    static let servers = [
        Server(binary: "redis-server",
               start: "redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no --dir . --daemonize no --logfile '' --protected-mode no",
               port: 6379, workload: "REDIS_REQUESTS=2000 \(examples)/redis/redis-benchmark.sh"),
        Server(binary: "nginx", start: "nginx -p ./ -c \(examples)/nginx/nginx.conf -e error.log -g 'daemon off;'",
               port: 8080, workload: "WRK_DURATION=1s \(examples)/nginx/wrk.sh"),
        Server(binary: "memcached", start: "memcached -l 127.0.0.1 -p 11211 -U 0 -u nobody -t 2 -m 64 -c 256",
               port: 11211, workload: "MEMASLAP_OPS=2000 \(examples)/memcached/memaslap.sh"),
        Server(binary: "lighttpd", start: "lighttpd -D -f \(examples)/lighttpd/lighttpd.conf",
               port: 8081, workload: "WEB_PORT=8081 WRK_DURATION=1s \(examples)/lighttpd/wrk.sh"),
    ]

    @Test(arguments: servers) func server(_ server: Server) throws {
        let bin = try #require(installed(server.binary), "\(server.binary) is not installed: run scripts/setup")
        let script = serverScript(start: server.start, port: server.port, workload: server.workload + " >/dev/null")
        try check(server.binary, binary: bin, census: try census(target: server.binary, script: script))
    }

    /// The fixture's modes whose calls are fixed in its code (not `repeat`/`expect`, which call
    /// `syscall(N)` with N from the command line: a site no static analysis can resolve, and
    /// which the analysis lists as unresolved).
    @Test func fixture() throws {
        let f = Self.products + "/syspect-fixture"
        let modes = ["fail 2", "threads 2 3", "fork 2", "errnos", "int80", "x32", "vfork exit 0", "spawn exit 0",
                     "exec-from-thread exit 0", "sleep 0", "feature-ioctl", "feature-fcntl", "feature-rlimit",
                     "feature-mmap", "feature-socket", "feature-clone3", "feature-files"]
        let script = modes.map { "\(f) \($0) || true" }.joined(separator: "\n")
        let c = try census(target: "syspect-fixture", script: script)
        #expect(c.i386.contains(20), "int80 mode: i386 getpid not traced")
        try check("syspect-fixture", binary: f, census: c)
        // The repeat mode's number comes from argv: the site is listed as unresolved, not dropped.
        let analysis = try Self.analyzer.analyse([f])
        #expect(analysis.unresolvedCount > 0)
    }
}
