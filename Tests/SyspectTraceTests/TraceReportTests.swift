import Foundation
import SyspectCore
import SyspectTrace
import Testing

@Suite(.serialized) struct TraceReportTests {
    @Test func jsonRoundTripsThroughTheLibraryTypes() throws {
        let result = try Tracer.run(LaunchOptions(arguments: [Products.fixture, "fail", "3"], targets: ["syspect-fixture"]))
        let report = TraceReport(command: [Products.fixture, "fail", "3"], targets: ["syspect-fixture"], result: result)
        let data = try report.jsonData()
        let decoded = try TraceReport.decode(data)
        #expect(decoded == report)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["schemaVersion"] as? Int == TraceReport.currentSchemaVersion)
        let census = try #require((object["result"] as? [String: Any])?["census"] as? [[String: Any]])
        #expect(census.contains { $0["name"] as? String == "unlinkat" && $0["failures"] as? Int == 3 })
    }

    @Test func documentsWrittenBeforeTheCensusMethodFieldStillDecode() throws {
        let json = Data(#"""
        {"schemaVersion": 1, "command": ["x"], "targets": [], "result": {"census": [
          {"arch": "x86_64", "number": 39, "name": "getpid", "calls": 2, "failures": 0, "errnos": {}}],
          "timedOut": false, "killed": false, "targetsSeen": [], "targetsNeverRun": [], "interposed": {},
          "durationSeconds": 0.1, "processCount": 1, "failuresCounted": true, "exitCode": 0}}
        """#.utf8)
        let report = try TraceReport.decode(json)
        #expect(report.result.censusMethod == nil)
        #expect(report.result.censusNotice == nil)
        #expect(report.result.census.first?.calls == 2)
        let written = TraceReport(command: ["x"], targets: [], result: TraceResult(censusMethod: .ebpf))
        #expect(try TraceReport.decode(written.jsonData()).result.censusMethod == .ebpf)
    }

    @Test func unknownSchemaVersionsAreRefused() throws {
        let json = Data(#"{"schemaVersion": 99, "command": [], "targets": []}"#.utf8)
        #expect(throws: TraceError.unsupportedSchema(99)) { try TraceReport.decode(json) }
    }

    @Test func tableListsI386AndX32Separately() {
        let result = TraceResult(exitCode: 0, census: [
            CensusEntry(arch: .x86_64, number: 0, name: "read", calls: 10, failures: 2, errnos: ["EAGAIN": 1, "EINTR": 1]),
            CensusEntry(arch: .x86_64, number: 257, name: "openat", calls: 12, failures: 5, errnos: ["ENOENT": 5]),
            CensusEntry(arch: .i386, number: 20, name: "getpid", calls: 3, failures: 0, errnos: [:]),
        ])
        let text = CensusTable.render(result)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "x86_64 system calls:")
        #expect(lines[3].hasPrefix("openat") && lines[3].hasSuffix("ENOENT 5"), "most calls first")
        #expect(lines[4].hasPrefix("read") && lines[4].hasSuffix("EAGAIN 1, EINTR 1"))
        #expect(lines.contains("i386 system calls:"))
        #expect(!text.contains("x32 system calls:"))
        let i386Index = try! #require(lines.firstIndex(of: "i386 system calls:"))
        #expect(lines[(i386Index + 1)...].contains { $0.hasPrefix("getpid") })
        #expect(lines[..<i386Index].allSatisfy { !$0.hasPrefix("getpid") })
    }
}
