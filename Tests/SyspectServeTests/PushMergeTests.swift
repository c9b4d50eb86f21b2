import Foundation
import SyspectCore
@testable import SyspectServe
import SyspectStore
import Testing

/// The merge rules of a push, on plain values (docs/serve.md, "Push and merge").
@Suite struct PushMergeTests {
    static let key = "redis/benchmark-redis-benchmark/s1"

    static func pushed(_ probes: [(String, ProbeOutcome)], finishedAt: Double? = 2000, measurement: Bool = true) -> PushedExploration {
        PushedExploration(
            exploration: ServeFixtures.record(finishedAt: finishedAt),
            probes: probes.map { ServeFixtures.probe(key, $0.0, $0.1) },
            measurement: measurement ? ServeFixtures.measurement() : nil)
    }

    @Test func aNewExplorationIsTakenWhole() {
        let plan = PushMerge.plan(Self.pushed([("baseline", .pass), ("stub:39", .pass)]), server: ServerExplorationState())
        #expect(plan.create)
        #expect(plan.probes.map(\.policy) == ["baseline", "stub:39"])
        #expect(plan.record == ServeFixtures.record())
        #expect(plan.measurement == ServeFixtures.measurement())
        #expect(plan.summary.created && plan.summary.probesAdded == 2 && plan.summary.conflicts.isEmpty && plan.summary.measurement == "saved")
    }

    @Test func probesAreUnitedByKeyAndAConflictKeepsTheServersProbe() {
        var held = ServeFixtures.record()
        held.probeCount = 2
        held.census = []
        let server = ServerExplorationState(
            record: held, probes: [ServeFixtures.probe(Self.key, "baseline", .pass), ServeFixtures.probe(Self.key, "stub:39", .fail)],
            hasMeasurement: true)
        let plan = PushMerge.plan(Self.pushed([("baseline", .pass), ("stub:39", .pass), ("fake:39", .pass)]), server: server)
        #expect(!plan.create)
        #expect(plan.probes.map(\.policy) == ["fake:39"])
        #expect(plan.summary.probesAlreadyPresent == 1)
        #expect(plan.summary.conflicts == [ProbeConflict(policy: "stub:39", replica: 1, serverOutcome: .fail, pushedOutcome: .pass)])
        #expect(plan.record.probeCount == 3)
        #expect(plan.record.census == ServeFixtures.record().census, "an empty census is filled from the push")
        // A conflict keeps the server's measurement even though the push is the latest.
        #expect(plan.measurement == nil && plan.summary.measurement == "kept")
    }

    @Test func theServersRecordKeepsItsFieldsAndBecomesFinished() {
        var held = ServeFixtures.record(finishedAt: nil)
        held.wallSeconds = 99
        held.census = [CensusEntry(arch: .x86_64, number: 1, name: "write", calls: 1, failures: 0, errnos: [:])]
        held.strategy = "adaptive"
        let plan = PushMerge.plan(Self.pushed([]), server: ServerExplorationState(record: held))
        #expect(plan.record.strategy == "adaptive")
        #expect(plan.record.census == held.census)
        #expect(plan.record.finishedAt == Date(timeIntervalSince1970: 2000))
        #expect(plan.record.wallSeconds == 99)
    }

