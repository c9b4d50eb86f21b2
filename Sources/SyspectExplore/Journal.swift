import SyspectCore

/// What is known so far: the outcome of every finished (policy, replica) pair, read from the
/// store's probe journal. Strategies and the culprit search are pure functions of a journal, so
/// an interrupted explore resumes by loading the journal and asking them what is still missing.
public struct Journal: Sendable, Hashable {
    /// Policy key → replica → outcome (`pass` or `fail`; `error` probes are not evidence and are
    /// left out, so they run again).
    public private(set) var outcomes: [String: [Int: ProbeOutcome]] = [:]
    /// Finished probes counted (pass or fail).
    public private(set) var count = 0

    public init() {}

    public init(_ records: [ProbeRecord]) {
        for r in records { add(r) }
    }

    public mutating func add(_ record: ProbeRecord) {
        add(policy: record.policy, replica: record.replica, outcome: record.outcome)
    }

    public mutating func add(policy: String, replica: Int, outcome: ProbeOutcome) {
        guard outcome != .error else { return }
        if outcomes[policy, default: [:]].updateValue(outcome, forKey: replica) == nil { count += 1 }
    }

    public func outcome(_ request: ProbeRequest) -> ProbeOutcome? {
        outcomes[request.policy.key]?[request.replica]
    }

    public func isFinished(_ request: ProbeRequest) -> Bool { outcome(request) != nil }

    /// The merged status of `policy` over replicas 1...`replicas` (see `PolicyStatus.merge`).
    public func status(_ policy: ProbePolicy, replicas: Int) -> PolicyStatus {
        PolicyStatus.merge((1...replicas).map { outcomes[policy.key]?[$0] })
    }

    /// An oracle for the culprit search: whether `policy` passed, or `NeedsProbe` while pending.
    public func passes(_ policy: ProbePolicy, replicas: Int) throws(NeedsProbe) -> Bool {
        switch status(policy, replicas: replicas) {
        case .passed: return true
        case .failed: return false
        case .pending: throw NeedsProbe(policy: policy)
        }
    }
}

/// The conservative merge of one policy's replicas.
public enum PolicyStatus: Sendable, Hashable {
    /// Every replica passed.
    case passed
    /// At least one replica failed: the policy does not pass, whatever the others say.
    case failed
    /// No failure yet, but some replicas have not run.
    case pending

    /// Any failing replica → failed; all passed → passed; otherwise pending. `nil` = not run yet.
    public static func merge(_ replicas: [ProbeOutcome?]) -> PolicyStatus {
        if replicas.contains(where: { $0 == .fail }) { return .failed }
        if !replicas.isEmpty && replicas.allSatisfy({ $0 == .pass }) { return .passed }
        return .pending
    }
}

extension Verdict {
    /// The verdict of one call from its stub and fake statuses; nil while either is pending.
    public init?(stub: PolicyStatus, fake: PolicyStatus) {
        guard stub != .pending, fake != .pending else { return nil }
        self.init(stubPasses: stub == .passed, fakePasses: fake == .passed)
    }
}
