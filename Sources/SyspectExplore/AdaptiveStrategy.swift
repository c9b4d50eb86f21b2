import SyspectCore

/// Per system call and mode, how often that mode passed in other applications' measurements:
/// the prior the adaptive strategy groups by (the paper's "transferring knowledge across
/// applications").
public struct Priors: Sendable, Hashable {
    /// Mode → call → (applications where the mode passed) / (applications that traced the call).
    public var passRate: [Mode: [Int: Double]] = [:]

    public init() {}

    /// Priors from `measurements`, one vote per application (its workloads' verdicts are merged
    /// conservatively: a mode counts as passing only if it passed in every workload).
    public init(_ measurements: [SyspectCore.Measurement]) {
        var perApp: [String: [Int: Verdict]] = [:]
        for m in measurements {
            for (n, v) in m.verdicts {
                let merged = perApp[m.app]?[n].map { old in
                    Verdict(stubPasses: old.canStub && v.canStub, fakePasses: old.canFake && v.canFake)
                } ?? v
                perApp[m.app, default: [:]][n] = merged
            }
        }
        var passes: [Mode: [Int: Int]] = [:]
        var seen: [Int: Int] = [:]
        for verdicts in perApp.values {
            for (n, v) in verdicts {
                seen[n, default: 0] += 1
                if v.canStub { passes[.stub, default: [:]][n, default: 0] += 1 }
                if v.canFake { passes[.fake, default: [:]][n, default: 0] += 1 }
            }
        }
        for mode in Mode.allCases {
            passRate[mode] = seen.mapValues { _ in 0.0 }.merging(
                (passes[mode] ?? [:]).map { ($0.key, Double($0.value) / Double(seen[$0.key]!)) }) { $1 }
        }
    }

    /// The estimated chance that `mode` passes for call `number`; nil without data.
    public func rate(_ number: Int, _ mode: Mode) -> Double? { passRate[mode]?[number] }

    /// The priors of an exploration of `app` (leave-one-out: `app`'s own measurements never
    /// count): the other applications in the database; when it holds none, the `fallback`
    /// dataset's (a fresh database gets the fast path too); else none.
    public static func choose(app: String, stored: [SyspectCore.Measurement], fallback: PriorsFallback) -> (Priors, PriorsSource) {
        func apps(_ ms: [SyspectCore.Measurement]) -> Int { Set(ms.map(\.app)).count }
        let others = stored.filter { $0.app != app }
        if !others.isEmpty { return (Priors(others), PriorsSource(origin: .store, apps: apps(others))) }
        guard let dataset = fallback.dataset else { return (Priors(), PriorsSource(origin: .none, apps: 0)) }
        let bundled = dataset.measurements.filter { $0.app != app }
        guard !bundled.isEmpty else { return (Priors(), PriorsSource(origin: .none, apps: 0)) }
        return (Priors(bundled), PriorsSource(origin: .bundled, apps: apps(bundled), dataset: dataset.name))
    }
}

/// Measurements the adaptive strategy takes its priors from when the database holds no other
/// application.
public struct PriorsDataset: Sendable {
    /// Name and version, e.g. "loupedb at commit … (tag …)".
    public var name: String
    public var measurements: [SyspectCore.Measurement]

    public init(name: String, measurements: [SyspectCore.Measurement]) {
        self.name = name
        self.measurements = measurements
    }
}

/// Where priors come from without other applications in the database (`ExploreOptions`).
public enum PriorsFallback: Sendable {
    /// The loupedb measurements compiled into syspect (`BundledLoupedb`, decoded when used).
    case bundledLoupedb
    /// Another dataset (tests).
    case dataset(PriorsDataset)
    /// None: every call is tested alone.
    case none

    public var dataset: PriorsDataset? {
        switch self {
        case .bundledLoupedb:
            return PriorsDataset(name: "loupedb at \(BundledLoupedb.sourceCommit)", measurements: BundledLoupedb.dataset.measurements)
        case .dataset(let d): return d
        case .none: return nil
        }
    }
}

/// Adaptive group testing (issue 7). Per mode, calls that are likely to pass (prior ≥
/// `aloneBelow`) are packed, most likely first, into groups whose joint prior (the product of
/// the members') stays ≥ `groupConfidence`; a group that passes every replica proves all its
/// members; a failing group is split in halves (of its prior order), down to single calls.
/// Calls without a favourable prior are tested alone. Replicas are spent where the result is
/// uncertain: replica 1 first; the others only once it passed — a failure is already final
/// under the conservative merge, so skipping the remaining replicas never changes a verdict.
///
/// The defaults come from an offline replay of the strategy on the strace reference verdicts of
/// redis, nginx, memcached and lighttpd (examples/*/strace-reference.tsv) with leave-one-out
/// loupedb priors: packing by descending prior at a joint prior of 0.2 needs about 20 % fewer
/// probes than packing by call number at 0.6; measured by benchmarks/explore-speed.sh, redis
/// went from 163 to 116 probes and nginx from 234 to 203 (docs/explore.md).
public struct AdaptiveStrategy: ExplorationStrategy {
    public var priors: Priors
    /// Minimum product of the members' priors for a group to grow.
    public var groupConfidence: Double
    /// Largest group.
    public var maxGroup: Int
    /// Calls whose prior is below this (or unknown) are tested alone.
    public var aloneBelow: Double

