import Foundation
import SyspectCore
import Testing

@testable import SyspectTrace

extension TraceResult {
    /// The census line of the sub-feature with this key ("fcntl:cmd=F_SETFL").
    func feature(_ key: String) -> FeatureUse? { features.first { $0.feature.key == key } }

    func file(_ path: String) -> PseudoFileUse? { pseudoFiles.first { $0.path == path } }
}

/// Runs the fixture with the feature census on.
private func traceFixture(_ arguments: [String], method: CensusMethodChoice = .auto, countFailures: Bool = true,
                          census: Bool = true) throws -> TraceResult {
    var options = LaunchOptions(arguments: [Products.fixture] + arguments, census: census,
                                countFailures: countFailures, censusMethod: method)
    options.featureCensus = true
    let result = try Tracer.run(options)
    #expect(result.exitCode == 0, "fixture \(arguments) failed")
    return result
}

/// The sub-feature and pseudo-file census against the fixture's known calls (exact counts).
@Suite(.serialized) struct FeatureCensusTests {
    @Test(arguments: [CensusMethodChoice.ptrace, .auto])
    func ioctlRequestsAboveIntMax(method: CensusMethodChoice) throws {
        let result = try traceFixture(["feature-ioctl", "3"], method: method)
        let pty = try #require(result.feature("ioctl:request=TIOCGPTN"), "\(result.features.map(\.feature.key))")
        // 3 with the request as unsigned long, 3 sign-extended: both are TIOCGPTN; all fail (ENOTTY).
        #expect(pty.calls == 6 && pty.failures == 6)
        #expect(pty.feature.match == .arguments([ArgumentCondition(index: 1, value: 0x8004_5430, mask: 0xffff_ffff)]))
        let nbio = try #require(result.feature("ioctl:request=FIONBIO"))
        #expect(nbio.calls == 3 && nbio.failures == 0)
        #expect(result.file("/dev/null")?.calls == ["openat": 1])
    }

    @Test func fcntlCommands() throws {
        let result = try traceFixture(["feature-fcntl", "4"])
        for key in ["fcntl:cmd=F_GETFL", "fcntl:cmd=F_SETFL", "fcntl:cmd=F_DUPFD_CLOEXEC"] {
            #expect(result.feature(key)?.calls == 4, "\(key)")
            #expect(result.feature(key)?.failures == 0, "\(key)")
        }
        let unknown = try #require(result.feature("fcntl:cmd=0x7777"))
        #expect(unknown.calls == 1 && unknown.failures == 1)
        #expect(result.features.filter { $0.feature.syscallName == "fcntl" }.count == 4)
    }

    @Test func resourceLimits() throws {
        let result = try traceFixture(["feature-rlimit", "2"])
        #expect(result.feature("prlimit64:resource=RLIMIT_NOFILE")?.calls == 2)
        #expect(result.feature("getrlimit:resource=RLIMIT_CORE")?.calls == 2)
        #expect(result.feature("getrlimit:resource=RLIMIT_STACK")?.calls == 2)
        #expect(result.feature("setrlimit:resource=RLIMIT_STACK")?.calls == 2)
        let bad = try #require(result.feature("prlimit64:resource=0x63"))
        #expect(bad.calls == 1 && bad.failures == 1)
    }

    @Test func mmapBitsCountedOnePerCall() throws {
        // The loader's own mmaps vary: compare a run with 0 and one with 5 extra calls.
        let base = try traceFixture(["feature-mmap", "0"])
        let more = try traceFixture(["feature-mmap", "5"])
        func delta(_ key: String) -> Int { (more.feature(key)?.calls ?? 0) - (base.feature(key)?.calls ?? 0) }
        #expect(delta("mmap:prot=PROT_NONE") == 5)
        #expect(delta("mmap:flags=MAP_NORESERVE") == 5)
        #expect(delta("mmap:flags=MAP_PRIVATE") == 5)
        #expect(delta("mmap:flags=MAP_ANONYMOUS") == 5)
        #expect(delta("mmap:prot=PROT_READ") == 0)
    }

