import Foundation
import Testing

@testable import SyspectCore

/// The generated table must agree with the kernel headers installed on this machine
/// (regenerate with `scripts/gen-syscall-table`).
@Suite struct SyscallTableDriftTests {
    static let includeDir = "/usr/include/x86_64-linux-gnu/asm"

    static func header(_ file: String) throws -> [Int: String] {
        let text = try String(contentsOfFile: "\(includeDir)/\(file)", encoding: .utf8)
        var table: [Int: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count == 3, parts[0] == "#define", parts[1].hasPrefix("__NR_"),
                let n = Int(parts[2])
            else { continue }
            table[n] = String(parts[1].dropFirst(5))
        }
        return table
    }

    @Test func x86_64MatchesHeaders() throws {
        let headers = try Self.header("unistd_64.h")
        #expect(headers.count > 300, "could not read \(Self.includeDir)/unistd_64.h")
        for (n, name) in headers {
            #expect(SyscallTable.name(of: n) == name, "x86-64 \(n): headers say \(name); run scripts/gen-syscall-table")
        }
    }

    @Test func i386MatchesHeaders() throws {
        let headers = try Self.header("unistd_32.h")
        #expect(headers.count > 300)
        for (n, name) in headers {
            #expect(SyscallTable.name(of: n, arch: .i386) == name, "i386 \(n): headers say \(name)")
        }
    }

    @Test func coversCallsNewerThan334() {
        #expect(SyscallTable.number(named: "clone3") == 435)
        #expect(SyscallTable.number(named: "close_range") == 436)
        #expect(SyscallTable.number(named: "openat2") == 437)
        #expect(SyscallTable.highestX86_64 >= 450)
    }

    @Test func i386AndX32AreNamedApart() {
        #expect(SyscallTable.name(of: 20, arch: .i386) == "getpid")
        #expect(SyscallTable.name(of: 20) == "writev")
        #expect(SyscallTable.name(of: SyscallTable.x32Bit | 39, arch: .x32) == "getpid")
        #expect(SyscallTable.displayName(of: 20, arch: .i386) == "i386:getpid")
        #expect(SyscallTable.displayName(of: 9999) == "syscall_9999")
    }
}

@Suite struct VerdictTests {
    @Test func fromOutcomes() {
        #expect(Verdict(stubPasses: true, fakePasses: true) == .either)
        #expect(Verdict(stubPasses: true, fakePasses: false) == .stub)
        #expect(Verdict(stubPasses: false, fakePasses: true) == .fake)
        #expect(Verdict(stubPasses: false, fakePasses: false) == .required)
        #expect(Verdict.either.canStub && Verdict.either.canFake)
        #expect(!Verdict.stub.canFake && !Verdict.fake.canStub)
    }
}
