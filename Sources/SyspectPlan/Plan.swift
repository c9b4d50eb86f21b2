import SyspectCore

/// What an OS does with a syscall it does not (yet) support.
public enum Decision: String, Codable, Sendable, Hashable, CaseIterable {
    /// Write a real implementation.
    case implement
    /// Return -ENOSYS without doing anything.
    case stub
    /// Return success (0) without doing anything.
    case fake
}

/// One syscall decided (or re-decided) in a plan step, with why.
public struct DecidedSyscall: Codable, Sendable, Hashable {
    public var number: Int
    public var name: String
    public var decision: Decision
    /// The decision an earlier step took, when this step changes it (stub → implement, ...).
    public var previous: Decision?
    /// Why: "required by nginx", "stub-only for h2o, fake-only for nginx", "stub-only for redis",
    /// "fake-only for sqlite", "stub or fake for every supported app".
    public var reason: String
    /// Implementation cost (1 unless a costs file says otherwise; 0 for stub/fake).
    public var cost: Double

    /// "name (number)", e.g. "accept4 (288)".
    public var label: String { "\(name) (\(number))" }
}

/// One step of a support plan (a row of the paper's Table 1).
public struct PlanStep: Codable, Sendable, Hashable {
    /// 0 = what the OS runs as it is (with the stubs and fakes listed).
    public var step: Int
    /// The application the step was taken for (nil for step 0).
    public var target: String?
    public var implement: [DecidedSyscall]
    public var stub: [DecidedSyscall]
    public var fake: [DecidedSyscall]
    /// Applications supported from this step on (the target first).
    public var newlySupported: [String]
    /// Applications supported after the step, in total.
    public var supportedCount: Int
    /// Syscalls implemented beyond the OS's list after the step, in total.
    public var implementedCount: Int
    /// Their summed cost.
    public var cost: Double
}

/// How the steps were chosen.
public enum PlanStrategy: String, Codable, Sendable, CaseIterable {
    /// Beam search seeded with greedy (never worse than greedy for any N).
    case search
    /// The paper's greedy rule under header semantics.
    case greedy
}

/// A step-by-step support plan for one OS and a set of applications.
public struct SupportPlan: Codable, Sendable, Hashable {
    public var os: String
    /// Syscalls in the OS's support list.
    public var osSyscallCount: Int
    public var workload: WorkloadSelection
    public var strategy: PlanStrategy
    /// Applications planned for, sorted.
    public var apps: [String]
    public var steps: [PlanStep]
    /// `curve[n]` = cost to support at least n apps (n = 0...apps.count).
    public var curve: [Double]
    /// Every decision in force after the last step (syscall number → decision), OS-supported
    /// syscalls excluded.
    public var finalDecisions: [Int: Decision]

    /// The decisions in force after `step` (OS-supported syscalls excluded).
    public func decisions(afterStep step: Int) -> [Int: Decision] {
        var result: [Int: Decision] = [:]
        for s in steps where s.step <= step {
            for d in s.implement + s.stub + s.fake { result[d.number] = d.decision }
        }
        return result
    }

    /// Applications supported after `step`.
    public func supported(afterStep step: Int) -> [String] {
        steps.filter { $0.step <= step }.flatMap(\.newlySupported)
    }
}

/// Whether an application runs on an OS given decisions for the syscalls it lacks: every traced
/// syscall is supported by the OS or implemented, or stubbed and the app tolerates a stub, or
/// faked and the app tolerates a fake. (Independent of the planner's bit sets: tests use it to
/// check every claim of every plan.)
public func runs(_ target: PlanTarget, os: OSSupport, decisions: [Int: Decision]) -> Bool {
    target.verdicts.allSatisfy { number, verdict in
        if os.syscalls.contains(number) { return true }
        switch decisions[number] {
        case .implement: return true
        case .stub: return verdict.canStub
        case .fake: return verdict.canFake
        case nil: return false
        }
    }
}

/// Computes support plans.
public enum Planner {
    /// Default beam width and candidate count of `.search` (see `Searches.beam`).
    public static let defaultBeamWidth = 8
    public static let defaultCandidates = 12

