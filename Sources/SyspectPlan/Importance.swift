import SyspectCore

/// The API importance of one syscall (the paper's Figure 3): among the applications considered,
/// how many require it (traced, and neither stub nor fake passes) and how many merely trace it
/// (what a naive dynamic analysis would call "needed").
public struct SyscallImportance: Sendable, Hashable, Codable {
    public var number: Int
    public var name: String
    /// Applications that require it / trace it.
    public var requiredBy: Int
    public var tracedBy: Int
    /// Applications considered.
    public var appCount: Int

    /// Shares in 0...1.
    public var requiredShare: Double { appCount == 0 ? 0 : Double(requiredBy) / Double(appCount) }
    public var tracedShare: Double { appCount == 0 ? 0 : Double(tracedBy) / Double(appCount) }
}

public enum APIImportance {
    /// Importance of every syscall traced by at least one target, most required first (then
    /// most traced, then by number). A target is one application with its selected workloads
    /// combined (see `PlanTarget`): it requires a syscall when the combination does.
    public static func compute(_ targets: [PlanTarget]) -> [SyscallImportance] {
        var required: [Int: Int] = [:]
        var traced: [Int: Int] = [:]
        for target in targets {
            for (number, verdict) in target.verdicts {
                traced[number, default: 0] += 1
                if verdict.isRequired { required[number, default: 0] += 1 }
            }
        }
        return traced.keys.map { number in
            SyscallImportance(
                number: number, name: SyscallTable.displayName(of: number),
                requiredBy: required[number] ?? 0, tracedBy: traced[number]!, appCount: targets.count)
        }.sorted {
            ($0.requiredBy, $0.tracedBy, -$0.number) > ($1.requiredBy, $1.tracedBy, -$1.number)
        }
    }

    /// How many syscalls must be implemented to support every target (required by at least
    /// one), and how many a naive analysis would say (traced by at least one) — the paper's
    /// "148 vs 180".
    public static func totals(_ rows: [SyscallImportance]) -> (required: Int, traced: Int) {
        (rows.filter { $0.requiredBy > 0 }.count, rows.count)
    }
}
