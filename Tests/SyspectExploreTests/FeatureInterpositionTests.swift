import Foundation
import SyspectCore
import SyspectTrace
import Testing

/// Runs a perl script (perl-base is Essential on Debian: always installed) that makes raw
/// system calls with `syscall`, under `interposition`; returns its exit code and stdout.
/// No census: the interposition alone decides what the filter traps.
private func perl(_ script: String, _ interposition: Interposition) throws -> (code: Int32?, out: String) {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("syspect-feature-\(UUID().uuidString).out").path
    defer { try? FileManager.default.removeItem(atPath: out) }
    let result = try Tracer.run(LaunchOptions(
        arguments: ["perl", "-e", script], stdoutPath: out, census: false, interposition: interposition, timeout: 20))
    return (result.exitCode, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
}

private func feature(_ syscall: Int, _ argument: String, _ name: String, index: Int, value: UInt64) -> SubFeature {
    SubFeature(syscall: syscall, argument: argument, name: name, match: .arguments([ArgumentCondition(index: index, value: value)]))
}

private let fcntlSetFD = feature(72, "cmd", "F_SETFD", index: 1, value: 2)
private let ioctlTIOCGPTN = feature(16, "request", "TIOCGPTN", index: 1, value: 0x8004_5430)

/// Probes of one sub-feature, one pseudo-file or a non-zero fake value, applied for real by the
/// seccomp filter (in the kernel) or the tracer.
@Suite(.serialized) struct FeatureInterpositionTests {
    /// `fcntl(F_SETFD)` fails with ENOSYS while `fcntl(F_GETFD)` still runs, in the kernel and
    /// through the tracer.
    @Test(arguments: [true, false]) func stubbedSubFeatureLeavesTheRestOfTheCallRunning(inKernel: Bool) throws {
        var i = Interposition(inKernel: inKernel)
        i.features = [FeatureInterposition(fcntlSetFD, .stub)]
        let script = #"""
            my $set = syscall(72, 0, 2, 1); my $e = $! + 0;
            my $get = syscall(72, 0, 1);
            print "$set $e ", ($get >= 0 ? "get-ok" : "get-failed"), "\n";
            """#
        let run = try perl(script, i)
        #expect(run.code == 0)
        #expect(run.out == "-1 38 get-ok\n")
    }

    /// clone3's flags live in tracee memory (`struct clone_args`): only the tracer matches them.
    /// CLONE_THREAD alone and CLONE_SIGHAND alone are both invalid (EINVAL, 22) for the real call;
    /// the stubbed sub-feature answers ENOSYS for the first only.
    @Test func memoryMatchedSubFeature() throws {
        var i = Interposition(inKernel: true)
        i.features = [FeatureInterposition(SubFeature(
            syscall: 435, argument: "flags", name: "CLONE_THREAD",
            match: .memory(pointer: 0, offset: 0, mask: 0x10000, value: 0x10000)), .stub)]
        let script = #"""
            my $thread = pack("Q8", 0x10000, 0, 0, 0, 0, 0, 0, 0);
            my $sighand = pack("Q8", 0x800, 0, 0, 0, 0, 0, 0, 0);
            my $a = syscall(435, $thread, 64) == -1 ? $! + 0 : "ok";
            my $b = syscall(435, $sighand, 64) == -1 ? $! + 0 : "ok";
            print "$a $b\n";
            """#
        #expect(try perl(script, i).out == "38 22\n")
        #expect(try perl(script, Interposition()).out == "22 22\n")
    }

    /// ioctl 0x80045430 (above INT_MAX) matches in the kernel filter; the same low half with
    /// the high bit clear, or sign-extended to 64 bits, does not.
    @Test func requestAboveIntMaxMatchesExactly() throws {
        var i = Interposition(inKernel: true)
        i.features = [FeatureInterposition(ioctlTIOCGPTN, .stub)]
        let script = #"""
            my $buf = "\0" x 8;
            for my $req (0x80045430, 0x00045430, 0xFFFFFFFF80045430) {
                my $r = syscall(16, -1, $req, $buf); print(($r == -1 ? $! + 0 : $r), " ");
            }
            print "\n";
            """#
        let run = try perl(script, i)
        // fd -1 is never open (fd 99 was, once, in CI): the real ioctl fails EBADF (9), the stubbed one ENOSYS (38).
        #expect(run.out == "38 9 9 \n")
    }

    /// Faking a sub-feature returns 0 without running it (fd -1 is never open: an fd such as 99
    /// may be, inherited from the test process while other suites run).
    @Test func fakedSubFeatureReturnsZero() throws {
        var i = Interposition(inKernel: true)
        i.features = [FeatureInterposition(fcntlSetFD, .fake(.zero))]
        let run = try perl(#"print syscall(72, -1, 2, 1), " ", syscall(72, -1, 1) == -1 ? $! + 0 : "?", "\n";"#, i)
        #expect(run.out == "0 9\n")
    }

    /// The write family returns the requested length; writev and sendmsg the iovec total read
    /// from the tracee. fd -1 is never open: a real call fails with EBADF.
    @Test func argumentDependentFakeValues() throws {
        var i = Interposition()
        for name in ["write", "writev", "sendmsg"] {
            let n = SyscallTable.number(named: name)!
            i.fakeRules[n] = FakeValues.rule(for: n)
        }
        let script = #"""
            my ($a, $b) = ("ab", "cde");
            my $iov = pack("P Q P Q", $a, 2, $b, 3);
            my $msg = pack("Q L x4 P Q Q Q l x4", 0, 0, $iov, 2, 0, 0, 0);
            my $s = "abcdefg";
            exit(syscall(1, -1, $s, 7) * 100 + syscall(20, -1, $iov, 2) * 10 + syscall(46, -1, $msg, 0));
            """#
        #expect(try perl(script, i).code.map { Int($0) } == (7 * 100 + 5 * 10 + 5) % 256)
        // Unfaked, each call fails (-1): exit(-111).
        #expect(try perl(script, Interposition()).code == 145)
    }

    /// A pseudo-file "absent": every call naming it fails ENOENT, whether the path is absolute,
    /// relative to the working directory, or another call (stat); other files still open.
    @Test func absentPseudoFile() throws {
        var i = Interposition()
        i.files = ["/proc/self/status": .absent]
        let script = #"""
            my @r; my ($status, $stat, $relative) = ("/proc/self/status", "/proc/self/stat", "./self/status");
            push @r, syscall(2, $status, 0) == -1 ? $! + 0 : "open";
            push @r, syscall(2, $stat, 0) == -1 ? $! + 0 : "open";
            my $st = "\0" x 256;
            push @r, syscall(4, $status, $st) == -1 ? $! + 0 : "stat";
            chdir("/proc");
            push @r, syscall(257, -100, $relative, 0) == -1 ? $! + 0 : "open";
            print join(" ", @r), "\n";
            """#
        let run = try perl(script, i)
        #expect(run.out == "2 open 2 2\n")
    }

    /// "stub" fails the same calls with ENOSYS.
    @Test func stubbedPseudoFile() throws {
        var i = Interposition()
        i.files = ["/proc/self/status": .stub]
        let run = try perl(#"my $p = "/proc/self/status"; print syscall(2, $p, 0) == -1 ? $! + 0 : "open", "\n";"#, i)
        #expect(run.out == "38\n")
    }
}

/// The fake-value table and its rules' text form.
@Suite struct FakeValueTableTests {
    @Test func everyEntryNamesARealCallAndSaysWhy() {
        #expect(FakeValues.entries.count >= 50)
        for e in FakeValues.entries {
            #expect(!e.why.isEmpty, "\(e.name) has no reason")
            if case .argument(let i) = e.rule { #expect((0..<6).contains(i)) }
        }
        #expect(FakeValues.rule(for: 1) == .argument(2))  // write
        #expect(FakeValues.rule(for: 9) == nil)  // mmap: no honest value
        #expect(FakeValues.entry(for: 9) != nil)
    }

    @Test(arguments: [FakeValueRule.constant(0), .constant(-5), .constant(1023), .argument(2),
                      .iovecTotal(vector: 1, count: 2), .messageTotal(header: 1)])
    func ruleTextRoundTrips(_ rule: FakeValueRule) {
        #expect(FakeValueRule(text: rule.text) == rule)
    }

    @Test func badRuleTextIsRejected() {
        for text in ["", "arg6", "argx", "iovec(arg1)", "msghdr(1)", "iovec(arg1,arg9)"] {
            #expect(FakeValueRule(text: text) == nil, "\(text)")
        }
    }
}

extension FakeValueTableTests {
    /// JSON (show --json, trace documents) carries a rule as its text.
    @Test func ruleCodesAsItsText() throws {
        let data = try JSONEncoder().encode([FakeValueRule.argument(2), .iovecTotal(vector: 1, count: 2)])
        #expect(String(decoding: data, as: UTF8.self) == #"["arg2","iovec(arg1,arg2)"]"#)
        #expect(try JSONDecoder().decode([FakeValueRule].self, from: data) == [.argument(2), .iovecTotal(vector: 1, count: 2)])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([FakeValueRule].self, from: Data(#"["arg9"]"#.utf8)) }
    }
}
