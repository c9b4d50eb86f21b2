import Foundation
import SyspectCore
import Testing
@testable import SyspectExplore

@Suite struct PolicyTests {
    @Test(arguments: [
        ProbePolicy.baseline, .single(41, .stub), .single(0, .fake), .group([3, 5, 7], .stub),
        .group([9, 1], .fake), ProbePolicy(stub: [3, 5], fake: [7]),
    ])
    func keysRoundTrip(_ policy: ProbePolicy) {
        #expect(ProbePolicy(key: policy.key) == policy)
    }

    @Test func keysAreCanonical() {
        #expect(ProbePolicy.baseline.key == "baseline")
        #expect(ProbePolicy.single(41, .stub).key == "stub:41")
        #expect(ProbePolicy.group([7, 3, 5], .stub).key == "group:stub:3,5,7")
        #expect(ProbePolicy(stub: [5, 3], fake: [7]).key == "set:stub=3,5;fake=7")
        #expect(ProbePolicy.group([4], .fake).key == "fake:4")
    }

    @Test(arguments: ["", "stub", "stub:x", "stub:-1", "group:stub:3", "group:stub:5,3", "set:stub=1;fake=1",
                      "set:fake=1;stub=2", "final", "stub:41:2"])
    func badKeysAreRejected(_ key: String) {
        #expect(ProbePolicy(key: key) == nil)
    }
}

@Suite struct MergeTests {
    @Test func anyFailingReplicaFailsThePolicy() {
        #expect(PolicyStatus.merge([.pass, .fail, .pass]) == .failed)
        #expect(PolicyStatus.merge([nil, .fail, nil]) == .failed)
        #expect(PolicyStatus.merge([.pass, .pass, .pass]) == .passed)
        #expect(PolicyStatus.merge([.pass, nil, .pass]) == .pending)
        #expect(PolicyStatus.merge([nil, nil, nil]) == .pending)
    }

    @Test func errorsAreNotEvidence() {
        var journal = Journal()
        journal.add(policy: "stub:1", replica: 1, outcome: .error)
        #expect(journal.count == 0)
        #expect(journal.status(.single(1, .stub), replicas: 1) == .pending)
        journal.add(policy: "stub:1", replica: 1, outcome: .pass)
        #expect(journal.status(.single(1, .stub), replicas: 1) == .passed)
        #expect(journal.count == 1)
        journal.add(policy: "stub:1", replica: 1, outcome: .pass)
        #expect(journal.count == 1, "the same (policy, replica) counts once")
    }

    @Test func verdictFromStatuses() {
        #expect(Verdict(stub: .passed, fake: .passed) == .either)
        #expect(Verdict(stub: .passed, fake: .failed) == .stub)
        #expect(Verdict(stub: .failed, fake: .passed) == .fake)
        #expect(Verdict(stub: .failed, fake: .failed) == .required)
        #expect(Verdict(stub: .pending, fake: .failed) == nil)
    }

    @Test func censusMergeKeepsEveryCallWithItsLargestCount() {
        let a = [CensusEntry(arch: .x86_64, number: 0, name: "read", calls: 10, failures: 0, errnos: [:])]
        let b = [CensusEntry(arch: .x86_64, number: 0, name: "read", calls: 12, failures: 0, errnos: [:]),
                 CensusEntry(arch: .i386, number: 20, name: "getpid", calls: 1, failures: 0, errnos: [:])]
        let merged = mergeCensus([a, b])
        #expect(merged.count == 2)
        #expect(merged.first { $0.arch == .x86_64 }?.calls == 12)
    }

    @Test func metricIsTheLastNumericLine() {
        #expect(parseMetric("rps\n123.5\n") == 123.5)
        #expect(parseMetric("123\nok\n") == nil)
        #expect(parseMetric("  42  \n\n") == 42)
        #expect(parseMetric("") == nil)
    }
}

@Suite struct DeltaDebuggingTests {
    /// A set fails when it contains every element of some "bad" combination.
    func oracle(_ bad: [Set<Int>]) -> ([Int]) -> Bool {
        { set in !bad.contains { $0.isSubset(of: Set(set)) } }
    }

    @Test func findsASingleCulprit() {
        #expect(ddmin(Array(0..<16), passes: oracle([[11]])) == [11])
    }

    @Test func findsAPairSplitAcrossHalves() {
        #expect(Set(ddmin(Array(0..<16), passes: oracle([[2, 13]]))) == [2, 13])
    }

    @Test func resultIsOneMinimal() {
        let passes = oracle([[1, 4, 9], [20, 21]])
        let result = ddmin(Array(0..<24), passes: passes)
        #expect(!passes(result))
        for item in result {
            #expect(passes(result.filter { $0 != item }), "removing \(item) must make it pass")
        }
    }

    @Test func splitMakesNearlyEqualChunks() {
        #expect(split(Array(0..<7), into: 3).map(\.count) == [2, 2, 3])
        #expect(split([1, 2], into: 5).map(\.count) == [1, 1])
    }