    @Test func socketsAndOptions() throws {
        let result = try traceFixture(["feature-socket"])
        for key in ["socket:domain=AF_INET", "socket:type=SOCK_STREAM", "socket:type=SOCK_CLOEXEC",
                    "setsockopt:level/optname=SOL_SOCKET/SO_REUSEADDR", "setsockopt:level/optname=SOL_TCP/TCP_NODELAY",
                    "getsockopt:level/optname=SOL_SOCKET/SO_TYPE"] {
            #expect(result.feature(key)?.calls == 1, "\(key): \(result.features.map(\.feature.key))")
        }
        #expect(result.feature("socket:type=SOCK_NONBLOCK") == nil)
    }

    @Test func clone3FlagsReadFromMemory() throws {
        let result = try traceFixture(["feature-clone3"])
        let flag = try #require(result.feature("clone3:flags=CLONE_CLEAR_SIGHAND"))
        #expect(flag.calls == 1 && flag.failures == 0)
        #expect(!flag.feature.match.inKernel)
        #expect(result.features.filter { $0.feature.syscallName == "clone3" }.count == 1)
    }

    @Test func forkKeepsItsExitStop() throws {
        // The clone's exit comes after the fork event: it must still be seen (not lost, not
        // attributed to the next call).
        let result = try traceFixture(["fork", "2"])
        let settid = try #require(result.feature("clone:flags=CLONE_CHILD_SETTID"))
        #expect(settid.calls == 1 && settid.failures == 0)
        #expect(result.feature("clone:exit_signal=SIGCHLD")?.calls == 1)
    }

    @Test(arguments: [CensusMethodChoice.ptrace, .auto])
    func pseudoFilesResolvedAndNormalised(method: CensusMethodChoice) throws {
        let result = try traceFixture(["feature-files"], method: method)
        let expected: [String: [String: Int]] = [
            "/proc/self/status": ["openat": 1],
            "/proc/<pid>/stat": ["openat": 1],
            "/proc/self/comm": ["openat": 1],  // "self/comm" after chdir("/proc")
            "/sys": ["openat": 1],
            "/sys/kernel": ["openat": 1],  // "kernel/../kernel" against the /sys dirfd
            "/dev/null": ["statx": 1],
            "/dev/syspect-fixture-missing": ["access": 1],
            "/proc/self/task/<tid>/stat": ["openat": 1],
        ]
        for (path, calls) in expected {
            #expect(result.file(path)?.calls == calls, "\(path): \(result.pseudoFiles.map(\.path))")
        }
        #expect(result.file("/dev/syspect-fixture-missing")?.failures == 1)
        #expect(result.file("/proc/self/status")?.failures == 0)
        // The fixture's own readlink plus none other naming /proc/self/exe from a plain run.
        #expect((result.file("/proc/self/exe")?.calls["readlink"] ?? 0) >= 1)
        #expect(result.pseudoFiles.allSatisfy { PseudoFiles.isPseudo($0.path) })
        #expect(result.pseudoFiles == result.pseudoFiles.sorted())
    }

    @Test func withoutFailuresCallsStillCount() throws {
        let result = try traceFixture(["feature-fcntl", "2"], countFailures: false)
        #expect(result.feature("fcntl:cmd=F_SETFL")?.calls == 2)
        #expect(result.feature("fcntl:cmd=0x7777")?.failures == 0)
    }

    @Test func featureCensusWithoutTheSyscallCensus() throws {
        let result = try traceFixture(["feature-fcntl", "2"], census: false)
        #expect(result.census.isEmpty)
        #expect(result.feature("fcntl:cmd=F_GETFL")?.calls == 2)
        #expect(result.feature("fcntl:cmd=0x7777")?.failures == 1)
    }

