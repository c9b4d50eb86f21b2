/// What a workload tolerates for one traced system call (or sub-feature, or pseudo-file).
///
/// - `stub`: passes when the call returns `-ENOSYS` without running, not when faked.
/// - `fake`: passes when the call returns a success value without running, not when stubbed.
/// - `either`: passes both ways. `required`: passes neither way.
public enum Verdict: String, Codable, Sendable, CaseIterable, Comparable {
    case required
    case stub
    case fake
    case either

    public init(stubPasses: Bool, fakePasses: Bool) {
        switch (stubPasses, fakePasses) {
        case (true, true): self = .either
        case (true, false): self = .stub
        case (false, true): self = .fake
        case (false, false): self = .required
        }
    }

    public var canStub: Bool { self == .stub || self == .either }
    public var canFake: Bool { self == .fake || self == .either }
    /// Neither stubbing nor faking works: the OS must implement the call.
    public var isRequired: Bool { self == .required }

    public static func < (a: Verdict, b: Verdict) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// The kind of workload, as in the paper: a health check, a benchmark, or a test suite.
public enum WorkloadKind: String, Codable, Sendable, CaseIterable {
    case health
    case benchmark
    case suite
}

/// What one application needs under one workload: its traced system calls and their verdicts.
/// This is the unit that the store keeps, loupedb holds one per run folder, and plans consume.
public struct Measurement: Codable, Sendable, Hashable {
    /// Application name, e.g. "redis".
    public var app: String
    /// Workload name, e.g. "benchmark-redis-benchmark" or "suite" (loupedb folder names).
    public var workload: String
    public var kind: WorkloadKind
    /// Every traced x86-64 system call number and its verdict.
    public var verdicts: [Int: Verdict]
    /// Static-analysis upper bounds where known (loupedb's static_binary / static_sources).
    public var staticBinary: Set<Int>?
    public var staticSources: Set<Int>?
    /// Where this came from: "loupedb:<run folder>" or "syspect".
    public var source: String

    public init(
        app: String, workload: String, kind: WorkloadKind, verdicts: [Int: Verdict],
        staticBinary: Set<Int>? = nil, staticSources: Set<Int>? = nil, source: String
    ) {
        self.app = app
        self.workload = workload
        self.kind = kind
        self.verdicts = verdicts
        self.staticBinary = staticBinary
        self.staticSources = staticSources
        self.source = source
    }

    /// Traced system calls, ascending.
    public var traced: [Int] { verdicts.keys.sorted() }
    /// Traced calls that can be neither stubbed nor faked.
    public var required: [Int] { traced.filter { verdicts[$0]!.isRequired } }

    /// Count of traced calls per verdict (the paper's Figure 4 bars).
    public var counts: [Verdict: Int] {
        var c: [Verdict: Int] = [:]
        for v in verdicts.values { c[v, default: 0] += 1 }
        return c
    }

    /// "app/workload", the key used across the CLI.
    public var id: String { "\(app)/\(workload)" }
}

extension WorkloadKind {
    /// The kind a loupedb workload folder name implies (`benchmark-*`, `suite`, `suite-*`).
    public init(loupedbWorkload name: String) {
        if name.hasPrefix("suite") {
            self = .suite
        } else if name.hasPrefix("health") {
            self = .health
        } else {
            self = .benchmark
        }
    }
}