    @Test func theMeasurementFollowsTheLatestFinishedExploration() {
        let pushed = Self.pushed([("baseline", .pass)], finishedAt: 2000)
        let older = ServerExplorationState(hasMeasurement: true, otherFinished: [Date(timeIntervalSince1970: 1500)])
        #expect(PushMerge.plan(pushed, server: older).measurement != nil)
        let newer = ServerExplorationState(hasMeasurement: true, otherFinished: [Date(timeIntervalSince1970: 2500)])
        #expect(PushMerge.plan(pushed, server: newer).measurement == nil)
        #expect(PushMerge.plan(pushed, server: newer).summary.measurement == "kept")
        let unfinished = Self.pushed([("baseline", .pass)], finishedAt: nil)
        #expect(PushMerge.plan(unfinished, server: ServerExplorationState(hasMeasurement: true)).measurement == nil)
        #expect(PushMerge.plan(unfinished, server: ServerExplorationState(hasMeasurement: false)).measurement != nil,
                "a server without a measurement of the workload takes the pushed one")
        #expect(PushMerge.plan(Self.pushed([], measurement: false), server: ServerExplorationState()).summary.measurement == "none")
    }

    @Test func findingsStaticAndImpactNeverReplaceTheServers() {
        let (runs, results) = ServeFixtures.impact(Self.key)
        var pushed = Self.pushed([])
        pushed.findings = ServeFixtures.findings()
        pushed.impactRuns = runs
        pushed.impactResults = results
        let fresh = PushMerge.plan(pushed, server: ServerExplorationState(record: ServeFixtures.record()))
        #expect(fresh.findings == ServeFixtures.findings() && fresh.summary.findings == "added")
        #expect(fresh.impactRuns == runs && fresh.impactResults == results)
        let held = ServerExplorationState(
            record: ServeFixtures.record(), findings: FeatureFindings(fakeValues: [1: .argument(2)]),
            impactRuns: Array(runs.prefix(1)), impactResults: results)
        let merged = PushMerge.plan(pushed, server: held)
        #expect(merged.findings == nil && merged.summary.findings == "kept")
        #expect(merged.impactRuns == Array(runs.dropFirst()))
        #expect(merged.impactResults.isEmpty && merged.summary.impactResultsAdded == 0)
        #expect(merged.summary.staticAnalysis == "none")
    }

    @Test func validationRefusesMalformedAndNewerPushes() {
        func refused(_ bundle: PushBundle, _ status: Int, _ fragment: String) {
            do {
                try PushMerge.validate(bundle)
                Issue.record("accepted: \(fragment)")
            } catch {
                #expect(Int(error.status.code) == status, "\(error.message)")
                #expect(error.message.contains(fragment), "\(error.message)")
            }
        }
        let good = PushBundle(explorations: [Self.pushed([("baseline", .pass)])])
        #expect(throws: Never.self) { try PushMerge.validate(good) }
        var newer = good
        newer.schemaVersion = StoreSchema.currentVersion + 1
        refused(newer, 422, "newer syspect")
        var wrongFormat = good
        wrongFormat.format = "loupedb"
        refused(wrongFormat, 400, "not a push")
        refused(PushBundle(explorations: []), 400, "no exploration")
        refused(PushBundle(explorations: [Self.pushed([]), Self.pushed([])]), 400, "twice")
        var stray = Self.pushed([("baseline", .pass)])
        stray.probes[0].exploration = "other"
        refused(PushBundle(explorations: [stray]), 400, "names exploration 'other'")
        refused(PushBundle(explorations: [Self.pushed([("stub:1", .pass), ("stub:1", .fail)])]), 400, "appears twice")
        var foreign = Self.pushed([])
        foreign.measurement?.source = "loupedb:redis/x/1"
        refused(PushBundle(explorations: [foreign]), 400, "only measurements syspect made")
        var negative = Self.pushed([])
        negative.measurement?.staticSources = [-1]
        refused(PushBundle(explorations: [negative]), 400, "negative syscall number")
        var badFinding = Self.pushed([])
        badFinding.findings = FeatureFindings(fakeValues: [-3: .constant(1)])
        refused(PushBundle(explorations: [badFinding]), 400, "negative syscall number")
        var relative = Self.pushed([])
        relative.findings = FeatureFindings(files: [FileFinding(use: PseudoFileUse(path: "proc/self", calls: [:], failures: 0))])
        refused(PushBundle(explorations: [relative]), 400, "not an absolute path")
        var otherApp = Self.pushed([])
        otherApp.measurement?.app = "nginx"
        refused(PushBundle(explorations: [otherApp]), 400, "not redis/benchmark-redis-benchmark")
    }

    @Test func aBundleRoundTripsExactly() throws {
        let (runs, results) = ServeFixtures.impact(Self.key)
        var pushed = Self.pushed([("baseline", .pass), ("group:stub:3,39", .fail)])
        pushed.findings = ServeFixtures.findings()
        pushed.impactRuns = runs
        pushed.impactResults = results
        let bundle = PushBundle(explorations: [pushed])
        let decoded = try PushBundle.decoder().decode(PushBundle.self, from: try PushBundle.encoder().encode(bundle))
        #expect(decoded == bundle)
    }

    @Test func tokensAreHashedAndReadFromHeaderOrCookie() {
        let secret = Tokens.generate()
        #expect(secret.hasPrefix("syspect_") && secret.count == 8 + 64)
        #expect(Tokens.generate() != secret)
        #expect(Tokens.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Tokens.presented(authorization: "Bearer \(secret)", cookie: nil) == secret)
        #expect(Tokens.presented(authorization: "bearer  x ", cookie: nil) == "x")
        #expect(Tokens.presented(authorization: "Basic abc", cookie: "a=b; syspect_token=tok") == "tok")
        #expect(Tokens.presented(authorization: nil, cookie: "syspect_token=") == nil)
        #expect(Tokens.validName("ci-runner@team.a") && !Tokens.validName("") && !Tokens.validName("a b"))
    }
}