    @Test func offByDefault() throws {
        let result = try Tracer.run(LaunchOptions(arguments: [Products.fixture, "feature-fcntl", "1"]))
        #expect(result.exitCode == 0)
        #expect(result.features.isEmpty && result.pseudoFiles.isEmpty)
    }

    @Test func cliPrintsAndWritesJSON() throws {
        let text = try runCLI(["trace", "--features", "--output", "-", "--", Products.fixture, "feature-ioctl", "1"])
        #expect(text.contains("sub-features:") && text.contains("TIOCGPTN") && text.contains("pseudo-files:"))
        #expect(text.contains("/dev/null"))
        let json = try runCLI(["trace", "--features", "--json", "--output", "-", "--", Products.fixture, "feature-fcntl", "1"])
        let report = try TraceReport.decode(Data(json.utf8))
        #expect(report.result.features.contains { $0.feature.key == "fcntl:cmd=F_SETFL" && $0.calls == 1 })
        #expect(report.result.file("/dev/null") != nil)
    }

    /// `syspect ARGS`: its standard output (the command must exit 0).
    private func runCLI(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Products.syspect)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "syspect \(arguments)")
        return String(decoding: data, as: UTF8.self)
    }
}

/// The counting itself, without a kernel.
@Suite struct FeatureTallyTests {
    @Test func countsCallsFailuresAndPaths() {
        let setfl = FeatureDecoder.decode(syscall: 72, arguments: [3, 4, 0x800, 0, 0, 0])
        var tally = FeatureTally()
        tally.count(.init(syscall: 72, features: setfl), failed: false)
        tally.count(.init(syscall: 72, features: setfl), failed: true)
        tally.count(.init(syscall: 257, path: "/proc/self/stat"), failed: false)
        tally.count(.init(syscall: 262, path: "/proc/self/stat"), failed: true)
        #expect(tally.features == [FeatureUse(feature: setfl[0], calls: 2, failures: 1)])
        #expect(tally.pseudoFiles == [PseudoFileUse(path: "/proc/self/stat", calls: ["openat": 1, "newfstatat": 1],
                                                    failures: 1)])
    }

    @Test func oldDocumentsDecodeWithEmptyFeatureLists() throws {
        var result = TraceResult(exitCode: 0)
        result.features = [FeatureUse(feature: SubFeature(key: "fcntl:cmd=F_SETFL")!, calls: 2)]
        let encoded = try JSONEncoder().encode(result)
        #expect(try JSONDecoder().decode(TraceResult.self, from: encoded) == result)
        var object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        object["features"] = nil
        object["pseudoFiles"] = nil
        let old = try JSONDecoder().decode(TraceResult.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.features.isEmpty && old.pseudoFiles.isEmpty && old.exitCode == 0)
    }
}

/// Real programs under a short workload, each in a sandbox (its own network namespace: fixed
/// ports cannot clash). What each uses is listed in docs/features.md.
@Suite(.serialized) struct FeatureCensusRealProgramTests {
    private func trace(_ script: String, target: String) throws -> TraceResult {
        var options = LaunchOptions(arguments: ["sh", "-c", script], targets: [target], sandbox: Sandbox(), timeout: 60)
        options.featureCensus = true
        let result = try Tracer.run(options)
        #expect(result.exitCode == 0, "workload of \(target) failed")
        #expect(!result.timedOut)
        return result
    }

    private func names(_ result: TraceResult, _ syscall: String) -> Set<String> {
        Set(result.features.filter { $0.feature.syscallName == syscall }.map(\.feature.name))
    }

