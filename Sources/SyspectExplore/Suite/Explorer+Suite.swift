import Foundation
import SyspectCore

/// Why a suite cannot be explored test case by test case.
public enum SuiteError: Error, Sendable, CustomStringConvertible, Equatable {
    /// Every baseline replica passed, but no test case passed in all of them.
    case noStableTestCase(flaky: Int, directory: String)
    /// Some baseline replicas left results, others none.
    case resultsMissing(replicas: Int, of: Int, directory: String)

    public var description: String {
        switch self {
        case .noStableTestCase(let flaky, let dir):
            return "no test case passed in every baseline replica (\(flaky) passed in some only: flaky); "
                + "nothing can be judged, make the suite deterministic first (logs: \(dir))"
        case .resultsMissing(let some, let all, let dir):
            return "only \(some) of \(all) baseline replicas left test results; check that the suite writes its "
                + "result files every time (logs: \(dir))"
        }
    }
}

extension Explorer {
    /// The test case criterion of a suite spec from its baseline replicas' passing cases (nil
    /// for a replica that left no result): nil when the spec is no suite or no replica left a
    /// result (the exit status is then the criterion).
    static func suiteCriterion(baselines: [Set<String>?], spec: AppSpec, directory: String? = nil) throws -> SuiteCriterion? {
        guard spec.suite != nil, !baselines.isEmpty else { return nil }
        let found = baselines.compactMap { $0 }
        guard !found.isEmpty else { return nil }
        let dir = directory ?? "the baseline's probe folders"
        guard found.count == baselines.count else {
            throw SuiteError.resultsMissing(replicas: found.count, of: baselines.count, directory: dir)
        }
        let criterion = SuiteCriterion(baselines: found.map { SuiteResults(cases: Dictionary(uniqueKeysWithValues: $0.map { ($0, .pass) })) })
        guard !criterion.mustPass.isEmpty else { throw SuiteError.noStableTestCase(flaky: criterion.flaky.count, directory: dir) }
        return criterion
    }
}

/// Which test cases broke when a call alone was stubbed or faked (`syspect show`), from the
/// journal alone (pure): the failing probes of a single call (`stub:N`, `fake:N`) and the
/// must-pass cases they stored. Group probes are left out: they do not tell which call broke.
public struct SuiteBreakage: Sendable, Hashable, Codable {
    public struct Entry: Sendable, Hashable, Codable {
        public var number: Int
        public var mode: Mode
        /// The must-pass cases that did not pass, over the call's failing replicas.
        public var cases: [String]
    }
    public var entries: [Entry]

    public init(probes: [ProbeRecord]) {
        var byCall: [String: (Int, Mode, Set<String>)] = [:]
        for probe in probes where probe.outcome == .fail && !probe.brokenCases.isEmpty {
            guard let policy = ProbePolicy(key: probe.policy), policy.count == 1,
                  let (number, mode) = policy.stub.first.map({ ($0, Mode.stub) }) ?? policy.fake.first.map({ ($0, Mode.fake) })
            else { continue }
            let id = "\(number):\(mode.rawValue)"
            byCall[id, default: (number, mode, [])].2.formUnion(probe.brokenCases)
        }
        entries = byCall.values.map { Entry(number: $0.0, mode: $0.1, cases: $0.2.sorted()) }
            .sorted { ($0.number, $0.mode.rawValue) < ($1.number, $1.mode.rawValue) }
    }
}