    public init(priors: Priors = Priors(), groupConfidence: Double = 0.2, maxGroup: Int = 16, aloneBelow: Double = 0.5) {
        self.priors = priors
        self.groupConfidence = groupConfidence
        self.maxGroup = maxGroup
        self.aloneBelow = aloneBelow
    }

    public var name: String { StrategyName.adaptive.rawValue }

    /// The first-level policies of `mode`: the groups (likely-passing calls by descending prior,
    /// then number, packed greedily while the joint prior allows), then every other call alone.
    /// Groups come first: a failing group starts the longest chain of dependent probes.
    func initialGroups(_ traced: [Int], _ mode: Mode) -> [[Int]] {
        let likely = traced.compactMap { n in priors.rate(n, mode).flatMap { $0 >= aloneBelow ? (n, $0) : nil } }
            .sorted { ($0.1, $1.0) > ($1.1, $0.0) }
        var groups: [[Int]] = []
        var current: [Int] = []
        var confidence = 1.0
        for (n, p) in likely {
            if !current.isEmpty && (confidence * p < groupConfidence || current.count >= maxGroup) {
                groups.append(current)
                current = []
                confidence = 1
            }
            current.append(n)
            confidence *= p
        }
        if !current.isEmpty { groups.append(current) }
        let grouped = Set(likely.map(\.0))
        return groups + traced.filter { !grouped.contains($0) }.map { [$0] }
    }

    public func nextProbes(_ context: StrategyContext) -> [ProbeRequest] {
        let known = journalProof(context)
        var next: [ProbeRequest] = []
        for mode in Mode.allCases {
            for group in initialGroups(context.traced, mode) {
                walk(group, mode, context, known: known[mode] ?? [:], into: &next)
            }
        }
        return next
    }

    /// Visits a group: skipped when every member is decided; split when it failed; otherwise
    /// its next replica(s).
    private func walk(_ group: [Int], _ mode: Mode, _ context: StrategyContext, known: [Int: Bool], into next: inout [ProbeRequest]) {
        if group.allSatisfy({ known[$0] != nil }) { return }
        let policy = ProbePolicy.group(Set(group), mode)
        let outcomes = (1...context.replicas).map { context.journal.outcome(ProbeRequest(policy, replica: $0)) }
        if outcomes.contains(.fail) {
            guard group.count > 1 else { return }
            for half in split(group, into: 2) { walk(half, mode, context, known: known, into: &next) }
            return
        }
        if outcomes[0] == nil {
            next.append(ProbeRequest(policy, replica: 1))
        } else {
            for r in 2...max(2, context.replicas) where r <= context.replicas && outcomes[r - 1] == nil {
                next.append(ProbeRequest(policy, replica: r))
            }
        }
    }

    public func verdicts(_ context: StrategyContext) -> [Int: Verdict] {
        let known = journalProof(context)
        var result: [Int: Verdict] = [:]
        for n in context.traced {
            if let stub = known[.stub]?[n], let fake = known[.fake]?[n] {
                result[n] = Verdict(stubPasses: stub, fakePasses: fake)
            }
        }
        return result
    }

    public func estimatedTotal(_ context: StrategyContext) -> Int {
        // Finished probes of this strategy's policies, plus each pending probe, plus one replica
        // per undecided call and mode (a rough upper part for the splits still to come).
        let known = journalProof(context)
        let undecided = Mode.allCases.reduce(0) { sum, mode in
            sum + context.traced.filter { known[mode]?[$0] == nil }.count
        }
        let finished = context.journal.outcomes.filter { $0.key.hasPrefix("stub:") || $0.key.hasPrefix("fake:")
            || $0.key.hasPrefix("group:") }.values.reduce(0) { $0 + $1.count }
        return finished + nextProbes(context).count + undecided
    }
}

/// Per mode and call: true when some passed policy (every replica passed) of that mode holds the
/// call, false when the call's single-call policy failed a replica (a failure wins: conservative),
/// absent when undecided.
public func journalProof(_ context: StrategyContext) -> [Mode: [Int: Bool]] {
    var result: [Mode: [Int: Bool]] = [:]
    let traced = Set(context.traced)
    var failures: [(Mode, Int)] = []
    for key in context.journal.outcomes.keys {
        guard key.hasPrefix("stub:") || key.hasPrefix("fake:") || key.hasPrefix("group:"),
              let policy = ProbePolicy(key: key) else { continue }
        let mode: Mode = policy.stub.isEmpty ? .fake : .stub
        let members = mode == .stub ? policy.stub : policy.fake
        switch context.journal.status(policy, replicas: context.replicas) {
        case .passed:
            for n in members where traced.contains(n) { result[mode, default: [:]][n] = true }
        case .failed where members.count == 1:
            failures.append((mode, members.first!))
        default:
            break
        }
    }
    for (mode, n) in failures where traced.contains(n) { result[mode, default: [:]][n] = false }
    return result
}