    func assignments(_ numbers: [Int]) -> [Assignment] { numbers.map { Assignment($0, .stub) } }

    @Test func finalRunThatPassesNeedsNoSearch() throws {
        var asked = 0
        let report = try FinalConfirmation.search(assignments([1, 2, 3]), verdicts: [:]) { _ in asked += 1; return true }
        #expect(report.finalPassed)
        #expect(report.passingSet.count == 3)
        #expect(report.conflicts.isEmpty)
        #expect(asked == 1)
    }

    @Test func culpritSearchFindsEveryConflictAndTheLargestPassingSet() throws {
        // stub 3 + stub 8 together fail, and stub 5 + fake 6 together fail.
        let items = assignments([1, 2, 3, 4, 5, 7, 8]) + [Assignment(6, .fake)]
        // No member has another passing mode: each conflict costs one call.
        let verdicts = Dictionary(uniqueKeysWithValues: items.map { ($0.number, $0.mode == .stub ? Verdict.stub : .fake) })
        let report = try FinalConfirmation.search(items, verdicts: verdicts) { policy in
            !(policy.stub.isSuperset(of: [3, 8]) || (policy.stub.contains(5) && policy.fake.contains(6)))
        }
        #expect(!report.finalPassed)
        #expect(Set(report.conflicts.map { Set($0) }) == [[Assignment(3, .stub), Assignment(8, .stub)],
                                                          [Assignment(5, .stub), Assignment(6, .fake)]])
        #expect(report.dropped.count == 2)
        #expect(report.resolutions.allSatisfy { $0.failedSwitches.isEmpty && $0.switched.isEmpty && $0.dropped != nil })
        #expect(report.passingSet.count == items.count - 2)
        let confirmed = FinalConfirmation.confirmedVerdicts([3: .either, 8: .stub, 1: .stub], report: report)
        for dropped in report.dropped { #expect(confirmed[dropped.number] == .required || confirmed[dropped.number] == nil) }
        #expect(confirmed[1] == .stub)
    }

    @Test func searchSuspendsOnUnknownSetsAndResumesFromTheJournal() throws {
        // The journal-backed oracle: run the search, "probe" what it asks for, run it again.
        let items = assignments([1, 2, 3, 4])
        let truth = { (p: ProbePolicy) in !p.stub.contains(4) }
        var journal = Journal()
        var rounds = 0
        var report: CulpritReport?
        while report == nil {
            do {
                report = try FinalConfirmation.search(items, verdicts: [:]) { try journal.passes($0, replicas: 1) }
            } catch let need as NeedsProbe {
                journal.add(policy: need.policy.key, replica: 1, outcome: truth(need.policy) ? .pass : .fail)
                rounds += 1
            }
        }
        #expect(report?.conflicts == [[Assignment(4, .stub)]])
        #expect(report?.passingSet == assignments([1, 2, 3]))
        #expect(rounds == journal.count)
    }

    @Test func finalAssignmentsStubWhatCanBeStubbedAndFakeTheRest() {
        let items = FinalConfirmation.assignments([1: .either, 2: .fake, 3: .required, 4: .stub])
        #expect(items == [Assignment(1, .stub), Assignment(2, .fake), Assignment(4, .stub)])
    }
}

@Suite struct StrategyTests {
    @Test func oneByOneListsStubAndFakeOfEveryCallWithEveryReplica() {
        let context = StrategyContext(traced: [0, 1, 60], replicas: 3, journal: Journal())
        let strategy = OneByOneStrategy()
        let probes = strategy.nextProbes(context)
        #expect(probes.count == 3 * 2 * 3)
        #expect(Set(probes).count == probes.count)
        #expect(strategy.estimatedTotal(context) == 18)
        #expect(probes.first == ProbeRequest(.single(0, .stub), replica: 1))
    }

    @Test func oneByOneSkipsFinishedProbesAndRunsEveryReplica() {
        var journal = Journal()
        journal.add(policy: "stub:0", replica: 1, outcome: .fail)
        journal.add(policy: "fake:0", replica: 1, outcome: .pass)
        journal.add(policy: "fake:0", replica: 2, outcome: .pass)
        let strategy = OneByOneStrategy()
        let context = StrategyContext(traced: [0], replicas: 2, journal: journal)
        #expect(strategy.nextProbes(context) == [ProbeRequest(.single(0, .stub), replica: 2)])
        #expect(strategy.verdicts(context).isEmpty, "no verdict before every replica ran")
        journal.add(policy: "stub:0", replica: 2, outcome: .pass)
        let done = StrategyContext(traced: [0], replicas: 2, journal: journal)
        #expect(strategy.nextProbes(done).isEmpty)
        #expect(strategy.verdicts(done) == [0: .fake], "one failing stub replica makes it not stubbable")
    }
}
