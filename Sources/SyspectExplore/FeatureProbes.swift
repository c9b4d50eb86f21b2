import Foundation
import SyspectCore
import SyspectTrace

/// What a probe finer than a whole system call interposes (issue 5).
public enum ProbeTarget: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The whole call faked with its `FakeValues` table value instead of 0: `plausible:1`.
    case plausible(Int)
    /// One sub-feature stubbed or faked (0) while the rest of its call runs: `stub@fcntl:cmd=F_SETFD`.
    case feature(SubFeature, Mode)
    /// Every call naming one pseudo-file fails with ENOENT (absent) or ENOSYS (stub):
    /// `absent@/proc/self/status`.
    case file(String, FileMode)

    public var key: String {
        switch self {
        case .plausible(let n): return "plausible:\(n)"
        case .feature(let f, let mode): return "\(mode.rawValue)@\(f.key)"
        case .file(let path, let mode): return "\(mode.rawValue)@\(path)"
        }
    }

    public var description: String { key }

    /// Parses `key`; a feature key resolves among `features` (its match lives there).
    public init?(key: String, features: [SubFeature]) {
        if key.hasPrefix("plausible:") {
            guard let n = Int(key.dropFirst("plausible:".count)), n >= 0, FakeValues.rule(for: n) != nil else { return nil }
            self = .plausible(n)
            return
        }
        guard let at = key.firstIndex(of: "@") else { return nil }
        let mode = String(key[..<at]), rest = String(key[key.index(after: at)...])
        if rest.hasPrefix("/") {
            guard let m = FileMode(rawValue: mode), !rest.contains("\u{0}") else { return nil }
            self = .file(rest, m)
        } else {
            guard let m = Mode(rawValue: mode), let f = features.first(where: { $0.key == rest }) else { return nil }
            self = .feature(f, m)
        }
    }

    /// Adds this target to a probe's interposition. `fakeValues` are the rules of the
    /// exploration's plausible fakes (`plausible:N`).
    public func apply(to interposition: inout Interposition) {
        switch self {
        case .plausible(let n):
            if let rule = FakeValues.rule(for: n) { interposition.fakeRules[n] = rule }
        case .feature(let f, let mode):
            interposition.features.append(FeatureInterposition(f, mode == .stub ? .stub : .fake(.zero)))
        case .file(let path, let mode):
            interposition.files[path] = mode
        }
    }
}

/// Which sub-features `explore --features` probes.
public enum FeatureScope: String, Sendable, Hashable, Codable, CaseIterable {
    /// Sub-features of the calls the whole-call probes found required: where the answer changes
    /// what an OS must implement. A call that can be stubbed or faked whole needs no look inside.
    case required
    /// Sub-features of every traced call (the paper's choice for vectored calls).
    case all
}

/// Which fake values the explore tries (`--fake-values`).
public enum FakeValueChoice: String, Sendable, Hashable, Codable, CaseIterable {
    /// 0 only (the paper's fake).
    case zero
    /// 0 first; a call whose 0-fake failed and that has a table value gets a `plausible:N` probe.
    case both
}

/// The probes finer than whole calls, as a pure function of the journal (like a strategy):
/// plausible fake values, sub-features, pseudo-files; one target alone per probe, every replica
/// run. Verdicts come from the same conservative merge of replicas as whole calls.
public struct FeatureProbePlan: Sendable {
    public var fakeValues: FakeValueChoice
    public var features: FeatureScope?
    public var files: Bool
    /// Baseline census of sub-features and pseudo-files.
    public var featureCensus: [FeatureUse]
    public var fileCensus: [PseudoFileUse]
    /// Whole-call verdicts from the strategy.
    public var verdicts: [Int: Verdict]
    public var replicas: Int

    public init(fakeValues: FakeValueChoice, features: FeatureScope?, files: Bool, featureCensus: [FeatureUse],
                fileCensus: [PseudoFileUse], verdicts: [Int: Verdict], replicas: Int) {
        self.fakeValues = fakeValues
        self.features = features
        self.files = files
        self.featureCensus = featureCensus
        self.fileCensus = fileCensus
        self.verdicts = verdicts
        self.replicas = replicas
    }

    /// Calls whose 0-fake failed and whose table value is worth a probe.
    public var plausibleCandidates: [Int] {
        guard fakeValues == .both else { return [] }
        return verdicts.filter { $0.value == .required || $0.value == .stub }.keys
            .filter { FakeValues.rule(for: $0) != nil }.sorted()
    }

    /// The sub-features probed, in order.
    public var probedFeatures: [SubFeature] {
        guard let features else { return [] }
        return featureCensus.map(\.feature)
            .filter { features == .all || verdicts[$0.syscall] == .required || verdicts[$0.syscall] == nil }
            .sorted()
    }

