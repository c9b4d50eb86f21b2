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

/// The result of the final all-together run and, when it failed, the culprit search.
public struct CulpritReport: Sendable, Hashable, Codable {
    /// Every stub and fake applied together passed.
    public var finalPassed: Bool
    /// The largest set found that passes together (all of them when `finalPassed`).
    public var passingSet: [Assignment]
    /// Each 1-minimal failing combination found (calls that cannot be stubbed/faked together).
    public var conflicts: [[Assignment]]
    /// Assignments dropped from the set to make it pass, one per conflict.
    public var dropped: [Assignment]

    public init(finalPassed: Bool, passingSet: [Assignment], conflicts: [[Assignment]], dropped: [Assignment]) {
        self.finalPassed = finalPassed
        self.passingSet = passingSet
        self.conflicts = conflicts
        self.dropped = dropped
    }
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

    /// Runs the search against `passes`: the full set first; while the current set fails, ddmin
    /// finds a 1-minimal failing subset (a conflict), its last assignment (highest call number)
    /// is dropped, and the rest is tried again. Deterministic: with a journal-backed oracle that
    /// throws `NeedsProbe` for unknown sets, calling it again after running that probe resumes.
    public static func search(_ items: [Assignment], passes: (ProbePolicy) throws -> Bool) throws -> CulpritReport {
        var current = items.sorted()
        var conflicts: [[Assignment]] = []
        var dropped: [Assignment] = []
        func test(_ set: [Assignment]) throws -> Bool {
            set.isEmpty ? true : try passes(ProbePolicy(assignments: set))
        }
        var finalPassed = true
        while !current.isEmpty {
            if try test(current) { break }
            if conflicts.isEmpty { finalPassed = false }
            let conflict = try ddmin(current, passes: test)
            conflicts.append(conflict)
            let drop = conflict.max()!
            dropped.append(drop)
            current.removeAll { $0 == drop }
        }
        return CulpritReport(finalPassed: finalPassed, passingSet: current, conflicts: conflicts, dropped: dropped)
    }

    /// Verdicts once the culprit search is done: calls whose assignment had to be dropped can no
    /// longer be counted on as stubbable/fakeable together with the others, so they become
    /// `required` (conservative; their single-call probes stay in the journal).
    public static func confirmedVerdicts(_ verdicts: [Int: Verdict], report: CulpritReport) -> [Int: Verdict] {
        var result = verdicts
        for a in report.dropped { result[a.number] = .required }
        return result
    }
}
