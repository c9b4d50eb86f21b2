import Foundation
import SyspectCore
import Testing
@testable import SyspectExplore

/// The final run and culprit search with free slots running ahead (`SearchLookahead`), and the
/// scheduler cancelling what is no longer needed.
@Suite struct LookaheadTests {
    /// 8 calls, all stubbable alone; {stub 2, stub 5} and {stub 6, fake 7} fail together.
    static let items = (0..<8).map { Assignment($0, $0 == 7 ? .fake : .stub) }
    static func fails(_ policy: ProbePolicy) -> Bool {
        (policy.stub.contains(2) && policy.stub.contains(5)) || (policy.stub.contains(6) && policy.fake.contains(7))
    }
    static func search(_ passes: (ProbePolicy) throws -> Bool) throws -> CulpritReport {
        try FinalConfirmation.search(items, verdicts: [:], passes: passes)
    }

    /// Rounds of `jobs` probes at a time, each taking the lookahead's first requests, until the
    /// search is done: the report and how many rounds it took.
    func simulate(jobs: Int, replicas: Int) throws -> (report: CulpritReport, rounds: Int, probes: Int) {
        var journal = Journal()
        let lookahead = SearchLookahead(replicas: replicas)
        var rounds = 0, probes = 0
        while true {
            let wanted = lookahead.requests(journal, search: Self.search)
            if wanted.isEmpty { break }
            for request in wanted.prefix(jobs) {
                journal.add(policy: request.policy.key, replica: request.replica, outcome: Self.fails(request.policy) ? .fail : .pass)
                probes += 1
            }
            rounds += 1
            #expect(rounds < 200, "the lookahead never lets the search end")
            if rounds >= 200 { break }
        }
        return (try Self.search { try journal.passes($0, replicas: replicas) }, rounds, probes)
    }

    @Test func theSetNeededNowComesFirstWithAllItsReplicasThenTheLikelyNextOnes() {
        let lookahead = SearchLookahead(replicas: 3)
        let all = ProbePolicy(assignments: Self.items)
        let first = lookahead.requests(Journal(), search: Self.search)
        #expect(Array(first.prefix(3)) == (1...3).map { ProbeRequest(all, replica: $0) })
        #expect(first.count > 3, "nothing looked ahead: \(first)")
        #expect(!first.dropFirst(3).contains { $0.policy == all })
        // Replica 1 failed: the set is decided, its other replicas are no longer wanted, and
        // the search's next set leads.
        var journal = Journal()
        journal.add(policy: all.key, replica: 1, outcome: .fail)
        let next = lookahead.requests(journal, search: Self.search)
        #expect(!next.contains { $0.policy == all })
        #expect(next.first?.replica == 1 && next.first?.policy.count == 4, "\(next)")
        // Done: nothing wanted.
        let report = try? Self.search { Self.fails($0) ? false : true }
        #expect(report?.conflicts.count == 2)
        var complete = Journal()
        for policy in Self.everySet() { for r in 1...3 { complete.add(policy: policy.key, replica: r, outcome: Self.fails(policy) ? .fail : .pass) } }
        #expect(lookahead.requests(complete, search: Self.search).isEmpty)
    }

    /// Every set the plain search asks about (run without probes, from the rule).
    static func everySet() -> [ProbePolicy] {
        var asked: [ProbePolicy] = []
        _ = try? search { asked.append($0); return !fails($0) }
        return asked
    }

    @Test func moreSlotsFinishTheSearchInFewerRoundsWithTheSameReport() throws {
        let plain = try Self.search { !Self.fails($0) }
        let narrow = try simulate(jobs: 2, replicas: 2)
        let wide = try simulate(jobs: 6, replicas: 2)
        #expect(narrow.report == plain)
        #expect(wide.report == plain)
        #expect(plain.conflicts.count == 2 && plain.dropped.count == 2)
        #expect(wide.rounds < narrow.rounds, "jobs 6: \(wide.rounds) rounds, jobs 2: \(narrow.rounds)")
        // One slot per replica: a round per set the search asks, both replicas of it, no probe more.
        let asked = Set(Self.everySet().map(\.key)).count
        #expect(narrow.rounds == asked && narrow.probes == 2 * asked, "\(narrow.rounds) rounds, \(narrow.probes) probes, \(asked) sets")
    }

    @Test func theSchedulerCancelsAProbeNoLongerListed() throws {
        let runner = CancellableRunner()
        let scheduler = Scheduler(jobs: 2, runner: runner, cancelsUnlisted: true)
        let quick = ProbeRequest(.single(1, .stub), replica: 1), slow = ProbeRequest(.single(2, .stub), replica: 1)
        var finished: [ProbeRequest] = []
        try scheduler.run(census: false, next: { _ in finished.isEmpty ? [quick, slow] : [] }) { request, _ in finished.append(request) }
        #expect(finished == [quick])
        #expect(scheduler.cancelled == 1)
        #expect(runner.sawCancellation == [slow])
    }
}

/// Probes of call 1 end at once; the others wait until cancelled (at most 30 s).
final class CancellableRunner: ProbeRunning, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var sawCancellation: [ProbeRequest] = []

    func run(_ request: ProbeRequest, census: Bool) -> ProbeRun { run(request, census: census, cancellation: ProbeCancellation()) }

    func run(_ request: ProbeRequest, census: Bool, cancellation: ProbeCancellation) -> ProbeRun {
        if !request.policy.stub.contains(1) {
            let until = Date().addingTimeInterval(30)
            while !cancellation.isCancelled && Date() < until { Thread.sleep(forTimeInterval: 0.01) }
            if cancellation.isCancelled { lock.withLock { sawCancellation.append(request) } }
        }
        return ProbeRun(outcome: .pass, reason: "ok", directory: "/nonexistent")
    }
}

/// How many probes run at once after the baseline (`ExploreOptions.jobsFromBaseline`).
@Suite struct JobsFromBaselineTests {
    @Test func theBaselinesCPUShareSetsTheJobsWithinBounds() {
        let gib = 1 << 30
        #expect(Explorer.jobs(cpuShare: 0.22, peakRSSBytes: 90 << 20, atLeast: 3, cores: 2, memory: 24 << 30) == 5)
        #expect(Explorer.jobs(cpuShare: 1.0, peakRSSBytes: 90 << 20, atLeast: 3, cores: 2, memory: 24 << 30) == 3)
        #expect(Explorer.jobs(cpuShare: 0.01, peakRSSBytes: 90 << 20, atLeast: 3, cores: 2, memory: 24 << 30) == 8)
        #expect(Explorer.jobs(cpuShare: 0.01, peakRSSBytes: 2 * gib, atLeast: 3, cores: 2, memory: 16 << 30) == 4)
        #expect(Explorer.jobs(cpuShare: 0.01, peakRSSBytes: 6 * gib, atLeast: 3, cores: 2, memory: 16 << 30) == 3)
        #expect(Explorer.jobs(cpuShare: 0, peakRSSBytes: 0, atLeast: 3, cores: 2, memory: 16 << 30) == 3)
    }
}
