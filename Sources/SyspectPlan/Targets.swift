import SyspectCore

/// Which workloads of each application count (`--workload`).
public enum WorkloadSelection: String, Sendable, Codable, CaseIterable {
    /// Benchmarks only (`benchmark-*` folders); apps without a benchmark are left out.
    case benchmark
    /// Test suites only (`suite`, `suite-*`); apps without a suite are left out.
    case suite
    /// Every workload of the app (health checks included).
    case all

    public func includes(_ kind: WorkloadKind) -> Bool {
        switch self {
        case .benchmark: return kind == .benchmark
        case .suite: return kind == .suite
        case .all: return true
        }
    }
}

/// One application to support: what it tolerates for each traced syscall, over the selected
/// workloads combined. An app with several selected workloads is one target that must pass
/// all of them: a syscall traced by any workload is traced, and its verdict is the meet of the
/// workloads' verdicts (stub passes only if it passes for every workload that traced it, same
/// for fake; so stub-only in one workload and fake-only in another means required).
public struct PlanTarget: Sendable, Hashable, Codable {
    /// Application name.
    public var app: String
    /// The workloads combined, e.g. ["benchmark-wrk", "suite-nginx-tests"].
    public var workloads: [String]
    /// Traced syscall → what the app tolerates.
    public var verdicts: [Int: Verdict]
    /// Syscalls required only because workloads disagree (stub-only in one, fake-only in
    /// another). The original tool keeps one of the two instead.
    public var workloadConflicts: Set<Int>

    public init(app: String, workloads: [String], verdicts: [Int: Verdict], workloadConflicts: Set<Int> = []) {
        self.app = app
        self.workloads = workloads
        self.verdicts = verdicts
        self.workloadConflicts = workloadConflicts
    }

    /// Builds one target per app from measurements, keeping the selected workload kinds.
    /// Sorted by app name; apps with no selected workload are absent.
    public static func targets(from measurements: [Measurement], workload: WorkloadSelection) -> [PlanTarget] {
        let selected = measurements.filter { workload.includes($0.kind) }
        return Dictionary(grouping: selected, by: \.app).map { app, runs in
            let sorted = runs.sorted { $0.workload < $1.workload }
            var verdicts: [Int: Verdict] = [:]
            var conflicts = Set<Int>()
            for run in sorted {
                for (number, verdict) in run.verdicts {
                    let before = verdicts[number]
                    let after = before.map { $0.meet(verdict) } ?? verdict
                    if after == .required && before != .required && verdict != .required && before != nil {
                        conflicts.insert(number)
                    }
                    verdicts[number] = after
                }
            }
            return PlanTarget(app: app, workloads: sorted.map(\.workload), verdicts: verdicts, workloadConflicts: conflicts)
        }.sorted { $0.app < $1.app }
    }
}

extension Verdict {
    /// What passes under both workloads: stub only if both tolerate stub, fake only if both
    /// tolerate fake.
    public func meet(_ other: Verdict) -> Verdict {
        Verdict(stubPasses: canStub && other.canStub, fakePasses: canFake && other.canFake)
    }
}
