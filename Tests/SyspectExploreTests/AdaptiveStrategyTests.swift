import Foundation
import SyspectCore
import Testing
@testable import SyspectExplore

@Suite struct AdaptiveStrategyTests {
    /// Runs a strategy to the end against `truth` (does a policy pass?); returns verdicts and runs.
    func simulate(_ strategy: any ExplorationStrategy, traced: [Int], replicas: Int,
                  truth: (ProbePolicy, Int) -> Bool) -> (verdicts: [Int: Verdict], runs: Int, journal: Journal) {
        var journal = Journal()
        var runs = 0
        while true {
            let next = strategy.nextProbes(StrategyContext(traced: traced, replicas: replicas, journal: journal))
            if next.isEmpty { break }
            for request in next {
                journal.add(policy: request.policy.key, replica: request.replica,
                            outcome: truth(request.policy, request.replica) ? .pass : .fail)
                runs += 1
            }
        }
        return (strategy.verdicts(StrategyContext(traced: traced, replicas: replicas, journal: journal)), runs, journal)
    }

    /// A policy passes when none of its stubs is in `badStub` and none of its fakes in `badFake`.
    func truth(badStub: Set<Int>, badFake: Set<Int>) -> (ProbePolicy, Int) -> Bool {
        { policy, _ in policy.stub.isDisjoint(with: badStub) && policy.fake.isDisjoint(with: badFake) }
    }

    func priors(_ good: [Int: Double]) -> Priors {
        var p = Priors()
        p.passRate[.stub] = good
        p.passRate[.fake] = good
        return p
    }

    @Test func sameVerdictsAsOneByOneWithFewerRuns() {
        let traced = Array(0..<40)
        let badStub: Set<Int> = [0, 1, 3, 9, 17, 18, 30]
        let badFake: Set<Int> = [0, 1, 2, 9, 25]
        let oracle = truth(badStub: badStub, badFake: badFake)
        let reference = simulate(OneByOneStrategy(), traced: traced, replicas: 3, truth: oracle)
        // Priors say: 0..<10 likely required, the rest likely fine.
        let prior = priors(Dictionary(uniqueKeysWithValues: traced.map { ($0, $0 < 10 ? 0.1 : 0.97) }))
        let adaptive = simulate(AdaptiveStrategy(priors: prior), traced: traced, replicas: 3, truth: oracle)
        #expect(adaptive.verdicts == reference.verdicts)
        #expect(reference.runs == 40 * 2 * 3)
        #expect(adaptive.runs * 2 < reference.runs, "adaptive ran \(adaptive.runs), one-by-one \(reference.runs)")
    }

    @Test func withoutPriorsItStillSavesTheReplicasOfFailures() {
        let traced = Array(0..<10)
        let oracle = truth(badStub: [1, 2, 3], badFake: [1])
        let reference = simulate(OneByOneStrategy(), traced: traced, replicas: 3, truth: oracle)
        let adaptive = simulate(AdaptiveStrategy(), traced: traced, replicas: 3, truth: oracle)
        #expect(adaptive.verdicts == reference.verdicts)
        // 4 failing singles cost 1 run instead of 3.
        #expect(adaptive.runs == reference.runs - 4 * 2)
    }

    @Test func aFailingReplicaIsFinalEvenAfterPasses() {
        // Flaky call 5: replica 3 fails. The conservative merge makes it not stubbable, in both.
        let flaky: (ProbePolicy, Int) -> Bool = { policy, replica in !(policy.stub.contains(5) && replica == 3) }
        let traced = [4, 5, 6]
        let prior = priors([4: 0.9, 5: 0.9, 6: 0.9])
        let adaptive = simulate(AdaptiveStrategy(priors: prior), traced: traced, replicas: 3, truth: flaky)
        let reference = simulate(OneByOneStrategy(), traced: traced, replicas: 3, truth: flaky)
        #expect(adaptive.verdicts == reference.verdicts)
        #expect(adaptive.verdicts[5] == .fake)
    }

    /// Scripted outcomes: each (policy, replica) fails with probability 1/4, drawn from a hash
    /// of the seed, the policy and the replica (any replica may fail, groups and singles alike).
    func randomTruth(seed: Int) -> (ProbePolicy, Int) -> Bool {
        { policy, replica in UInt64(stableHash("\(seed)|\(policy.key)|\(replica)"), radix: 16)! % 4 != 0 }
    }

