import Foundation
import SyspectCore
import Testing
@testable import SyspectExplore

/// Issue 12 item 6: a conflict of the final run is resolved with the least loss. Pure logic on
/// scripted outcomes: an oracle says which sets pass, the search is run against a journal the
/// way the explorer runs it (suspend on `NeedsProbe`, probe, ask again).
@Suite struct ConflictResolutionTests {
    static let getcwd = SyscallTable.number(named: "getcwd")!
    static let getdents64 = SyscallTable.number(named: "getdents64")!
    static let getpid = SyscallTable.number(named: "getpid")!
    static let gettid = SyscallTable.number(named: "gettid")!

    /// Runs the search to its end against `truth`, one replica per policy; returns the report
    /// and the policies probed, in order.
    func search(_ verdicts: [Int: Verdict], _ truth: (ProbePolicy) -> Bool) throws -> (CulpritReport, [ProbePolicy]) {
        var journal = Journal()
        var probed: [ProbePolicy] = []
        while true {
            do {
                let report = try FinalConfirmation.search(FinalConfirmation.assignments(verdicts), verdicts: verdicts) {
                    try journal.passes($0, replicas: 1)
                }
                return (report, probed)
            } catch let need as NeedsProbe {
                #expect(!probed.contains(need.policy), "\(need.policy) asked for twice")
                probed.append(need.policy)
                journal.add(policy: need.policy.key, replica: 1, outcome: truth(need.policy) ? .pass : .fail)
            }
        }
    }

    /// The haproxy case seen on a real server: getcwd is fake-only, getdents64 passes either way
    /// alone, but a faked getcwd with a stubbed getdents64 fails. Faking getdents64 instead
    /// resolves it: no call is counted as required.
    @Test func haproxyConflictIsResolvedByFakingTheEitherCall() throws {
        var verdicts: [Int: Verdict] = [Self.getcwd: .fake, Self.getdents64: .either, 0: .required]
        for n in [3, 9, 11, 12, 13, 14] { verdicts[n] = .either }
        let (report, probed) = try search(verdicts) { p in !(p.fake.contains(Self.getcwd) && p.stub.contains(Self.getdents64)) }
        #expect(!report.finalPassed)
        #expect(report.conflicts == [[Assignment(Self.getcwd, .fake), Assignment(Self.getdents64, .stub)]])
        let resolution = try #require(report.resolutions.first)
        #expect(report.resolutions.count == 1)
        #expect(resolution.switched == [Assignment(Self.getdents64, .fake)])
        #expect(resolution.failedSwitches.isEmpty)
        #expect(resolution.dropped == nil)
        #expect(report.dropped.isEmpty)
        #expect(report.passingSet.count == report.appliedCount, "every call still applied")
        #expect(report.passingSet.contains(Assignment(Self.getdents64, .fake)))
        #expect(probed.last == ProbePolicy(assignments: report.passingSet), "the changed set was probed whole and passed")
        let confirmed = FinalConfirmation.confirmedVerdicts(verdicts, report: report)
        #expect(confirmed[Self.getdents64] == .fake, "only the mode that passed together is kept")
        #expect(confirmed.values.filter { $0 == .required }.count == 1, "no call made required")
        #expect(confirmed[3] == .either)
    }

