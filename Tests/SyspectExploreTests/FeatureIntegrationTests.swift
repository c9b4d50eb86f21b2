import Foundation
import SyspectCore
import Testing
@testable import SyspectExplore

/// Real applications (installed by scripts/setup) probed below whole calls, each probe in its
/// own sandbox: redis's fcntl commands and prlimit64 resources, nginx's ioctl requests and fcntl
/// commands (a curl health check), sqlite3's pseudo-files. The census comes from a real baseline;
/// the expectations are what the Debian packages scripts/setup installs do.
@Suite(.serialized) struct FeatureIntegrationTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static let work = "/var/tmp/syspect-explore-tests"

    func runner(_ fixture: String) throws -> ProbeRunner {
        let spec = try AppSpec.load(path: "\(Self.fixtures)/\(fixture)")
        return ProbeRunner(spec: spec, workDirectory: "\(Self.work)/features-\(UUID().uuidString.prefix(8))")
    }

    /// The baseline's sub-feature census as key → feature; fails the test when the baseline fails.
    func census(_ runner: ProbeRunner) throws -> (features: [String: SubFeature], files: [String]) {
        let run = runner.run(ProbeRequest(.baseline, replica: 1), census: true)
        try #require(run.outcome == .pass, "\(run.reason): \(run.outputTail)")
        return (Dictionary(run.features.map { ($0.feature.key, $0.feature) }, uniquingKeysWith: { a, _ in a }),
                run.pseudoFiles.map(\.path))
    }

    func passes(_ runner: ProbeRunner, _ target: ProbeTarget) -> Bool {
        let run = runner.run(ProbeRequest(ProbePolicy(target: target), replica: 1), census: false)
        return run.outcome == .pass
    }

    @Test func redisFcntlCommandsAndRlimitResources() throws {
        let redis = try runner("redis-ping.yaml")
        let (features, _) = try census(redis)
        for key in ["fcntl:cmd=F_SETFL", "fcntl:cmd=F_GETFL", "prlimit64:resource=RLIMIT_NOFILE"] {
            #expect(features[key] != nil, "\(key) not in redis's census: \(features.keys.sorted())")
        }
        let setfl = try #require(features["fcntl:cmd=F_SETFL"])
        let nofile = try #require(features["prlimit64:resource=RLIMIT_NOFILE"])
        // Non-blocking sockets are essential (the paper's finding); the fd limit is advisory.
        #expect(!passes(redis, .feature(setfl, .stub)))
        #expect(passes(redis, .feature(nofile, .stub)))
        #expect(passes(redis, .feature(nofile, .fake)))
    }

    @Test func nginxIoctlRequestsAndFcntlCommands() throws {
        let nginx = try runner("nginx-curl.yaml")
        let (features, _) = try census(nginx)
        let ioctls = features.values.filter { $0.syscallName == "ioctl" }.sorted()
        let fcntls = features.values.filter { $0.syscallName == "fcntl" }.sorted()
        #expect(ioctls.map(\.name).contains("FIONBIO"), "ioctl requests: \(ioctls.map(\.name))")
        #expect(!fcntls.isEmpty)
        // nginx checks every one of these calls ("ioctl(FIONBIO) … failed (38: Function not
        // implemented)" and exits): none can be stubbed, each can be faked (0) alone.
        let fionbio = try #require(ioctls.first { $0.name == "FIONBIO" })
        #expect(!passes(nginx, .feature(fionbio, .stub)))
        for feature in ioctls + fcntls {
            #expect(passes(nginx, .feature(feature, .fake)), "faking \(feature) failed the workload")
        }
    }

    @Test func sqlitePseudoFiles() throws {
        let sqlite = try runner("sqlite-small.yaml")
        let (_, files) = try census(sqlite)
        #expect(Set(files) == ["/dev/null", "/dev/urandom"], "\(files)")
        // /dev/urandom only seeds randomness (sqlite falls back to time and pid); /dev/null is
        // the `-init` file of the command line: without it sqlite3 exits 1.
        #expect(passes(sqlite, .file("/dev/urandom", .absent)))
        #expect(passes(sqlite, .file("/dev/urandom", .stub)))
        #expect(!passes(sqlite, .file("/dev/null", .absent)))
    }
}