    /// The replica gate (replica 1 first, the others only after it passed) never turns a failing
    /// policy into a pass: on 300 random outcome tables, every call the adaptive strategy lets
    /// pass in a mode is backed by a policy of that mode holding it whose EVERY replica ran and
    /// passed; without groups (no priors) its verdicts are exactly one-by-one's.
    @Test func theReplicaGateNeverLoosensTheConservativeMerge() {
        let traced = Array(0..<6)
        let grouping = priors(Dictionary(uniqueKeysWithValues: traced.map { ($0, 0.95) }))
        for seed in 0..<300 {
            let truth = randomTruth(seed: seed)
            let reference = simulate(OneByOneStrategy(), traced: traced, replicas: 3, truth: truth)
            let alone = simulate(AdaptiveStrategy(), traced: traced, replicas: 3, truth: truth)
            #expect(alone.verdicts == reference.verdicts, "seed \(seed)")
            let grouped = simulate(AdaptiveStrategy(priors: grouping), traced: traced, replicas: 3, truth: truth)
            #expect(grouped.verdicts.count == traced.count, "seed \(seed): undecided calls")
            for (n, verdict) in grouped.verdicts {
                for mode in Mode.allCases where mode == .stub ? verdict.canStub : verdict.canFake {
                    let backed = grouped.journal.outcomes.contains { key, replicas in
                        guard let policy = ProbePolicy(key: key), !policy.isBaseline else { return false }
                        let members = mode == .stub ? policy.stub : policy.fake
                        return members.contains(n) && (1...3).allSatisfy { replicas[$0] == .pass }
                    }
                    #expect(backed, "seed \(seed): \(mode) \(n) passes without a fully passing policy")
                    // A failing replica of the call's own single policy always wins.
                    #expect(grouped.journal.status(.single(n, mode), replicas: 3) != .failed, "seed \(seed)")
                }
            }
        }
    }

    @Test func groupsFollowThePriors() {
        let strategy = AdaptiveStrategy(priors: priors([1: 0.6, 2: 0.99, 3: 0.2, 4: 0.95, 5: 0.7, 6: 0.95]),
                                        groupConfidence: 0.5)
        // Most likely first (ties by number): 2, 4, 6, 5 (joint 0.63); 1 would make 0.38 < 0.5
        // → a new group; 3 (prior < 0.5) and 8 (no data) alone, after the groups.
        #expect(strategy.initialGroups([1, 2, 3, 4, 5, 6, 8], .stub) == [[2, 4, 6, 5], [1], [3], [8]])
        let small = AdaptiveStrategy(priors: strategy.priors, groupConfidence: 0.5, maxGroup: 2)
        #expect(small.initialGroups([1, 2, 3, 4, 5, 6, 8], .stub) == [[2, 4], [6, 5], [1], [3], [8]])
    }

    @Test func priorsCountOneVotePerApplication() {
        let a = SyspectCore.Measurement(app: "a", workload: "w1", kind: .benchmark, verdicts: [1: .either, 2: .required], source: "t")
        let a2 = SyspectCore.Measurement(app: "a", workload: "w2", kind: .suite, verdicts: [1: .fake], source: "t")
        let b = SyspectCore.Measurement(app: "b", workload: "w", kind: .benchmark, verdicts: [1: .stub, 2: .either], source: "t")
        let p = Priors([a, a2, b])
        // a: 1 merged to fake (stub failed in w2); b: 1 stub.
        #expect(p.rate(1, .stub) == 0.5)
        #expect(p.rate(1, .fake) == 0.5)
        #expect(p.rate(2, .stub) == 0.5)
        #expect(p.rate(3, .stub) == nil)
    }

    @Test func journalProofIgnoresGroupingButLetsFailuresWin() {
        var journal = Journal()
        journal.add(policy: "group:stub:1,2", replica: 1, outcome: .pass)
        journal.add(policy: "stub:2", replica: 1, outcome: .fail)
        journal.add(policy: "fake:1", replica: 1, outcome: .pass)
        let proof = journalProof(StrategyContext(traced: [1, 2], replicas: 1, journal: journal))
        #expect(proof[.stub]?[1] == true)
        #expect(proof[.stub]?[2] == false)
        #expect(proof[.fake]?[1] == true)
        #expect(proof[.fake]?[2] == nil)
    }

    @Test func readyTimeoutFollowsTheBaselineWithinBounds() {
        #expect(Explorer.adaptiveTimeout(spec: 10, baseline: 0.05, floor: 2) == 2)
        #expect(Explorer.adaptiveTimeout(spec: 10, baseline: 0.4, floor: 2) == 4)
        #expect(Explorer.adaptiveTimeout(spec: 10, baseline: 3, floor: 2) == 10)
        #expect(Explorer.adaptiveTimeout(spec: 30, baseline: 1.2, floor: 5) == 12)
    }
}