    /// getpid and gettid: either alone, not together in any modes. Every switch is tried (fewer
    /// switched members first, then by call number), then the highest call number is dropped.
    @Test func conflictWithoutAPassingSwitchDropsTheHighestNumber() throws {
        let verdicts: [Int: Verdict] = [Self.getpid: .either, Self.gettid: .either, 60: .either]
        let (report, _) = try search(verdicts) { p in
            let both = (p.stub.union(p.fake)).isSuperset(of: [Self.getpid, Self.gettid])
            return !both
        }
        let resolution = try #require(report.resolutions.first)
        #expect(resolution.conflict == [Assignment(Self.getpid, .stub), Assignment(Self.gettid, .stub)])
        #expect(resolution.failedSwitches == [
            [Assignment(Self.getpid, .fake)], [Assignment(Self.gettid, .fake)],
            [Assignment(Self.getpid, .fake), Assignment(Self.gettid, .fake)],
        ])
        #expect(resolution.switched.isEmpty)
        #expect(resolution.dropped == Assignment(Self.gettid, .stub))
        #expect(report.dropped == [Assignment(Self.gettid, .stub)])
        #expect(report.passingSet == [Assignment(Self.getpid, .stub), Assignment(60, .stub)])
        #expect(FinalConfirmation.confirmedVerdicts(verdicts, report: report)[Self.gettid] == .required)
    }

    /// Members with one passing mode only have no switch: nothing extra is probed and the
    /// highest call number is dropped (what the search did before switches existed, so a
    /// journal of that time replays to the same report without any switch probe).
    @Test func conflictOfSingleModeCallsTriesNoSwitch() throws {
        let verdicts: [Int: Verdict] = [1: .stub, 2: .fake, 3: .stub]
        let truth = { (p: ProbePolicy) in !(p.stub.contains(1) && p.fake.contains(2)) }
        let (report, probed) = try search(verdicts, truth)
        #expect(report.resolutions == [ConflictResolution(conflict: [Assignment(1, .stub), Assignment(2, .fake)],
                                                          dropped: Assignment(2, .fake))])
        var journal = Journal()
        for p in probed { journal.add(policy: p.key, replica: 1, outcome: truth(p) ? .pass : .fail) }
        let replay = try FinalConfirmation.search(FinalConfirmation.assignments(verdicts), verdicts: [:]) {
            try journal.passes($0, replicas: 1)
        }
        #expect(replay == report)
    }

    /// Switches are tried smallest first, lower call numbers first, and the search stops at the
    /// first that passes: faking 4 does not help, faking 7 does; faking both is never tried.
    @Test func switchesAreTriedSmallestFirstAndStopAtTheFirstThatPasses() throws {
        let verdicts: [Int: Verdict] = [4: .either, 7: .either, 9: .stub]
        // A stubbed 7 fails beside 4 in any mode.
        let (report, probed) = try search(verdicts) { p in !(p.stub.contains(7) && p.stub.union(p.fake).contains(4)) }
        let resolution = try #require(report.resolutions.first)
        #expect(report.resolutions.count == 1)
        #expect(resolution.conflict == [Assignment(4, .stub), Assignment(7, .stub)])
        #expect(resolution.failedSwitches == [[Assignment(4, .fake)]])
        #expect(resolution.switched == [Assignment(7, .fake)])
        #expect(!probed.contains(ProbePolicy(fake: [4, 7])), "the pair was tried after a single switch passed")
        #expect(report.passingSet == [Assignment(4, .stub), Assignment(7, .fake), Assignment(9, .stub)])
        #expect(report.dropped.isEmpty)
    }

    /// A switched member keeps its new mode: when its new mode conflicts with another call, the
    /// next conflict switches someone else or drops, and the search ends.
    @Test func aSwitchedCallIsNeverSwitchedBack() throws {
        // stub 5 + stub 6 fails; fake 5 + stub 8 fails. Switching 5 back to stub would resolve
        // the second conflict locally and bring the first back (a loop): 8 must switch instead.
        let verdicts: [Int: Verdict] = [5: .either, 6: .either, 8: .either]
        let truth = { (p: ProbePolicy) -> Bool in
            !(p.stub.isSuperset(of: [5, 6]) || (p.fake.contains(5) && p.stub.contains(8)))
        }
        let (report, probed) = try search(verdicts, truth)
        #expect(report.resolutions.count == 2)
        #expect(report.resolutions[0].switched == [Assignment(5, .fake)])
        #expect(report.resolutions[1].conflict == [Assignment(5, .fake), Assignment(8, .stub)])
        #expect(report.resolutions[1].switched == [Assignment(8, .fake)], "5 stays faked; 8 switches")
        #expect(report.passingSet == [Assignment(5, .fake), Assignment(6, .stub), Assignment(8, .fake)])
        #expect(truth(ProbePolicy(assignments: report.passingSet)))
        #expect(report.dropped.isEmpty)
        #expect(Set(probed).count == probed.count)
    }

    /// The lighttpd case (kill, getcwd): the first conflict met, {stub 4, fake 5}, is resolved by
    /// faking 4; the next, {stub 1, fake 5}, has no switch and drops 5. Without 5 the stub of 4
    /// passes again: the switch is undone, so 4 stays `either`, as when {stub 1, fake 5} is met
    /// first. A drop that is still needed stays.
    @Test func aResolutionALaterOneMadeUnnecessaryIsUndone() throws {
        let verdicts: [Int: Verdict] = [1: .stub, 4: .either, 5: .fake]
        let truth = { (p: ProbePolicy) in !(p.fake.contains(5) && (p.stub.contains(4) || p.stub.contains(1))) }
        let (report, probed) = try search(verdicts, truth)
        #expect(report.resolutions.map(\.switched) == [[Assignment(4, .fake)], []])
        #expect(report.resolutions.map(\.dropped) == [nil, Assignment(5, .fake)])
        #expect(report.undone == [Assignment(4, .stub)])
        #expect(report.switched.isEmpty)
        #expect(report.dropped == [Assignment(5, .fake)])
        #expect(report.passingSet == [Assignment(1, .stub), Assignment(4, .stub)])
        #expect(probed.contains(ProbePolicy(assignments: [Assignment(1, .stub), Assignment(4, .stub)])), "the undo was probed")
        let confirmed = FinalConfirmation.confirmedVerdicts(verdicts, report: report)
        #expect(confirmed == [1: .stub, 4: .either, 5: .required])
        // Without undoing, as syspect ran before: 4 stays faked.
        var journal = Journal()
        for p in probed { journal.add(policy: p.key, replica: 1, outcome: truth(p) ? .pass : .fail) }
        let before = try FinalConfirmation.search(FinalConfirmation.assignments(verdicts), verdicts: verdicts, undo: false) {
            try journal.passes($0, replicas: 1)
        }
        #expect(FinalConfirmation.confirmedVerdicts(verdicts, report: before)[4] == .fake)
        #expect(before.undone == nil)
    }

    @Test func switchesAreCappedPerConflict() {
        let conflict = (1...5).map { Assignment($0, .stub) }
        let verdicts = Dictionary(uniqueKeysWithValues: (1...5).map { ($0, Verdict.either) })
        let switches = FinalConfirmation.switches(conflict, verdicts: verdicts, pinned: [3])
        #expect(switches.count == FinalConfirmation.maxSwitchesPerConflict)
        #expect(switches.prefix(4).map { $0.map(\.number) } == [[1], [2], [4], [5]], "singles first; 3 is pinned")
        #expect(switches.dropFirst(4).map { $0.map(\.number) } == [[1, 2], [1, 4], [1, 5]])
        #expect(FinalConfirmation.combinations([1, 2, 3], 2) == [[1, 2], [1, 3], [2, 3]])
    }

    /// `show` of an exploration finished before switches existed: its journal holds the sets
    /// that search probed (no switch probe), and the summary replays that search.
    @Test func summaryOfAnOlderFinishedJournalReplaysTheSearchItRan() throws {
        let truth = { (p: ProbePolicy) in !p.stub.isSuperset(of: [1, 2]) }
        var probes: [ProbeRecord] = []
        func add(_ policy: ProbePolicy, _ passed: Bool) {
            probes.append(ProbeRecord(exploration: "k", policy: policy.key, replica: 1, outcome: passed ? .pass : .fail,
                                      reason: "", exitStatus: passed ? 0 : 1, durationSeconds: 0.1, metric: nil, startedAt: Date()))
        }
        add(.baseline, true)
        for n in [1, 2, 3] { for mode in Mode.allCases { add(.single(n, mode), true) } }
        let verdicts: [Int: Verdict] = [1: .either, 2: .either, 3: .either]
        var journal = Journal(probes)
        var old: CulpritReport?
        while old == nil {
            do {
                old = try FinalConfirmation.search(FinalConfirmation.assignments(verdicts), verdicts: [:], undo: false) {
                    try journal.passes($0, replicas: 1)
                }
            } catch let need as NeedsProbe {
                add(need.policy, truth(need.policy))
                journal = Journal(probes)
            }
        }
        var exploration = ExplorationRecord(
            key: "k", app: "a", workload: "w", kind: .health, specHash: "h", specText: "", strategy: "one-by-one",
            startedAt: Date(), census: [1, 2, 3].map { CensusEntry(arch: .x86_64, number: $0, name: "c\($0)", calls: 1, failures: 0, errnos: [:]) })
        #expect(ExplorationSummary(exploration, probes: probes).report == nil, "unfinished: the new search still needs a switch probe")
        exploration.finishedAt = Date()
        let summary = ExplorationSummary(exploration, probes: probes)
        #expect(summary.report == old)
        #expect(summary.report?.dropped == [Assignment(2, .stub)])
    }
}
