import SyspectCore

/// `plan --strict-impact`: stubs and fakes whose impact was flagged count as not working.
public enum StrictImpact {
    /// One verdict taken down by a flagged impact.
    public struct Change: Sendable, Hashable {
        public var app: String
        public var workload: String
        public var syscall: Int
        public var from: Verdict
        public var to: Verdict
        /// The flagged measures per mode, e.g. ["fake": ["fds"]].
        public var flagged: [String: [ImpactMeasure]]
    }

    /// `verdict` without the modes flagged in `results` (of one call): a flagged stub leaves
    /// `fake` of an `either` and makes a `stub` required; the same for fakes.
    public static func verdict(_ verdict: Verdict, flaggedModes: Set<String>) -> Verdict {
        let stub = (verdict == .stub || verdict == .either) && !flaggedModes.contains("stub")
        let fake = (verdict == .fake || verdict == .either) && !flaggedModes.contains("fake")
        return Verdict(stubPasses: stub, fakePasses: fake)
    }

    /// `measurements` with the flagged stubs and fakes of `impact` (results per app and
    /// workload: the latest exploration's) taken away; measurements of other (app, workload)
    /// pairs are left as they are.
    public static func apply(
        _ measurements: [Measurement], impact: [String: [String: [ImpactResult]]]
    ) -> (measurements: [Measurement], changes: [Change]) {
        var changes: [Change] = []
        let adjusted = measurements.map { m -> Measurement in
            guard let results = impact[m.app]?[m.workload] else { return m }
            var copy = m
            for (syscall, flagged) in Dictionary(grouping: results.filter(\.flagged), by: \.syscall) {
                guard let before = m.verdicts[syscall] else { continue }
                let after = verdict(before, flaggedModes: Set(flagged.map(\.mode)))
                guard after != before else { continue }
                copy.verdicts[syscall] = after
                changes.append(Change(
                    app: m.app, workload: m.workload, syscall: syscall, from: before, to: after,
                    flagged: Dictionary(uniqueKeysWithValues: flagged.map { ($0.mode, $0.comparisons.filter(\.flagged).map(\.measure)) })))
            }
            return copy
        }
        return (adjusted, changes.sorted { ($0.app, $0.workload, $0.syscall) < ($1.app, $1.workload, $1.syscall) })
    }
}
