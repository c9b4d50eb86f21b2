import SyspectCore
import SyspectPlan
import Testing

/// `plan --features`: per syscall a step implements, which sub-features to implement, stub or fake.
@Suite struct FeatureAdviceTests {
    static func finding(_ syscall: Int, _ name: String, _ verdict: Verdict?) -> FeatureFinding {
        FeatureFinding(use: FeatureUse(feature: SubFeature(
            syscall: syscall, argument: "cmd", name: name, match: .arguments([ArgumentCondition(index: 1, value: 1)])), calls: 1),
            verdict: verdict)
    }

    /// Two apps need fcntl (72) implemented; their sub-features merge: required by any →
    /// implement; stub for all → stub; fake for all → fake; stub-only vs fake-only → conflict.
    @Test func mergesOverThePlannedApps() throws {
        let targets = ["a", "b"].map { PlanTarget(app: $0, workloads: ["benchmark-x"], verdicts: [0: .required, 72: .required]) }
        let plan = try Planner.plan(targets: targets, os: OSSupport(name: "os", syscalls: [0]))
        let findings: [String: [FeatureFinding]] = [
            "a": [Self.finding(72, "F_SETFL", .required), Self.finding(72, "F_SETFD", .stub), Self.finding(72, "F_GETFL", .fake),
                  Self.finding(72, "F_GETFD", .stub), Self.finding(72, "F_DUPFD", nil)],
            "b": [Self.finding(72, "F_SETFL", .either), Self.finding(72, "F_SETFD", .either), Self.finding(72, "F_GETFL", .either),
                  Self.finding(72, "F_GETFD", .fake)],
            "not-planned": [Self.finding(72, "F_SETLK", .required)],
        ]
        let advice = FeatureAdvisor.advice(for: plan, findings: findings)
        let step = try #require(plan.steps.first { $0.implement.contains { $0.number == 72 } })
        #expect(advice == [FeatureAdvice(step: step.step, syscall: 72, implement: ["F_SETFL"], stub: ["F_SETFD"],
                                         fake: ["F_GETFL"], conflicting: ["F_GETFD"])])
        #expect(FeatureAdvisor.line(advice[0])
            == "step \(step.step) implement fcntl: implement F_SETFL; stub F_SETFD; fake F_GETFL; implement (stub/fake conflict) F_GETFD")
    }

    @Test func noAdviceWithoutProbedSubFeatures() throws {
        let targets = [PlanTarget(app: "a", workloads: ["benchmark-x"], verdicts: [72: .required])]
        let plan = try Planner.plan(targets: targets, os: OSSupport(name: "os", syscalls: []))
        #expect(FeatureAdvisor.advice(for: plan, findings: ["a": [Self.finding(72, "F_SETFL", nil)]]).allSatisfy { $0.isEmpty })
        #expect(FeatureAdvisor.advice(for: plan, findings: [:]).isEmpty)
    }
}
