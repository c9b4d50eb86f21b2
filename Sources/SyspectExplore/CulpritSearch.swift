import SyspectCore

/// Thrown by an oracle when the outcome of a set is not known yet: the caller must run probes of
/// `policy` and ask again.
public struct NeedsProbe: Error, Sendable, Hashable {
    public var policy: ProbePolicy
}

/// Zeller's delta debugging (ddmin): a 1-minimal failing subset of `items`, given that `items`
/// fails and the empty set passes. `passes` returns whether a subset passes (and may throw, e.g.
/// `NeedsProbe`, to suspend the search; re-running it later with more knowledge continues where
/// it stopped, since the search is deterministic).
public func ddmin<T: Hashable>(_ items: [T], passes: ([T]) throws -> Bool) rethrows -> [T] {
    var c = items
    var n = 2
    while c.count >= 2 {
        let chunks = split(c, into: n)
        var reduced = false
        for chunk in chunks where try !passes(chunk) {
            c = chunk
            n = 2
            reduced = true
            break
        }
        if !reduced && chunks.count > 2 {
            // Complements are only distinct from chunks when there are more than two chunks.
            for i in chunks.indices {
                let complement = chunks.enumerated().filter { $0.offset != i }.flatMap(\.element)
                if try !passes(complement) {
                    c = complement
                    n = max(n - 1, 2)
                    reduced = true
                    break
                }
            }
        }
        if !reduced {
            if n >= c.count { break }
            n = min(2 * n, c.count)
        }
    }
    return c
}

/// `items` in `n` contiguous chunks of nearly equal size (none empty).
func split<T>(_ items: [T], into n: Int) -> [[T]] {
    let n = max(1, min(n, items.count))
    var result: [[T]] = []
    var start = 0
    for i in 0..<n {
        let size = (items.count - start) / (n - i)
        result.append(Array(items[start..<(start + size)]))
        start += size
    }
    return result
}

/// How one conflict of the culprit search was resolved: by giving some of its members their
/// other passing mode (no call lost), or, when no such switch passes, by dropping one member (it
/// is then counted as required).
public struct ConflictResolution: Sendable, Hashable, Codable {
    /// The 1-minimal failing combination, as found by ddmin.
    public var conflict: [Assignment]
    /// Switches tried that still failed, in the order tried; each lists the switched members
    /// in their new mode (the other members keep theirs).
    public var failedSwitches: [[Assignment]]
    /// The switch that passed: the switched members in their new mode; empty when a member was
    /// dropped.
    public var switched: [Assignment]
    /// The member dropped (counted as required); nil when a switch resolved the conflict.
    public var dropped: Assignment?

    public init(conflict: [Assignment], failedSwitches: [[Assignment]] = [], switched: [Assignment] = [], dropped: Assignment? = nil) {
        self.conflict = conflict
        self.failedSwitches = failedSwitches
        self.switched = switched
        self.dropped = dropped
    }
}

/// The result of the final all-together run and, when it failed, the culprit search.
public struct CulpritReport: Sendable, Hashable, Codable {
    /// Every stub and fake applied together passed.
    public var finalPassed: Bool
    /// The largest set found that passes together (all of them when `finalPassed`), with the
    /// modes it passed in (a switched call in its new mode).
    public var passingSet: [Assignment]
    /// Each 1-minimal failing combination found (calls that cannot be stubbed/faked together).
    public var conflicts: [[Assignment]]
    /// Assignments dropped from the set to make it pass (counted as required).
    public var dropped: [Assignment]
    /// One per conflict, in the order found: how it was resolved.
    public var resolutions: [ConflictResolution]
    /// Resolutions undone once the set passed (`FinalConfirmation.search`): a dropped call put
    /// back, or a switched call back in its first mode, as it is in the passing set (nil: a
    /// report of a syspect that did not undo).
    public var undone: [Assignment]?

    public init(finalPassed: Bool, passingSet: [Assignment], conflicts: [[Assignment]], dropped: [Assignment],
                resolutions: [ConflictResolution] = [], undone: [Assignment]? = nil) {
        self.finalPassed = finalPassed
        self.passingSet = passingSet
        self.conflicts = conflicts
        self.dropped = dropped
        self.resolutions = resolutions
        self.undone = undone
    }

    /// Calls whose mode was switched to resolve a conflict (and not switched back), with the
    /// mode the set passed in.
    public var switched: [Assignment] {
        let back = Set((undone ?? []).map(\.number))
        return resolutions.flatMap(\.switched).filter { !back.contains($0.number) }.sorted()
    }

    /// How many stubs and fakes the final run applied together (before any was dropped).
    public var appliedCount: Int { passingSet.count + dropped.count }
}

/// The final confirmation (paper section 3.1) and automatic culprit search.
public enum FinalConfirmation {
    /// The assignments the final run applies: every call that can be stubbed is stubbed (stub for
    /// `either`: the call then needs no implementation at all), every fake-only call faked.
    public static func assignments(_ verdicts: [Int: Verdict]) -> [Assignment] {
        verdicts.compactMap { number, verdict -> Assignment? in
            if verdict.canStub { return Assignment(number, .stub) }
            if verdict.canFake { return Assignment(number, .fake) }
            return nil
        }.sorted()
    }

    /// Most mode switches tried per conflict before a member is dropped.
    public static let maxSwitchesPerConflict = 7

