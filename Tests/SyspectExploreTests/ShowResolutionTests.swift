import Foundation
import SyspectCore
import SyspectStore
import Testing
@testable import SyspectExplore

/// `syspect show` of a failed final run (issue 12 item 6): the built binary prints how each
/// conflict was resolved, and where the adaptive priors came from (item 7), from a journal
/// written by the explorer with scripted outcomes.
@Suite(.serialized) struct ShowResolutionTests {
    let folder = "/var/tmp/syspect-show-tests/\(UUID().uuidString.prefix(8))"

    /// Explores `app` with scripted outcomes into a fresh database; returns its path.
    func explore(census: [Int], strategy: StrategyName = .oneByOne, rule: @escaping @Sendable (ProbeRequest) -> ProbeOutcome) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let db = "\(folder)/show-\(UUID().uuidString.prefix(6)).db"
        let spec = AppSpec(name: "haproxy-test", workload: "health-test", kind: .health, command: ["haproxy"], targets: ["haproxy"],
                           replicas: 1, directory: "/", text: "name: haproxy-test # \(UUID())")
        let explorer = try Explorer(spec: spec, store: try SQLiteStore(path: db),
                                    options: ExploreOptions(jobs: 2, strategy: strategy, workDirectory: "\(folder)/probes"),
                                    runner: ScriptedRunner(census: census, rule: rule))
        _ = try explorer.run()
        return db
    }

    static let getcwd = SyscallTable.number(named: "getcwd")!
    static let getdents64 = SyscallTable.number(named: "getdents64")!

    @Test func showPrintsTheSwitchThatResolvedTheConflict() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // getcwd: fake only; getdents64: either alone, but not stubbed beside a faked getcwd.
        let db = try explore(census: [0, 1, Self.getcwd, Self.getdents64]) { request in
            let p = request.policy
            if p.stub.contains(Self.getcwd) { return .fail }
            return p.fake.contains(Self.getcwd) && p.stub.contains(Self.getdents64) ? .fail : .pass
        }
        let (status, text, stderr) = try syspect(["show", "haproxy-test", "--db", db])
        #expect(status == 0, "\(stderr)")
        #expect(text.contains("final run: FAILED with all 4 stubs and fakes applied together; 1 conflict found, 0 calls made required; passing set: 4 calls"), "\(text)")
        #expect(text.contains("culprits {fake getcwd, stub getdents64}: resolved by faking getdents64 instead of stubbing it (either): 0 calls made required"), "\(text)")
        #expect(!text.contains("counted as required"))
        let verdict = text.split(separator: "\n").first { $0.drop { $0 == " " }.hasPrefix("\(Self.getdents64)  getdents64 ") }
        #expect(verdict?.hasSuffix("fake") == true, "the measurement keeps the mode that passed together: \(verdict ?? "")")

        let (_, json, _) = try syspect(["show", "haproxy-test", "--db", db, "--json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]).first
        let report = try #require((document?["exploration"] as? [String: Any])?["report"] as? [String: Any])
        let resolution = try #require((report["resolutions"] as? [[String: Any]])?.first)
        #expect((resolution["switched"] as? [[String: Any]])?.first?["mode"] as? String == "fake")
    }

    @Test func showSaysWhyACallWasMadeRequired() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // 1 and 2: either alone, never both interposed.
        let db = try explore(census: [0, 1, 2]) { request in
            request.policy.stub.union(request.policy.fake).isSuperset(of: [1, 2]) ? .fail : .pass
        }
        let (status, text, stderr) = try syspect(["show", "haproxy-test", "--db", db])
        #expect(status == 0, "\(stderr)")
        #expect(text.contains("1 conflict found, 1 call made required; passing set: 2 calls"), "\(text)")
        #expect(text.contains("culprits {stub write, stub open}: no other modes pass together (tried fake write; fake open; "
            + "fake write, fake open); open made required (the highest call number of the conflict): 1 call made required"), "\(text)")
        #expect(text.contains("counted as required: open"))
    }

    @Test func showSaysWhereThePriorsCameFrom() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let census = ["brk", "munmap", "rseq"].map { SyscallTable.number(named: $0)! }
        let db = try explore(census: census, strategy: .adaptive) { _ in .pass }
        let (status, text, stderr) = try syspect(["show", "haproxy-test", "--db", db])
        #expect(status == 0, "\(stderr)")
        let apps = Set(BundledLoupedb.dataset.measurements.map(\.app)).count
        #expect(text.contains("priors: bundled loupedb at \(BundledLoupedb.sourceCommit): \(apps) other apps\n"), "\(text)")
        let (_, json, _) = try syspect(["show", "haproxy-test", "--db", db, "--json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]).first
        let priors = try #require((document?["exploration"] as? [String: Any])?["priors"] as? [String: Any])
        #expect(priors["origin"] as? String == "bundled")
        #expect(priors["apps"] as? Int == apps)

        // One-by-one takes no priors: no line.
        let plain = try explore(census: census) { _ in .pass }
        #expect(try !syspect(["show", "haproxy-test", "--db", plain]).1.contains("priors:"))
    }
}
