import Foundation
import SyspectCore
@testable import SyspectStatic
import SyspectTestSupport
import Testing

/// Issue 13, "Bad input": not ELF, 32-bit, non-x86-64, stripped, a missing library. Each gets a
/// one-line error naming the problem, or a result that marks what it could not see.
@Suite struct BadInputTests {
    static let products = SoundnessTests.products
    static var fixture: String { products + "/syspect-fixture" }

    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "syspect-static-bad-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func analyzer(_ dir: String) -> StaticAnalyzer { StaticAnalyzer(cache: FileSummaryCache(directory: dir + "/cache")) }

    /// A copy of the fixture with `bytes` written at `offset` (a crafted header).
    func patchedFixture(_ dir: String, name: String, offset: Int, bytes: [UInt8]) throws -> String {
        var data = try Data(contentsOf: URL(fileURLWithPath: Self.fixture))
        for (i, b) in bytes.enumerated() { data[offset + i] = b }
        let path = dir + "/" + name
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    func expectError(_ path: String, _ dir: String, matching expected: StaticAnalysisError, contains words: [String]) throws {
        #expect(throws: expected) { _ = try analyzer(dir).analyse([path]) }
        // The CLI prints it on one line and exits 1.
        let out = try runProgram(Self.products + "/syspect", ["static", "--no-cache", path])
        #expect(out.status == 1)
        let lines = out.stderr.split(separator: "\n")
        #expect(lines.count == 1, "expected one line: \(out.stderr)")
        for w in words { #expect(out.stderr.contains(w), "\(w) missing in: \(out.stderr)") }
    }

    @Test func notAnELFFile() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/script.sh"
        try "#!/bin/sh\necho hello\n".write(toFile: path, atomically: true, encoding: .utf8)
        try expectError(path, dir, matching: .notELF(path: path), contains: ["not an ELF file"])
        let empty = dir + "/empty"
        FileManager.default.createFile(atPath: empty, contents: Data())
        #expect(throws: StaticAnalysisError.notELF(path: empty)) { _ = try analyzer(dir).analyse([empty]) }
    }

    @Test func thirtyTwoBitELF() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try patchedFixture(dir, name: "fixture32", offset: 4, bytes: [1])  // EI_CLASS = ELFCLASS32
        try expectError(path, dir, matching: .notELF64(path: path), contains: ["32-bit"])
    }

    @Test func otherMachine() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try patchedFixture(dir, name: "fixture-aarch64", offset: 18, bytes: [183, 0])  // e_machine = EM_AARCH64
        try expectError(path, dir, matching: .notX86_64(path: path, machine: 183), contains: ["AArch64", "not x86-64"])
    }

    @Test func missingFileAndTruncatedELF() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let missing = dir + "/nothing-here"
        let out = try runProgram(Self.products + "/syspect", ["static", "--no-cache", missing])
        #expect(out.status == 1 && out.stderr.contains("cannot read") && out.stderr.split(separator: "\n").count == 1)
        // The ELF header survives, the section headers point past the end.
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fixture)).prefix(200)
        let truncated = dir + "/truncated"
        try data.write(to: URL(fileURLWithPath: truncated))
        #expect {
            _ = try analyzer(dir).analyse([truncated])
        } throws: { error in
            guard case .malformed = error as? StaticAnalysisError else { return false }
            return true
        }
    }

    /// Without .symtab the analysis still runs from dynamic symbols and the loader's view, says
    /// so, and (its functions being coarser) charges at least what the symbolised binary gets.
    @Test func strippedBinary() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stripped = dir + "/fixture-stripped"
        let strip = try runProgram("/usr/bin/strip", ["-o", stripped, Self.fixture])
        #expect(strip.status == 0, "strip failed: \(strip.stderr)")
        let a = try analyzer(dir).analyse([stripped])
        let full = try analyzer(dir).analyse([Self.fixture])
        let object = try #require(a.objects.first)
        #expect(object.stripped)
        #expect(full.objects.first?.stripped == false)
        #expect(object.warnings.contains { $0.contains("stripped") })
        #expect(a.syscalls.isSuperset(of: full.syscalls), "stripped lost \(full.syscalls.subtracting(a.syscalls).sorted())")
        #expect(a.i386Syscalls.contains(20) && a.x32Syscalls.contains(39))  // the fixture's int80 / x32 modes
    }

    /// A needed library that is not installed: a warning, the result lists it, the rest is analysed.
    @Test func missingLibrary() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "int syspect_gone(void) { return 7; }\n".write(toFile: dir + "/gone.c", atomically: true, encoding: .utf8)
        try "int syspect_gone(void);\nint main(void) { return syspect_gone(); }\n".write(toFile: dir + "/main.c", atomically: true, encoding: .utf8)
        let lib = try runProgram("/usr/bin/gcc", ["-shared", "-fPIC", "-o", dir + "/libsyspectgone.so", dir + "/gone.c"])
        #expect(lib.status == 0, "gcc: \(lib.stderr)")
        let exe = try runProgram("/usr/bin/gcc", ["-o", dir + "/needs-gone", dir + "/main.c", "-L" + dir, "-lsyspectgone"])
        #expect(exe.status == 0, "gcc: \(exe.stderr)")
        try FileManager.default.removeItem(atPath: dir + "/libsyspectgone.so")

        let a = try analyzer(dir).analyse([dir + "/needs-gone"])
        #expect(a.missingLibraries == ["libsyspectgone.so"])
        #expect(a.objects[0].warnings.contains { $0.contains("libsyspectgone.so") && $0.contains("not found") })
        #expect(a.objects.contains { $0.soname == "libc.so.6" })
        #expect(a.syscalls.contains(231))  // exit_group: libc's exit is still seen

        let out = try runProgram(Self.products + "/syspect", ["static", "--no-cache", dir + "/needs-gone"])
        #expect(out.status == 0)
        #expect(out.stderr.contains("libsyspectgone.so was not found"))
        #expect(out.stdout.contains("missing libraries (not analysed): libsyspectgone.so"))
    }
}
