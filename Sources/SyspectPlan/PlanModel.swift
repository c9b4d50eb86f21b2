import SyspectCore

/// The planning problem in compact form: targets' needs as bit sets over the syscalls some
/// target traces and the OS lacks. Everything the searches do is bit arithmetic on this.
///
/// Semantics (header semantics, see docs/plan.md): for a set A of supported apps,
/// a missing syscall must be implemented iff some app in A requires it, or some app in A
/// tolerates only stub and another only fake. Otherwise it is faked if some app in A tolerates
/// only fake, else stubbed. The cost of A is the summed cost of those implemented syscalls; it
/// depends on A alone, so search states are app sets.
struct PlanModel {
    let targets: [PlanTarget]
    let os: OSSupport
    /// Compact index → syscall number (ascending numbers).
    let universe: [Int]
    let weight: [Double]
    let uniform: Bool
    /// Per target: syscalls (missing from the OS) it requires, tolerates only stubbed, only faked.
    let required: [Bits]
    let stubOnly: [Bits]
    let fakeOnly: [Bits]
    let traced: [Bits]
    /// Syscalls more targets tolerate only faked than only stubbed: shown as fake (not stub)
    /// when every supported app tolerates both, so fewer decisions change later.
    let preferFake: Bits

    init(targets: [PlanTarget], os: OSSupport, costs: SyscallCosts) throws(PlanInputError) {
        self.targets = targets
        self.os = os
        let missing = Set(targets.flatMap(\.verdicts.keys)).subtracting(os.syscalls).sorted()
        guard missing.count <= Bits.capacity else { throw .tooManySyscalls(missing.count) }
        universe = missing
        let index = Dictionary(uniqueKeysWithValues: missing.enumerated().map { ($1, $0) })
        weight = missing.map(costs.cost(of:))
        uniform = missing.allSatisfy { costs.cost(of: $0) == 1 }
        func bits(_ target: PlanTarget, _ keep: (Verdict) -> Bool) -> Bits {
            Bits(target.verdicts.compactMap { number, verdict in keep(verdict) ? index[number] : nil })
        }
        required = targets.map { bits($0) { $0 == .required } }
        stubOnly = targets.map { bits($0) { $0 == .stub } }
        fakeOnly = targets.map { bits($0) { $0 == .fake } }
        traced = targets.map { bits($0) { _ in true } }
        preferFake = Bits(missing.indices.filter { i in
            let number = missing[i]
            let verdicts = targets.compactMap { $0.verdicts[number] }
            return verdicts.filter { $0 == .fake }.count > verdicts.filter { $0 == .stub }.count
        })
    }

    var appCount: Int { targets.count }

    func cost(_ bits: Bits) -> Double {
        if uniform { return Double(bits.count) }
        return bits.indices.reduce(0) { $0 + weight[$1] }
    }
}

/// A set of supported apps and what it forces: implemented syscalls, and which syscalls some
/// member tolerates only stubbed / only faked.
struct PlanState: Hashable {
    var members: AppSet
    var implemented = Bits.empty
    var stubOnly = Bits.empty
    var fakeOnly = Bits.empty
    /// Syscalls some member traces.
    var traced = Bits.empty
    var cost: Double = 0

    init(appCount: Int) { members = AppSet(capacity: appCount) }

    /// Syscalls that adding app `a` would newly force to be implemented.
    func marginal(_ a: Int, _ m: PlanModel) -> Bits {
        (m.required[a] | (m.stubOnly[a] & fakeOnly) | (m.fakeOnly[a] & stubOnly)) - implemented
    }

    /// Adds app `a`, implementing what it forces.
    mutating func add(_ a: Int, _ m: PlanModel) {
        let extra = marginal(a, m)
        if !extra.isEmpty {
            implemented |= extra
            cost += m.cost(extra)
        }
        stubOnly |= m.stubOnly[a]
        fakeOnly |= m.fakeOnly[a]
        traced |= m.traced[a]
        members.insert(a)
    }

    /// Adds, in index order, every app that runs with nothing more implemented. One pass is
    /// enough: adding a free app never makes another app free (it only narrows stub/fake).
    mutating func close(_ m: PlanModel) -> [Int] {
        var added: [Int] = []
        for a in 0..<m.appCount where !members.contains(a) && marginal(a, m).isEmpty {
            add(a, m)
            added.append(a)
        }
        return added
    }

    /// `close` after adding one app to a state whose apps' marginals were `before` and whose
    /// implemented set then grew by `grown`. A marginal only loses what gets implemented (the
    /// stub-only/fake-only sets only grow), so an app can have become free only if its earlier
    /// marginal lies within `grown`; only those get the full check. Same result as `close`.
    mutating func close(_ m: PlanModel, before: [Bits], grown: Bits) -> [Int] {
        var added: [Int] = []
        for a in 0..<m.appCount where !members.contains(a) && (before[a] - grown).isEmpty && marginal(a, m).isEmpty {
            add(a, m)
            added.append(a)
        }
        return added
    }

    /// The decision for compact syscall `i` in this state (nil: no member traces it).
    /// A syscall every member tolerates both ways is stubbed (it returns -ENOSYS, the honest
    /// answer for a missing call) unless more targets need it faked than stubbed
    /// (`preferFake`); it changes, at no cost, when an app that tolerates only the other joins.
    func decision(_ i: Int, _ m: PlanModel) -> Decision? {
        if implemented.contains(i) { return .implement }
        if fakeOnly.contains(i) { return .fake }
        if stubOnly.contains(i) { return .stub }
        if traced.contains(i) { return m.preferFake.contains(i) ? .fake : .stub }
        return nil
    }
}
