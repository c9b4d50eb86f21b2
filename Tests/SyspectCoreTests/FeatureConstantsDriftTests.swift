import Foundation
import Testing

@testable import SyspectCore

/// The generated constant tables must agree with the kernel and glibc headers of this machine:
/// the generator is run again (the C compiler evaluates the values) and its output compared with
/// the committed file. Regenerate with `scripts/gen-feature-constants`.
@Suite struct FeatureConstantsDriftTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func generatedTablesMatchTheHeaders() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("feature-constants-\(UUID()).swift")
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.root.appendingPathComponent("scripts/gen-feature-constants").path,
                             "--output", output.path]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "scripts/gen-feature-constants failed (needs python3 and cc)")
        let fresh = try String(contentsOf: output, encoding: .utf8)
        let committed = try String(
            contentsOf: Self.root.appendingPathComponent("Sources/SyspectCore/FeatureConstants+Generated.swift"),
            encoding: .utf8)
        let freshLines = fresh.split(separator: "\n")
        let committedLines = committed.split(separator: "\n")
        let firstDifference = zip(freshLines, committedLines).first { $0 != $1 }
        #expect(fresh == committed,
                "headers disagree with FeatureConstants+Generated.swift (first difference: headers say \(firstDifference.map { String($0.0) } ?? "a different length")); run scripts/gen-feature-constants")
    }

    @Test func valuesAboveIntMaxAreExact() {
        #expect(FeatureConstants.value(named: "TIOCGPTN", in: .ioctlRequest) == 0x8004_5430)
        #expect(FeatureConstants.name(of: 0x8004_5430, in: .ioctlRequest) == "TIOCGPTN")
        #expect(FeatureConstants.value(named: "CLONE_CLEAR_SIGHAND", in: .cloneFlag) == 0x1_0000_0000)
    }

    @Test func sharedValuesKeepOneNameByTheDocumentedRule() {
        // Preferred names win over aliases (FIONREAD = TIOCINQ = SIOCINQ, AF_UNIX = AF_LOCAL).
        #expect(FeatureConstants.name(of: 0x541B, in: .ioctlRequest) == "FIONREAD")
        #expect(FeatureConstants.name(of: 1, in: .addressFamily) == "AF_UNIX")
        #expect(FeatureConstants.name(of: 17, in: .signal) == "SIGCHLD")
        #expect(FeatureConstants.name(of: 6, in: .socketLevel) == "SOL_TCP")
        for table in ConstantTable.allCases {
            let entries = FeatureConstants.entries(table)
            #expect(!entries.isEmpty, "\(table) is empty")
            #expect(Set(entries.map(\.value)).count == entries.count, "\(table) names a value twice")
            #expect(Set(entries.map(\.name)).count == entries.count, "\(table) has a name twice")
        }
    }

    @Test func subValuesAreNotOptions() {
        #expect(FeatureConstants.value(named: "PR_SET_MM_START_CODE", in: .prctlOption) == nil)
        #expect(FeatureConstants.value(named: "PR_MCE_KILL_GET", in: .prctlOption) == 34)
        #expect(FeatureConstants.value(named: "TIOCPKT_DATA", in: .ioctlRequest) == nil)
        #expect(FeatureConstants.value(named: "FUTEX_WAIT_PRIVATE", in: .futexOperation) == nil)
        #expect(FeatureConstants.value(named: "F_RDLCK", in: .fcntlCommand) == nil)
    }

    @Test func bitTablesHoldSingleBits() {
        for table in [ConstantTable.protectionBit, .mmapFlagBit, .cloneFlag, .openFlagBit, .socketTypeFlag, .futexFlag] {
            for entry in FeatureConstants.entries(table) {
                #expect(entry.value != 0 && entry.value & (entry.value - 1) == 0, "\(table) \(entry.name)")
            }
        }
    }
}
