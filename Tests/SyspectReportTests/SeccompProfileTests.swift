import Foundation
import SyspectTestSupport
import SyspectCore
import Testing
@testable import SyspectReport

@Suite("seccomp profile export", .serialized)
struct SeccompProfileTests {
    static let redis = BundledLoupedb.dataset.measurements.filter { $0.app == "redis" }

    @Test("allow-traced: every call any workload traced is allowed, plus execve; shape as documented")
    func allowTraced() throws {
        let runs = Self.redis.map { ReportedRun(measurement: $0) }
        try #require(!runs.isEmpty)
        let (profile, unnamed) = SeccompProfile.make(for: runs)
        #expect(unnamed.isEmpty)
        let (problems, rules) = try DocumentedSeccompShape.check(try profile.jsonData())
        #expect(problems.isEmpty, "\(problems)")
        #expect(profile.defaultAction == "SCMP_ACT_ERRNO" && profile.defaultErrnoRet == 38)
        #expect(profile.architectures == ["SCMP_ARCH_X86_64"])
        #expect(rules.count == 1 && rules[0].action == "SCMP_ACT_ALLOW")
        let traced = Set(Self.redis.flatMap(\.traced)).union([SyscallTable.number(named: "execve")!])
        #expect(Set(rules[0].names) == Set(traced.map { SyscallTable.name(of: $0)! }))
    }

    @Test("minimal: required allowed, stub-tolerant calls get ENOSYS, fake-only calls return 0; workloads combined by meet")
    func minimal() throws {
        let a = Measurement(app: "x", workload: "a", kind: .benchmark, verdicts: [0: .required, 1: .stub, 2: .fake, 3: .either, 4: .stub], source: "t")
        let b = Measurement(app: "x", workload: "b", kind: .suite, verdicts: [3: .fake, 4: .fake, 5: .either], source: "t")
        let (profile, _) = SeccompProfile.make(for: [a, b].map { ReportedRun(measurement: $0) }, mode: .minimal)
        let (problems, rules) = try DocumentedSeccompShape.check(try profile.jsonData())
        #expect(problems.isEmpty, "\(problems)")
        let byAction = Dictionary(uniqueKeysWithValues: rules.map { ("\($0.action)/\($0.errno.map(String.init) ?? "-")", Set($0.names)) })
        // 4 is stub-only in a and fake-only in b: neither passes both workloads, so it runs.
        #expect(byAction["SCMP_ACT_ALLOW/-"] == ["read", "stat", "execve"])
        #expect(byAction["SCMP_ACT_ERRNO/38"] == ["write", "fstat"])
        #expect(byAction["SCMP_ACT_ERRNO/0"] == ["open", "close"])
    }

    static let libseccompHeader = FileManager.default.fileExists(atPath: "/usr/include/seccomp.h")

