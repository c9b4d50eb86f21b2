import Foundation
import SyspectCore
import SyspectExplore
import SyspectStore

/// The static analysis in `show` and at the end of `explore` (issue 13): the Figure 4 numbers
/// (static / traced / required), syspect's set beside loupedb's `static_binary.csv`, and the
/// census calls outside the static set. Built from values; the commands do the I/O.
struct StaticDocument: Encodable {
    /// One analysed object, without its sites (`syspect static --json` lists those).
    struct Object: Encodable {
        var path: String
        var soname: String?
        var buildID: String
        var stripped: Bool
        var syscalls: [Int]
        var i386Syscalls: [Int]
        var x32Syscalls: [Int]
        var unresolvedSites: Int
        var functionsReachable: Int
        var functionsTotal: Int
        var warnings: [String]
    }
    /// syspect's own analysis, when the exploration stored one.
    struct Analysis: Encodable {
        var mode: StaticMode
        var analyserVersion: Int
        var targets: [String]
        var missingLibraries: [String]
        var unresolvedSites: Int
        var i386Syscalls: [Int]
        var x32Syscalls: [Int]
        var analysedAt: Date
        var seconds: Double
        var objects: [Object]
    }
    /// loupedb's static_binary set of the same application, beside ours.
    struct Reference: Encodable {
        var runs: [String]
        var comparison: StaticSetComparison
    }

    /// "syspect" (our analysis of this machine's binaries) or "loupedb" (the published file).
    var source: String
    /// The Figure 4 numbers: static set, traced calls, required calls.
    var staticCount: Int
    var traced: Int
    var required: Int
    var syscalls: [Int]
    var analysis: Analysis?
    var loupedb: Reference?
    /// Census calls outside the static set (an analysis or tracing error).
    var outsideStatic: [CensusEntry]
    /// The one-line warning for `outsideStatic`, nil when empty.
    var warning: String?

    /// nil when the measurement has no static set and no analysis was stored.
    init?(_ m: SyspectCore.Measurement, stored: ExplorationStatic?, loupedb reference: [SyspectCore.Measurement]) {
        let set = stored?.analysis.syscalls ?? m.staticBinary
        guard let set else { return nil }
        source = stored != nil || m.source == "syspect" ? "syspect" : "loupedb"
        staticCount = set.count
        traced = m.verdicts.count
        required = m.required.count
        syscalls = set.sorted()
        analysis = stored.map { s in
            let a = s.analysis
            return Analysis(
                mode: a.mode, analyserVersion: a.version, targets: a.targets, missingLibraries: a.missingLibraries,
                unresolvedSites: a.unresolvedCount, i386Syscalls: a.i386Syscalls.sorted(),
                x32Syscalls: a.x32Syscalls.sorted(), analysedAt: s.analysedAt, seconds: s.seconds,
                objects: a.objects.map { o in
                    Object(path: o.path, soname: o.soname, buildID: o.buildID, stripped: o.stripped, syscalls: o.syscalls.sorted(),
                           i386Syscalls: o.i386Syscalls.sorted(), x32Syscalls: o.x32Syscalls.sorted(), unresolvedSites: o.unresolved.count,
                           functionsReachable: o.functionsReachable, functionsTotal: o.functionsTotal, warnings: o.warnings)
                })
        }
        let theirs = reference.filter { $0.app == m.app && $0.staticBinary != nil && $0.source != m.source }
        loupedb = source == "syspect" && !theirs.isEmpty
            ? Reference(runs: theirs.map { $0.source.replacingOccurrences(of: "loupedb:", with: "") },
                        comparison: StaticSetComparison(ours: set, theirs: theirs.reduce(into: Set<Int>()) { $0.formUnion($1.staticBinary!) }))
            : nil
        outsideStatic = stored?.outsideStatic ?? []
        warning = stored.flatMap { $0.outsideStatic.isEmpty ? nil : StaticCheck.warning($0.outsideStatic, analysis: $0.analysis) }
    }

    /// The lines `show` prints under the verdict counts.
    var text: String {
        var out = "static \(staticCount)  traced \(traced)  required \(required)   (Figure 4; static set: "
        if let a = analysis {
            out += "syspect, \(a.mode.label), \(a.objects.count) objects"
                + (a.unresolvedSites > 0 ? ", \(a.unresolvedSites) unresolved sites" : "")
                + (a.missingLibraries.isEmpty ? "" : ", MISSING \(a.missingLibraries.joined(separator: ", "))")
                + (a.i386Syscalls.isEmpty ? "" : ", \(a.i386Syscalls.count) i386 calls apart")
                + (a.x32Syscalls.isEmpty ? "" : ", \(a.x32Syscalls.count) x32 calls apart") + ")\n"
        } else {
            out += "\(source))\n"
        }
        if let r = loupedb {
            out += "static beside loupedb's static_binary (\(r.runs.joined(separator: ", "))): " + r.comparison.line() + "\n"
        }
        if let warning { out += "WARNING: " + warning + "\n" }
        return out
    }
}

enum StaticText {
    /// The results database when one exists (a default SQLite file not yet created is none: it
    /// is not created just to be read).
    static func existingStore(_ store: StoreOptions) throws -> (any ManagedStore)? {
        if case .sqlite(let path) = try store.location(), !FileManager.default.fileExists(atPath: path) { return nil }
        return try store.openStore()
    }

    /// The stored static analysis of an app's latest exploration, nil when none.
    static func latest(_ database: any ResultStore, app: String, workload: String? = nil) throws -> ExplorationStatic? {
        let explorations = try database.explorations(app: app).filter { workload == nil || $0.workload == workload }
        for exploration in explorations.sorted(by: { $0.startedAt > $1.startedAt }) {
            if let stored = try database.staticAnalysis(exploration: exploration.key) { return stored }
        }
        return nil
    }

    /// "call graph, 7 objects" for plan notes: how an app's stored static set was computed.
    static func detail(_ database: any ResultStore, app: String) throws -> String {
        guard let a = try latest(database, app: app)?.analysis else { return "" }
        return "\(a.mode.label), \(a.objects.count) objects"
            + (a.missingLibraries.isEmpty ? "" : ", \(a.missingLibraries.count) libraries missing")
    }
}

extension StaticText {
    /// On standard error: an analysis that could not run, and the census calls outside the
    /// static set (Must 4: an analysis or tracing error, never ignored; also stored and shown).
    static func reportProblems(_ outcome: StaticOutcome?) {
        var lines: [String] = []
        switch outcome {
        case .failed(let reason)?:
            lines.append("syspect explore: warning: no static analysis: \(reason)")
        case .stored(let record)?:
            if !record.analysis.missingLibraries.isEmpty {
                lines.append("syspect explore: warning: static analysis: libraries not found, their calls are not in the static set: "
                    + record.analysis.missingLibraries.joined(separator: ", "))
            }
            if !record.outsideStatic.isEmpty {
                lines.append("syspect explore: warning: " + StaticCheck.warning(record.outsideStatic, analysis: record.analysis))
            }
        case nil:
            break
        }
        if !lines.isEmpty { FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8)) }
    }
}

extension StaticMode {
    /// "call graph" or "whole libraries", as `show` and plan notes say it.
    var label: String { self == .callGraph ? "call graph" : "whole libraries" }
}
