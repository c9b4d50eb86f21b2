import Foundation
import SyspectCore
import SyspectPlan
import SyspectReport

// The values behind every page and every JSON answer of `syspect serve` (docs/serve.md).
// Plain Codable structs built by `SiteQueries` from a `SiteData` snapshot: no socket, no store.

/// The paper's Figure 4 counts of one measurement (or one app's combined verdicts).
public struct VerdictCounts: Codable, Sendable, Hashable {
    public var traced: Int
    public var required: Int
    public var stub: Int
    public var fake: Int
    public var either: Int

    public init(_ verdicts: [Int: Verdict]) {
        var r = 0, s = 0, f = 0, e = 0
        for v in verdicts.values {
            switch v {
            case .required: r += 1
            case .stub: s += 1
            case .fake: f += 1
            case .either: e += 1
            }
        }
        (traced, required, stub, fake, either) = (verdicts.count, r, s, f, e)
    }
}

/// Where a measurement came from, as the catalogue filters it.
public enum SourceKind: String, Codable, Sendable, CaseIterable {
    /// Imported from loupedb (the bundled dataset or `db import-loupedb`).
    case loupedb
    /// Measured by `syspect explore` (here, or pushed to this server).
    case syspect

    public init(source: String) {
        self = source.hasPrefix("loupedb:") ? .loupedb : .syspect
    }
}

/// The catalogue's filters (every field optional).
public struct CatalogueQuery: Codable, Sendable, Hashable {
    /// Case-insensitive substring of the application or workload name.
    public var text: String?
    public var kind: WorkloadKind?
    public var source: SourceKind?

    public init(text: String? = nil, kind: WorkloadKind? = nil, source: SourceKind? = nil) {
        self.text = text
        self.kind = kind
        self.source = source
    }
}

/// One application under one workload from one source: one row of the catalogue.
public struct CatalogueEntry: Codable, Sendable, Hashable {
    public var app: String
    public var workload: String
    public var kind: WorkloadKind
    public var source: SourceKind
    /// The stored source string ("loupedb:redis/benchmark-redis-benchmark/1", "syspect").
    public var sourceDetail: String
    public var counts: VerdictCounts
    /// Size of the static-analysis upper bound (static_binary), when known.
    public var staticBinary: Int?
    /// The store holds an exploration of this (app, workload).
    public var explored: Bool
    /// Probes journaled by the latest exploration, when explored.
    public var probes: Int?
    /// The page of this entry.
    public var href: String
}

/// The catalogue: the entries matching a query, ordered by app, workload, source.
public struct Catalogue: Codable, Sendable, Hashable {
    public var query: CatalogueQuery
    public var entries: [CatalogueEntry]
    /// Distinct applications among `entries`.
    public var apps: Int
    /// Entries before filtering.
    public var total: Int
}

/// A probe that tested one call (alone or in a group), as the per-call evidence.
public struct ProbeEvidence: Codable, Sendable, Hashable {
    public var policy: String
    public var replica: Int
    public var outcome: ProbeOutcome
    public var reason: String
    public var seconds: Double
}

/// One traced call of a workload: its verdict and the probes behind it.
public struct CallRow: Codable, Sendable, Hashable {
    public var number: Int
    public var name: String
    public var verdict: Verdict
    /// Probes whose policy stubbed or faked this call (alone or in a group); empty for loupedb data.
    public var evidence: [ProbeEvidence]
}

/// One box of the report's syscall grid (the paper's Figure 5).
public struct GridBox: Codable, Sendable, Hashable {
    public var number: Int
    public var name: String
    /// `BoxStatus` raw value: required, stub, fake, either, traced, untraced.
    public var status: String
    /// Untraced, but listed by the static analysis (static_binary or static_sources): the
    /// report's darker box.
    public var staticOnly: Bool
}

/// One sub-feature line (`explore --features`).
public struct FeatureRow: Codable, Sendable, Hashable {
    public var syscall: Int
    public var syscallName: String
    public var argument: String
    public var name: String
    public var calls: Int
    public var failures: Int
    /// nil: not probed.
    public var verdict: Verdict?
}

/// One pseudo-file line (`explore --files`).
public struct FileRow: Codable, Sendable, Hashable {
    public var path: String
    public var calls: [String: Int]
    public var failures: Int
    /// The workload passed with the file absent (ENOENT) / stubbed (ENOSYS); nil: not probed.
    public var absentPasses: Bool?
    public var stubPasses: Bool?
}

/// One stub/fake's measured impact (`explore --impact`, the paper's Table 2 row).
public struct ImpactView: Codable, Sendable, Hashable {
    public var syscall: Int
    public var name: String
    public var mode: String
    public var flagged: Bool
    /// Performance change (positive: better), file-descriptor and memory change, as fractions.
    public var performance: Double?
    public var fileDescriptors: Double?
    public var memory: Double?
    public var comparisons: [ImpactComparison]
}

/// The static-analysis upper bound of a workload, where one is known.
public struct StaticBound: Codable, Sendable, Hashable {
    /// Calls in the static set.
    public var count: Int
    /// "syspect" (its own analysis of the binaries) or "loupedb" (static_binary.csv).
    public var source: String
    /// Traced calls the static set does not hold (an analysis or tracing error when not empty).
    public var tracedOutside: [Int]
}