    @Test("the exported profile really runs sqlite3 under libseccomp, and denying a traced call breaks it",
          .enabled(if: libseccompHeader && which("cc") != nil && which("sqlite3") != nil
                   && TestSupport.syspectExecutable != nil,
                   "needs cc, libseccomp-dev, sqlite3 (scripts/setup installs them) and the built syspect"))
    func profileRunsSqlite() throws {
        let dir = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let syspect = TestSupport.syspectExecutable!
        let workload = [which("sqlite3")!, dir + "/t.db",
                        "create table t(x); insert into t values (1),(2),(39); select sum(x) from t;"]

        // 1. Measure: `syspect trace --json` of the workload, then the profile from that report.
        let traced = try TestSupport.run(syspect, ["trace", "--json", "--output", dir + "/sqlite3.json", "--"] + workload)
        #expect(traced.status == 0, "syspect trace: \(traced.stderr)")
        let exported = try TestSupport.run(syspect, ["export", "seccomp", "--trace", dir + "/sqlite3.json", "-o", dir + "/profile.json"])
        #expect(exported.status == 0, "export seccomp --trace: \(exported.stderr)")
        let profile = try JSONDecoder().decode(SeccompProfile.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/profile.json")))
        #expect(profile.syscalls.count == 1 && profile.syscalls[0].names.count > 10)

        // 2. Load it with libseccomp as an OCI runtime would, and run the same workload under it.
        let loader = try compileLoader(in: dir)
        func runUnder(_ profile: SeccompProfile) throws -> TestSupport.Output {
            let (problems, rules) = try DocumentedSeccompShape.check(try profile.jsonData())
            #expect(problems.isEmpty, "\(problems)")
            var lines = ["default \(profile.defaultErrnoRet ?? 1)"]
            for rule in rules {
                for name in rule.names { lines.append(rule.action == "SCMP_ACT_ALLOW" ? "allow \(name)" : "errno \(rule.errno ?? 1) \(name)") }
            }
            try lines.joined(separator: "\n").write(toFile: dir + "/rules", atomically: true, encoding: .utf8)
            try? FileManager.default.removeItem(atPath: dir + "/t.db")
            return try TestSupport.run(loader, [dir + "/rules"] + workload)
        }
        let allowed = try runUnder(profile)
        #expect(allowed.status == 0, "under the profile: \(allowed.stderr)")
        #expect(allowed.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "42")

        // 3. The profile is enforced: without openat, sqlite3 cannot even load its libraries.
        var denied = profile
        denied.syscalls[0].names.removeAll { $0 == "openat" }
        let broken = try runUnder(denied)
        #expect(broken.status != 0 || broken.stdout.trimmingCharacters(in: .whitespacesAndNewlines) != "42")
    }

    @Test("a trace report's census: x86-64 calls become the run, other ABIs are set apart, other schemas refused")
    func traceCensus() throws {
        let json = #"""
        {"schemaVersion": 1, "command": ["x"], "targets": [], "result": {"census": [
          {"arch": "x86_64", "number": 257, "name": "openat", "calls": 3, "failures": 0, "errnos": {}},
          {"arch": "x86_64", "number": 435, "name": "clone3", "calls": 1, "failures": 1, "errnos": {"ENOSYS": 1}},
          {"arch": "i386", "number": 20, "name": "getpid", "calls": 1, "failures": 0, "errnos": {}}]}}
        """#
        let (run, others) = try TraceCensus.run(json: Data(json.utf8), app: "x")
        #expect(run.tracedOnly == [257, 435])
        #expect(others == ["i386:getpid"])
        #expect(Set(SeccompProfile.make(for: [run]).profile.syscalls[0].names) == ["openat", "clone3", "execve"])
        #expect(throws: TraceCensus.Failure.unsupportedSchema(2)) {
            try TraceCensus.run(json: Data(#"{"schemaVersion": 2}"#.utf8), app: "x")
        }
        #expect(throws: TraceCensus.Failure.self) { try TraceCensus.run(json: Data("[]".utf8), app: "x") }
    }

    /// A 40-line libseccomp loader: reads "default E", "allow NAME", "errno E NAME" lines,
    /// loads the filter (native arch only) and executes the command.
    func compileLoader(in dir: String) throws -> String {
        let source = #"""
        #include <seccomp.h>
        #include <stdio.h>
        #include <string.h>
        #include <unistd.h>
        int main(int argc, char **argv) {
            if (argc < 3) return 64;
            FILE *f = fopen(argv[1], "r");
            char word[64], name[64];
            int errnoRet;
            if (!f || fscanf(f, "%63s %d", word, &errnoRet) != 2 || strcmp(word, "default")) return 65;
            scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(errnoRet));
            while (fscanf(f, "%63s", word) == 1) {
                uint32_t action = SCMP_ACT_ALLOW;
                if (!strcmp(word, "errno")) {
                    if (fscanf(f, "%d", &errnoRet) != 1) return 65;
                    action = SCMP_ACT_ERRNO(errnoRet);
                } else if (strcmp(word, "allow")) return 65;
                if (fscanf(f, "%63s", name) != 1) return 65;
                int nr = seccomp_syscall_resolve_name(name);
                if (nr == __NR_SCMP_ERROR || seccomp_rule_add(ctx, action, nr, 0) != 0) { fprintf(stderr, "bad rule %s\n", name); return 66; }
            }
            fclose(f);
            if (seccomp_load(ctx) != 0) { fprintf(stderr, "seccomp_load failed\n"); return 67; }
            execv(argv[2], argv + 2);
            perror("execv");
            return 127;
        }
        """#
        try source.write(toFile: dir + "/loader.c", atomically: true, encoding: .utf8)
        let built = try TestSupport.run(which("cc")!, ["-O1", "-o", dir + "/loader", dir + "/loader.c", "-lseccomp"])
        try #require(built.status == 0, "cannot compile the libseccomp loader: \(built.stderr)")
        return dir + "/loader"
    }
}