    /// Runs the search against `passes`: the full set first; while the current set fails, ddmin
    /// finds a 1-minimal failing subset (a conflict) and the conflict is resolved with the least
    /// loss:
    ///
    /// 1. Switches first (they leave no call required): members whose single-call verdict in
    ///    `verdicts` is `either` and whose mode was not switched before get their other mode,
    ///    the conflict with that switch is probed, and the first switch that passes is kept.
    ///    Order: fewer switched members first (the smallest change, and fewer fakes, since the
    ///    final run stubs every `either` call), then by ascending call numbers; at most
    ///    `maxSwitchesPerConflict` switches. A switched member keeps its new mode for the rest
    ///    of the search (so the search always ends).
    /// 2. Only when no switch passes is one member dropped (every member's drop resolves a
    ///    1-minimal conflict, each costs one call): the one with the highest call number, so a
    ///    conflict without alternatives is resolved as before this rule existed and older
    ///    journals replay unchanged.
    ///
    /// Then the whole (changed) set is tried again. Once it passes, with `undo`, each resolution
    /// is undone if the set still passes without it, in the order made: a resolution that a
    /// later one made unnecessary (a switch of a call whose partner was dropped later) no
    /// longer costs a mode, or a call, so the result depends less on which conflict was met
    /// first. Deterministic: with a journal-backed oracle that throws `NeedsProbe` for unknown
    /// sets, calling it again after running that probe resumes. Empty `verdicts`: no switch is
    /// tried (drop only). `undo` false: as syspect ran before undoing existed (older journals).
    public static func search(_ items: [Assignment], verdicts: [Int: Verdict], undo: Bool = true,
                              passes: (ProbePolicy) throws -> Bool) throws -> CulpritReport {
        var current = items.sorted()
        var conflicts: [[Assignment]] = []
        var dropped: [Assignment] = []
        var resolutions: [ConflictResolution] = []
        var pinned: Set<Int> = []
        func test(_ set: [Assignment]) throws -> Bool {
            set.isEmpty ? true : try passes(ProbePolicy(assignments: set))
        }
        var finalPassed = true
        while !current.isEmpty {
            if try test(current) { break }
            finalPassed = false
            let conflict = try ddmin(current, passes: test)
            conflicts.append(conflict)
            var resolution = ConflictResolution(conflict: conflict)
            for switchSet in switches(conflict, verdicts: verdicts, pinned: pinned) {
                let switched = conflict.map { switchSet.contains($0) ? $0.switched : $0 }.sorted()
                if try test(switched) {
                    resolution.switched = switchSet.map(\.switched).sorted()
                    break
                }
                resolution.failedSwitches.append(switchSet.map(\.switched).sorted())
            }
            if resolution.switched.isEmpty {
                let drop = conflict.max()!
                resolution.dropped = drop
                dropped.append(drop)
                current.removeAll { $0 == drop }
            } else {
                let byNumber = Dictionary(uniqueKeysWithValues: resolution.switched.map { ($0.number, $0) })
                current = current.map { byNumber[$0.number] ?? $0 }.sorted()
                pinned.formUnion(byNumber.keys)
            }
            resolutions.append(resolution)
        }
        guard undo, !resolutions.isEmpty else {
            return CulpritReport(finalPassed: finalPassed, passingSet: current, conflicts: conflicts, dropped: dropped,
                                 resolutions: resolutions)
        }
        var undone: [Assignment] = []
        for resolution in resolutions {
            let back = resolution.dropped.map { [$0] } ?? resolution.switched.map(\.switched)
            let numbers = Set(back.map(\.number))
            let trial = (current.filter { !numbers.contains($0.number) } + back).sorted()
            guard try test(trial) else { continue }
            current = trial
            undone += back
            dropped.removeAll { numbers.contains($0.number) }
        }
        return CulpritReport(finalPassed: finalPassed, passingSet: current, conflicts: conflicts, dropped: dropped,
                             resolutions: resolutions, undone: undone.sorted())
    }

    /// The switches worth trying for `conflict`, in the order tried (see `search`): non-empty
    /// subsets of its members that may take their other mode (verdict `either`, not pinned).
    static func switches(_ conflict: [Assignment], verdicts: [Int: Verdict], pinned: Set<Int>) -> [[Assignment]] {
        let movable = conflict.filter { verdicts[$0.number] == .either && !pinned.contains($0.number) }.sorted()
        guard !movable.isEmpty else { return [] }
        var result: [[Assignment]] = []
        for size in 1...movable.count {
            for subset in combinations(movable, size) {
                if result.count == maxSwitchesPerConflict { return result }
                result.append(subset)
            }
        }
        return result
    }

    /// The `k`-element subsets of `items`, lexicographic in their order.
    static func combinations<T>(_ items: [T], _ k: Int) -> [[T]] {
        guard k > 0 else { return [[]] }
        guard items.count >= k else { return [] }
        var result: [[T]] = []
        for (i, first) in items.enumerated() {
            guard items.count - i >= k else { break }
            for rest in combinations(Array(items[(i + 1)...]), k - 1) { result.append([first] + rest) }
        }
        return result
    }

    /// Verdicts once the culprit search is done: calls whose assignment had to be dropped can no
    /// longer be counted on as stubbable/fakeable together with the others, so they become
    /// `required` (conservative; their single-call probes stay in the journal); an `either` call
    /// whose mode was switched keeps only the mode the set passed in (`fake` when its stub
    /// conflicted), so a plan built from the measurement applies what worked together.
    public static func confirmedVerdicts(_ verdicts: [Int: Verdict], report: CulpritReport) -> [Int: Verdict] {
        var result = verdicts
        for a in report.switched { result[a.number] = a.mode == .stub ? .stub : .fake }
        for a in report.dropped { result[a.number] = .required }
        return result
    }
}

extension Assignment {
    /// The same call in the other mode.
    public var switched: Assignment { Assignment(number, mode == .stub ? .fake : .stub) }
}