/// What the store knows of the exploration behind a measurement.
public struct ExplorationInfo: Codable, Sendable, Hashable {
    public var key: String
    public var strategy: String
    public var startedAt: Date
    public var finishedAt: Date?
    public var probes: Int
    public var passed: Int
    public var failed: Int
    public var errors: Int
    public var wallSeconds: Double
}

/// A download offered on a page.
public struct DownloadLink: Codable, Sendable, Hashable {
    /// `ExportFormat` raw value.
    public var format: String
    public var label: String
    public var href: String
}

/// One application under one workload, in full.
public struct WorkloadDetail: Codable, Sendable, Hashable {
    public var app: String
    public var workload: String
    public var kind: WorkloadKind
    public var source: SourceKind
    public var sourceDetail: String
    public var counts: VerdictCounts
    public var calls: [CallRow]
    public var grid: [GridBox]
    public var features: [FeatureRow]
    public var files: [FileRow]
    public var impact: [ImpactView]
    public var staticBound: StaticBound?
    public var exploration: ExplorationInfo?
    public var downloads: [DownloadLink]
}

/// An application page: every workload (or the one asked for).
public struct AppDetail: Codable, Sendable, Hashable {
    public var app: String
    public var workloads: [WorkloadDetail]
}

/// One call of a comparison: each application's verdict (absent: not traced by that app).
public struct CompareRow: Codable, Sendable, Hashable {
    public var number: Int
    public var name: String
    public var verdicts: [String: Verdict]
}

/// Two or more applications side by side, each with its workloads of the selected kind combined
/// (an app must pass all of them: the plan's rule).
public struct Comparison: Codable, Sendable, Hashable {
    public var apps: [String]
    public var workload: WorkloadSelection
    public var counts: [String: VerdictCounts]
    /// Every call any of the apps traced, ascending.
    public var rows: [CompareRow]
}

/// One OS support list the server knows.
public struct OSListEntry: Codable, Sendable, Hashable {
    public var name: String
    public var syscalls: Int
}

/// A plan asked for: a bundled OS by name, or an uploaded support list.
public struct PlanRequest: Codable, Sendable, Hashable {
    /// A bundled support list's name (case-insensitive); ignored when `osList` is given.
    public var os: String?
    /// An uploaded support list: one syscall name or number per line (`#` comments).
    public var osList: String?
    /// The uploaded list's name (default "uploaded").
    public var osName: String?
    /// nil or empty: every application.
    public var apps: [String]?
    public var workload: WorkloadSelection
    /// Per-syscall costs: lines of "<name or number> <cost>" (`syspect plan --costs`).
    public var costs: String?
    /// Also compute the curves (four or five plans); false: the plan table only.
    public var curves: Bool

    public init(os: String? = nil, osList: String? = nil, osName: String? = nil, apps: [String]? = nil,
                workload: WorkloadSelection = .all, costs: String? = nil, curves: Bool = true) {
        self.os = os
        self.osList = osList
        self.osName = osName
        self.apps = apps
        self.workload = workload
        self.costs = costs
        self.curves = curves
    }
}

/// A plan page: the plan table, the curves and the stub skeleton.
public struct PlanView: Codable, Sendable, Hashable {
    public var os: String
    public var osSyscallCount: Int
    public var apps: [String]
    public var workload: WorkloadSelection
    public var steps: [PlanStep]
    /// Cumulative cost after each step.
    public var curve: [Double]
    /// Figure 2's curves (nil when not asked for).
    public var curves: PlanFigure?
    public var skeleton: StubSkeleton
    /// Link to the C skeleton of this plan.
    public var stubsHref: String
}

/// What `/api/v1/info` says about the server.
public struct ServerInfo: Codable, Sendable, Hashable {
    public var syspect: String
    public var schemaVersion: Int
    public var backend: String
    public var readAccess: ReadAccess
    public var maxBodyBytes: Int
    public var measurements: Int
    public var apps: Int
    public var explorations: Int
    public var bundled: Bool
}

/// Who may read.
public enum ReadAccess: String, Codable, Sendable {
    /// Anyone (the default).
    case `public`
    /// Only requests with a valid token.
    case token
}

/// A file the server sends: bytes, media type and a file name for `Content-Disposition`.
public struct Download: Sendable, Hashable {
    public var data: Data
    public var contentType: String
    public var fileName: String

    public init(data: Data, contentType: String, fileName: String) {
        self.data = data
        self.contentType = contentType
        self.fileName = fileName
    }
}

/// The download formats of one workload.
public enum ExportFormat: String, Codable, Sendable, CaseIterable {
    /// The workload's `WorkloadDetail` as JSON.
    case json
    /// One line per traced call: number, name, verdict (CSV with a header).
    case csv
    /// An OCI / Docker seccomp profile allowing what the workload traced.
    case seccomp
    /// The loupedb layout (`<app>/<workload>/<run>/data/dyn.csv`, static CSVs, README.md) as a POSIX tar.
    case loupedb

    public var label: String {
        switch self {
        case .json: return "JSON"
        case .csv: return "CSV"
        case .seccomp: return "OCI seccomp profile"
        case .loupedb: return "loupedb layout (tar)"
        }
    }
}