    /// The support plan for `targets` on `os`.
    public static func plan(
        targets: [PlanTarget], os: OSSupport, workload: WorkloadSelection = .all,
        costs: SyscallCosts = .uniform, strategy: PlanStrategy = .search,
        beamWidth: Int = defaultBeamWidth, candidates: Int = defaultCandidates
    ) throws(PlanInputError) -> SupportPlan {
        let model = try PlanModel(targets: targets, os: os, costs: costs)
        let greedy = Searches.greedy(model)
        let path = strategy == .greedy
            ? greedy : Searches.beam(model, greedy: greedy, beamWidth: beamWidth, candidates: candidates)
        return PlanBuilder(model: model).plan(path: path, workload: workload, strategy: strategy)
    }

    /// Selects targets from measurements: the workload kinds, then the named apps (nil or
    /// ["*"] = all). Unknown names → `PlanInputError.unknownApps` with suggestions.
    public static func targets(
        from measurements: [Measurement], workload: WorkloadSelection, apps: [String]? = nil
    ) throws(PlanInputError) -> [PlanTarget] {
        let all = PlanTarget.targets(from: measurements, workload: workload)
        guard let apps, !apps.contains("*") else {
            guard !all.isEmpty else { throw .noTargets("no measurement has a \(workload.rawValue) workload") }
            return all
        }
        let known = Set(measurements.map(\.app))
        let unknown = apps.filter { !known.contains($0) }
        if !unknown.isEmpty {
            let names = known.sorted()
            throw .unknownApps(unknown, suggestions: Dictionary(uniqueKeysWithValues: unknown.map {
                ($0, SyscallNameSuggestions.closest(to: $0, among: names))
            }))
        }
        let wanted = Set(apps)
        let chosen = all.filter { wanted.contains($0.app) }
        let missing = wanted.subtracting(chosen.map(\.app)).sorted()
        guard missing.isEmpty else {
            throw .noTargets("\(missing.joined(separator: ", ")) has no \(workload.rawValue) workload; try --workload all")
        }
        return chosen
    }
}

/// Turns a path of states into plan steps with decisions and reasons.
struct PlanBuilder {
    let model: PlanModel

    func plan(path: [PathNode], workload: WorkloadSelection, strategy: PlanStrategy) -> SupportPlan {
        var steps: [PlanStep] = []
        var previous = PlanState(appCount: model.appCount)
        for (index, node) in path.enumerated() {
            steps.append(step(index, node: node, before: previous))
            previous = node.state
        }
        var final: [Int: Decision] = [:]
        for i in previous.traced.indices { final[model.universe[i]] = previous.decision(i, model) }
        return SupportPlan(
            os: model.os.name, osSyscallCount: model.os.syscalls.count, workload: workload,
            strategy: strategy, apps: model.targets.map(\.app), steps: steps,
            curve: Searches.curve(path, appCount: model.appCount), finalDecisions: final)
    }

    private func step(_ index: Int, node: PathNode, before: PlanState) -> PlanStep {
        let state = node.state
        var changed: [DecidedSyscall] = []
        for i in state.traced.indices {
            guard let now = state.decision(i, model), now != before.decision(i, model) else { continue }
            let number = model.universe[i]
            changed.append(DecidedSyscall(
                number: number, name: SyscallTable.displayName(of: number), decision: now,
                previous: before.decision(i, model), reason: reason(i, now, state),
                cost: now == .implement ? model.weight[i] : 0))
        }
        return PlanStep(
            step: index, target: node.target.map { model.targets[$0].app },
            implement: changed.filter { $0.decision == .implement },
            stub: changed.filter { $0.decision == .stub },
            fake: changed.filter { $0.decision == .fake },
            newlySupported: node.added.map { model.targets[$0].app },
            supportedCount: state.members.count, implementedCount: state.implemented.count, cost: state.cost)
    }

    /// Why syscall `i` gets `decision` in `state`, naming the first members (by name) concerned.
    private func reason(_ i: Int, _ decision: Decision, _ state: PlanState) -> String {
        func first(_ sets: [Bits]) -> String? {
            (0..<model.appCount).first { state.members.contains($0) && sets[$0].contains(i) }.map { model.targets[$0].app }
        }
        switch decision {
        case .implement:
            if let app = first(model.required) { return "required by \(app)" }
            return "stub-only for \(first(model.stubOnly) ?? "?"), fake-only for \(first(model.fakeOnly) ?? "?")"
        case .fake:
            if let app = first(model.fakeOnly) { return "fake-only for \(app)" }
            return "stub or fake for every supported app"
        case .stub:
            if let app = first(model.stubOnly) { return "stub-only for \(app)" }
            return "stub or fake for every supported app"
        }
    }
}
