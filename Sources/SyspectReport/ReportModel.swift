import SyspectCore
import SyspectPlan

/// How one system call box of an application's grid is coloured (the paper's Figure 5).
public enum BoxStatus: String, Sendable, Codable, CaseIterable {
    /// Traced, and neither stubbing nor faking passes.
    case required
    /// Traced; only stubbing (-ENOSYS) passes.
    case stub
    /// Traced; only faking (a success value) passes.
    case fake
    /// Traced; stubbing and faking both pass.
    case either
    /// Traced, but not explored (no stub/fake verdict yet): a census only.
    case traced
    /// Not invoked by the workload.
    case untraced

    public init(_ verdict: Verdict) {
        switch verdict {
        case .required: self = .required
        case .stub: self = .stub
        case .fake: self = .fake
        case .either: self = .either
        }
    }

    /// The legend's wording.
    public var label: String {
        switch self {
        case .required: return "required"
        case .stub: return "stub passes"
        case .fake: return "fake passes"
        case .either: return "stub or fake passes"
        case .traced: return "traced only (not explored)"
        case .untraced: return "not traced"
        }
    }
}

/// One application under one workload, as drawn in the grids and bars.
public struct ReportedRun: Sendable, Hashable, Codable {
    /// Verdicts of the traced calls (and static-analysis counts where known).
    public var measurement: Measurement
    /// Calls traced by a census but without a verdict (no exploration yet), x86-64 numbers.
    public var tracedOnly: Set<Int>

    public init(measurement: Measurement, tracedOnly: Set<Int> = []) {
        self.measurement = measurement
        self.tracedOnly = tracedOnly.subtracting(measurement.verdicts.keys)
    }

    /// The status of system call `number` in this run.
    public func status(of number: Int) -> BoxStatus {
        if let verdict = measurement.verdicts[number] { return BoxStatus(verdict) }
        return tracedOnly.contains(number) ? .traced : .untraced
    }

    /// Every traced call, with or without a verdict.
    public var tracedCount: Int { measurement.verdicts.count + tracedOnly.count }
}

/// One point of a plan curve: after implementing `syscalls` calls, `apps` applications run.
public struct PlanPoint: Sendable, Hashable, Codable {
    public var syscalls: Int
    public var apps: Int
    public init(syscalls: Int, apps: Int) {
        self.syscalls = syscalls
        self.apps = apps
    }
}

/// A support plan drawn as a curve (the paper's Figure 2): applications supported against
/// system calls implemented.
public struct PlanCurve: Sendable, Hashable, Codable {
    /// Legend label, e.g. "syspect plan".
    public var label: String
    /// Points in plan order (syscalls non-decreasing).
    public var points: [PlanPoint]
    public init(label: String, points: [PlanPoint]) {
        self.label = label
        self.points = points
    }
}

/// The plans drawn for one OS.
public struct PlanFigure: Sendable, Hashable, Codable {
    /// The OS name, e.g. "Kerla".
    public var os: String
    /// Applications in the target set.
    public var appCount: Int
    /// Applications the OS already runs before any step.
    public var initialApps: Int
    /// Our plan first, then the comparisons (greedy, naive).
    public var curves: [PlanCurve]
    public init(os: String, appCount: Int, initialApps: Int, curves: [PlanCurve]) {
        self.os = os
        self.appCount = appCount
        self.initialApps = initialApps
        self.curves = curves
    }
}

/// One row of the impact table (the paper's Table 2): what stubbing or faking a call changes in
/// the workload's metric and resource usage. Changes are relative (0.15 = +15 %); nil = no
/// measurable impact.
public struct ImpactRow: Sendable, Hashable, Codable {
    public var app: String
    public var syscall: Int
    /// `stub` or `fake`.
    public var mode: Verdict
    public var performance: Double?
    public var fileDescriptors: Double?
    public var memory: Double?
    /// Explanation, e.g. "access logs are not written anymore".
    public var note: String
    public init(app: String, syscall: Int, mode: Verdict, performance: Double?, fileDescriptors: Double?, memory: Double?, note: String = "") {
        self.app = app
        self.syscall = syscall
        self.mode = mode
        self.performance = performance
        self.fileDescriptors = fileDescriptors
        self.memory = memory
        self.note = note
    }
}

/// A verdict below the granularity of a whole call: a sub-feature (e.g. `ioctl` `TCGETS`,
/// `fcntl` `F_SETFD`) or a pseudo-file (e.g. `/proc/self/maps`).
public struct DetailRow: Sendable, Hashable, Codable {
    public var app: String
    /// For sub-features: the call's x86-64 number; nil for pseudo-files.
    public var syscall: Int?
    /// The feature (`TCGETS`) or the path (`/proc/cpuinfo`).
    public var item: String
    public var verdict: Verdict
    public init(app: String, syscall: Int?, item: String, verdict: Verdict) {
        self.app = app
        self.syscall = syscall
        self.item = item
        self.verdict = verdict
    }
}

/// Everything one report shows. Sections with no data are left out of the page.
public struct ReportInput: Sendable, Hashable, Codable {
    public var title: String
    /// Where the data came from (e.g. "bundled loupedb data (CC BY 4.0) …"); shown under the title.
    public var sourceNote: String
    /// Per application and workload: grids and bars.
    public var runs: [ReportedRun]
    /// Applications counted by `importance`.
    public var importanceAppCount: Int
    /// API importance per traced call (SyspectPlan's `APIImportance.compute`).
    public var importance: [SyscallImportance]
    public var plan: PlanFigure?
    public var impact: [ImpactRow]
    public var subFeatures: [DetailRow]
    public var pseudoFiles: [DetailRow]

    public init(
        title: String = "syspect report", sourceNote: String = "", runs: [ReportedRun],
        importanceAppCount: Int = 0, importance: [SyscallImportance] = [], plan: PlanFigure? = nil,
        impact: [ImpactRow] = [], subFeatures: [DetailRow] = [], pseudoFiles: [DetailRow] = []
    ) {
        self.title = title
        self.sourceNote = sourceNote
        self.runs = runs
        self.importanceAppCount = importanceAppCount
        self.importance = importance
        self.plan = plan
        self.impact = impact
        self.subFeatures = subFeatures
        self.pseudoFiles = pseudoFiles
    }
}
