import SyspectCore

/// What to do with the sub-features of one system call a plan step implements, merged over
/// the planned applications whose explorations probed them (issue 5): "implement fcntl F_SETFL,
/// stub fcntl F_SETFD".
public struct FeatureAdvice: Codable, Sendable, Hashable {
    public var step: Int
    public var syscall: Int
    /// Sub-feature names (e.g. "F_SETFL") some application requires.
    public var implement: [String]
    /// Every application that used it can do with -ENOSYS.
    public var stub: [String]
    /// Every application that used it can do with a fake success (and not all with a stub).
    public var fake: [String]
    /// Stub for some applications, fake for others: neither serves all; implement it.
    public var conflicting: [String]

    public init(step: Int, syscall: Int, implement: [String], stub: [String], fake: [String], conflicting: [String]) {
        self.step = step
        self.syscall = syscall
        self.implement = implement
        self.stub = stub
        self.fake = fake
        self.conflicting = conflicting
    }

    public var isEmpty: Bool { implement.isEmpty && stub.isEmpty && fake.isEmpty && conflicting.isEmpty }
}

public enum FeatureAdvisor {
    /// The advice for every call the plan's steps implement; `findings` holds, per application,
    /// its explored sub-features (unprobed ones, verdict nil, are ignored). Applications outside
    /// the plan are ignored; calls without probed sub-features get no advice.
    public static func advice(for plan: SupportPlan, findings: [String: [FeatureFinding]]) -> [FeatureAdvice] {
        let planned = Set(plan.apps)
        // syscall → feature name → verdict per app.
        var verdicts: [Int: [String: [Verdict]]] = [:]
        for (app, list) in findings where planned.contains(app) {
            for f in list {
                guard let v = f.verdict else { continue }
                verdicts[f.use.feature.syscall, default: [:]][f.use.feature.name, default: []].append(v)
            }
        }
        return plan.steps.flatMap { step in
            step.implement.compactMap { decided -> FeatureAdvice? in
                guard let byName = verdicts[decided.number] else { return nil }
                var a = FeatureAdvice(step: step.step, syscall: decided.number, implement: [], stub: [], fake: [], conflicting: [])
                for (name, vs) in byName.sorted(by: { $0.key < $1.key }) {
                    if vs.contains(.required) {
                        a.implement.append(name)
                    } else if vs.allSatisfy(\.canStub) {
                        a.stub.append(name)
                    } else if vs.allSatisfy(\.canFake) {
                        a.fake.append(name)
                    } else {
                        a.conflicting.append(name)
                    }
                }
                return a
            }
        }
    }

    /// "step 2 implement fcntl: implement F_SETFL; stub F_SETFD, F_GETFD; fake …; conflicting …".
    public static func line(_ a: FeatureAdvice) -> String {
        let parts = [("implement", a.implement), ("stub", a.stub), ("fake", a.fake), ("implement (stub/fake conflict)", a.conflicting)]
            .filter { !$0.1.isEmpty }.map { "\($0.0) \($0.1.joined(separator: ", "))" }
        return "step \(a.step) implement \(SyscallTable.displayName(of: a.syscall)): " + parts.joined(separator: "; ")
    }
}
