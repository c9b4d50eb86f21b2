import Foundation
import SyspectTestSupport
import SyspectCore
import SyspectPlan
import Testing
@testable import SyspectReport

@Suite("C stub skeleton export", .serialized)
struct StubSkeletonTests {
    static let cc = which("cc", "gcc", "clang")

    /// Compiles `source` as C99 with warnings as errors; returns the compiler's complaint, if any.
    func compile(_ source: String) throws -> String? {
        let dir = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try source.write(toFile: dir + "/stubs.c", atomically: true, encoding: .utf8)
        let result = try TestSupport.run(Self.cc!, ["-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-c", "-o", dir + "/stubs.o", dir + "/stubs.c"])
        return result.status == 0 ? nil : result.stderr
    }

    @Test("the skeleton of every bundled OS's plan for all applications is valid C and matches the plan",
          .enabled(if: cc != nil, "needs a C compiler"))
    func everyOS() throws {
        let dataset = BundledLoupedb.dataset
        let targets = try Planner.targets(from: dataset.measurements, workload: .all)
        for name in dataset.osSupport.keys.sorted() {
            let plan = try Planner.plan(targets: targets, os: dataset.osSupport[name]!, workload: .all)
            let skeleton = ReportBuilder.stubSkeleton(plan: plan, targets: targets, provenance: "test")
            // One entry per final decision, with the same decision.
            var decided: [Int: Decision] = [:]
            for e in skeleton.implement { decided[e.number] = .implement }
            for e in skeleton.stub { decided[e.number] = .stub }
            for e in skeleton.fake { decided[e.number] = .fake }
            #expect(decided == plan.finalDecisions, "\(name)")
            let source = skeleton.cSource
            #expect(TestSupport.count("\treturn -ENOSYS;", in: source) == skeleton.stub.count)
            #expect(TestSupport.count("\treturn 0L;", in: source) == skeleton.fake.count)
            for entry in skeleton.stub { #expect(source.contains("long syspect_stub_\(entry.name)(")) }
            for entry in skeleton.fake { #expect(source.contains("long syspect_fake_\(entry.name)(")) }
            // Every entry names the planned applications that trace it.
            for entry in skeleton.stub + skeleton.fake + skeleton.implement {
                #expect(!entry.neededBy.isEmpty, "\(name): \(entry.name) traced by nobody?")
            }
            if let problem = try compile(source) { Issue.record("\(name): \(problem)") }
        }
    }

    @Test("comments cannot be closed by data; fake values other than 0 are returned",
          .enabled(if: cc != nil, "needs a C compiler"))
    func hostileText() throws {
        let skeleton = StubSkeleton(
            os: "evil */ int x = ", apps: ["a*/b"], provenance: "p */ q",
            implement: [.init(number: 0, name: "read", reason: "required by */ a", neededBy: ["a (required)"])],
            stub: [.init(number: 16, name: "ioctl", reason: "stub-only for */ b", neededBy: ["b (stub)"])],
            fake: [.init(number: 39, name: "getpid", reason: "fake-only", neededBy: ["a (fake)"], fakeValue: 1)])
        let source = skeleton.cSource
        #expect(source.contains("return 1L;"))
        #expect(source.contains("const long syspect_to_implement[] = { 0, -1 };"))
        if let problem = try compile(source) { Issue.record("\(problem)\n\(source)") }
    }
}
