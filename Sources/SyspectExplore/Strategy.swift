import SyspectCore

/// What a strategy decides from: the traced calls to classify, the replicas per policy, and the
/// journal of finished probes.
public struct StrategyContext: Sendable {
    /// Traced x86-64 system call numbers, ascending.
    public var traced: [Int]
    public var replicas: Int
    public var journal: Journal

    public init(traced: [Int], replicas: Int, journal: Journal) {
        self.traced = traced
        self.replicas = replicas
        self.journal = journal
    }
}

/// The order and grouping of probes (`--strategy`). A strategy is a pure function of the
/// journal: `nextProbes` lists probes that may run now (the explorer skips those in flight and
/// runs them `--jobs` at a time, journaling each as it ends, then asks again); when it returns
/// nothing and nothing is in flight, `verdicts` is complete. Resume needs nothing more: the
/// journal already holds the finished probes, so they are never listed again.
public protocol ExplorationStrategy: Sendable {
    /// The `--strategy` name, stored with the exploration.
    var name: String { get }
    /// Unfinished probes that can run now, most useful first. Empty when every verdict is known
    /// (or when only probes in flight are still missing).
    func nextProbes(_ context: StrategyContext) -> [ProbeRequest]
    /// Verdicts known so far (complete once `nextProbes` is empty and nothing is in flight).
    func verdicts(_ context: StrategyContext) -> [Int: Verdict]
    /// Probes this strategy expects to run in all, including the finished ones (for the ETA).
    func estimatedTotal(_ context: StrategyContext) -> Int
}

/// The closed set of strategies the CLI offers.
public enum StrategyName: String, Sendable, CaseIterable, Codable {
    /// The paper's method: every traced call stubbed, then faked, alone; every replica run.
    case oneByOne = "one-by-one"
    /// Adaptive group testing with priors from other applications' measurements, and replicas
    /// spent only where a result is still uncertain (issue 7).
    case adaptive

    /// The strategy; `priors` matter only to `adaptive` (grouping), never to verdicts.
    public func strategy(priors: Priors = Priors()) -> any ExplorationStrategy {
        switch self {
        case .oneByOne: return OneByOneStrategy()
        case .adaptive: return AdaptiveStrategy(priors: priors)
        }
    }
}

/// The paper's method (section 3.1): for each traced call, a stub probe and a fake probe, each
/// replicated `replicas` times, all replicas run even after a failure (the reference that faster
/// strategies are measured against).
public struct OneByOneStrategy: ExplorationStrategy {
    public init() {}

    public var name: String { StrategyName.oneByOne.rawValue }

    func allProbes(_ context: StrategyContext) -> [ProbeRequest] {
        context.traced.flatMap { number in
            Mode.allCases.flatMap { mode in
                (1...context.replicas).map { ProbeRequest(.single(number, mode), replica: $0) }
            }
        }
    }

    public func nextProbes(_ context: StrategyContext) -> [ProbeRequest] {
        allProbes(context).filter { !context.journal.isFinished($0) }
    }

    public func verdicts(_ context: StrategyContext) -> [Int: Verdict] {
        var result: [Int: Verdict] = [:]
        for number in context.traced {
            let stub = context.journal.status(.single(number, .stub), replicas: context.replicas)
            let fake = context.journal.status(.single(number, .fake), replicas: context.replicas)
            // Every replica runs in this strategy: a verdict is final only when all are in.
            let complete = Mode.allCases.allSatisfy { mode in
                (1...context.replicas).allSatisfy {
                    context.journal.isFinished(ProbeRequest(.single(number, mode), replica: $0))
                }
            }
            if complete, let v = Verdict(stub: stub, fake: fake) { result[number] = v }
        }
        return result
    }

    public func estimatedTotal(_ context: StrategyContext) -> Int {
        context.traced.count * 2 * context.replicas
    }
}