    @Test func nginxIoctlRequestsAndFcntlCommands() throws {
        let dir = try scratchDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/html", withIntermediateDirectories: true)
        try "hello\n".write(toFile: dir + "/html/index.html", atomically: true, encoding: .utf8)
        try """
            worker_processes 1;
            user root root;
            pid nginx.pid;
            error_log error.log warn;
            events { worker_connections 64; }
            http {
                access_log access.log;
                client_body_temp_path client_body_temp;
                proxy_temp_path proxy_temp;
                fastcgi_temp_path fastcgi_temp;
                uwsgi_temp_path uwsgi_temp;
                scgi_temp_path scgi_temp;
                server { listen 127.0.0.1:8080; root html; }
            }
            """.write(toFile: dir + "/nginx.conf", atomically: true, encoding: .utf8)
        let result = try trace("""
            nginx -p \(dir)/ -c \(dir)/nginx.conf -e error.log -g 'daemon off;' & server=$!
            for i in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:8080/ && break; sleep 0.05; done
            for i in $(seq 20); do [ "$(curl -s http://127.0.0.1:8080/index.html)" = hello ] || exit 1; done
            kill -QUIT $server; wait $server
            """, target: "nginx")
        // Paper section 5.4: nginx uses FIONBIO and FIOASYNC (non-blocking and async channel).
        #expect(names(result, "ioctl").isSuperset(of: ["FIONBIO", "FIOASYNC"]), "\(names(result, "ioctl"))")
        #expect(names(result, "fcntl").contains("F_SETFD"), "\(names(result, "fcntl"))")
        #expect(result.feature("setsockopt:level/optname=SOL_SOCKET/SO_REUSEADDR") != nil)
        #expect(result.feature("socket:domain=AF_INET") != nil)
        #expect(result.feature("clone:exit_signal=SIGCHLD")?.calls ?? 0 >= 1, "the master forks its worker")
    }

    @Test func redisFcntlCommandsAndResourceLimits() throws {
        let dir = try scratchDirectory()
        let result = try trace("""
            cd \(dir)
            redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no --dir . --daemonize no \
              --logfile '' --protected-mode no >/dev/null & server=$!
            for i in $(seq 100); do [ "$(redis-cli -p 6379 ping 2>/dev/null)" = PONG ] && break; sleep 0.05; done
            redis-benchmark -p 6379 -t set,get -n 2000 -c 5 -q >/dev/null || exit 1
            [ "$(redis-cli -p 6379 get key:__rand_int__)" = VXK ] || exit 1
            redis-cli -p 6379 shutdown nosave >/dev/null; wait $server
            """, target: "redis-server")
        #expect(names(result, "fcntl").isSuperset(of: ["F_GETFL", "F_SETFL"]), "\(names(result, "fcntl"))")
        #expect(names(result, "prlimit64").contains("RLIMIT_NOFILE"), "\(names(result, "prlimit64"))")
        #expect(result.feature("arch_prctl:code=ARCH_SET_FS")?.calls == 1)
        #expect(result.file("/proc/sys/net/core/somaxconn") != nil, "\(result.pseudoFiles.map(\.path))")
    }

    @Test func sqlite3PseudoFiles() throws {
        let dir = try scratchDirectory()
        try """
            CREATE TABLE kv(k TEXT PRIMARY KEY, n INTEGER);
            CREATE INDEX kv_n ON kv(n);
            BEGIN;
            INSERT INTO kv VALUES ('x', 1), ('y', 2), ('z', 3);
            UPDATE kv SET n = n * 10 WHERE k <> 'y';
            COMMIT;
            SELECT sum(n) FROM kv;
            """.write(toFile: dir + "/script.sql", atomically: true, encoding: .utf8)
        let result = try trace("sqlite3 \(dir)/test.db '.read \(dir)/script.sql' >\(dir)/out", target: "sqlite3")
        #expect(try String(contentsOfFile: dir + "/out", encoding: .utf8) == "42\n")
        #expect(result.file("/dev/urandom")?.calls["openat"] == 1, "\(result.pseudoFiles.map(\.path))")
        #expect(result.pseudoFiles.allSatisfy { PseudoFiles.isPseudo($0.path) && !$0.path.contains("//") })
        // Its locks are fcntl F_SETLK (POSIX advisory locks on the database).
        #expect(names(result, "fcntl").contains("F_SETLK"), "\(names(result, "fcntl"))")
    }
}