    /// Every target, in order: plausible values, sub-features, pseudo-files.
    public var targets: [ProbeTarget] {
        plausibleCandidates.map(ProbeTarget.plausible)
            + probedFeatures.flatMap { f in Mode.allCases.map { ProbeTarget.feature(f, $0) } }
            + (files ? fileCensus.map(\.path).sorted().flatMap { p in FileMode.allCases.map { ProbeTarget.file(p, $0) } } : [])
    }

    public var allProbes: [ProbeRequest] {
        targets.flatMap { t in (1...replicas).map { ProbeRequest(ProbePolicy(target: t), replica: $0) } }
    }

    public func nextProbes(_ journal: Journal) -> [ProbeRequest] {
        allProbes.filter { !journal.isFinished($0) }
    }

    private func passed(_ target: ProbeTarget, _ journal: Journal) -> Bool? {
        let requests = (1...replicas).map { ProbeRequest(ProbePolicy(target: target), replica: $0) }
        guard requests.allSatisfy(journal.isFinished) else { return nil }
        return journal.status(ProbePolicy(target: target), replicas: replicas) == .passed
    }

    /// Whole-call verdicts with the plausible fakes that passed, and their rules.
    public func upgradedVerdicts(_ journal: Journal) -> (verdicts: [Int: Verdict], fakeValues: [Int: FakeValueRule]) {
        Self.withPlausibleFakes(verdicts, journal: journal, replicas: replicas)
    }

    /// `verdicts` upgraded by every journaled `plausible:N` probe that passed (all replicas):
    /// required → fake, stub → either; with the rules that made those fakes work. A pure
    /// function of the journal, so `syspect show` replays it too.
    public static func withPlausibleFakes(_ verdicts: [Int: Verdict], journal: Journal, replicas: Int)
        -> (verdicts: [Int: Verdict], fakeValues: [Int: FakeValueRule])
    {
        var result = verdicts, rules: [Int: FakeValueRule] = [:]
        for (n, v) in verdicts where v == .required || v == .stub {
            guard let rule = FakeValues.rule(for: n) else { continue }
            let policy = ProbePolicy(target: .plausible(n))
            let finished = (1...replicas).allSatisfy { journal.isFinished(ProbeRequest(policy, replica: $0)) }
            guard finished, journal.status(policy, replicas: replicas) == .passed else { continue }
            result[n] = v == .stub ? .either : .fake
            rules[n] = rule
        }
        return (result, rules)
    }

    /// The findings to store: census lines with the verdicts known so far.
    public func findings(_ journal: Journal) -> FeatureFindings {
        let probed = Set(probedFeatures)
        let features = featureCensus.sorted { $0.feature < $1.feature }.map { use -> FeatureFinding in
            guard probed.contains(use.feature),
                  let stub = passed(.feature(use.feature, .stub), journal),
                  let fake = passed(.feature(use.feature, .fake), journal)
            else { return FeatureFinding(use: use, verdict: nil) }
            return FeatureFinding(use: use, verdict: Verdict(stubPasses: stub, fakePasses: fake))
        }
        let files = fileCensus.sorted().map { use -> FileFinding in
            guard self.files else { return FileFinding(use: use) }
            return FileFinding(use: use, absentPasses: passed(.file(use.path, .absent), journal),
                               stubPasses: passed(.file(use.path, .stub), journal))
        }
        return FeatureFindings(features: features, files: files, fakeValues: upgradedVerdicts(journal).fakeValues)
    }
}

extension ProbePolicy {
    /// What the tracer and filter do for this policy: stubs, fakes (0, or the value in
    /// `fakeValues` for a call whose plausible fake passed), and the target.
    public func interposition(inKernel: Bool, fakeValues: [Int: FakeValueRule] = [:]) -> Interposition {
        var i = Interposition(stub: stub, inKernel: inKernel)
        for n in fake {
            if let rule = fakeValues[n], !rule.isZero { i.fakeRules[n] = rule } else { i.fake[n] = 0 }
        }
        target?.apply(to: &i)
        return i
    }
}

extension FeatureFindings {
    /// The census of several baseline runs as one: every sub-feature and pseudo-file seen in any
    /// run, with its largest counts.
    public init(baselines runs: [ProbeRun]) {
        var features: [String: FeatureUse] = [:], files: [String: PseudoFileUse] = [:]
        for run in runs {
            for use in run.features where (features[use.feature.key]?.calls ?? -1) < use.calls { features[use.feature.key] = use }
            for use in run.pseudoFiles where (files[use.path]?.totalCalls ?? -1) < use.totalCalls { files[use.path] = use }
        }
        self.init(features: features.values.sorted { $0.feature < $1.feature }.map { FeatureFinding(use: $0) },
                  files: files.values.sorted().map { FileFinding(use: $0) })
    }
}
