import ArgumentParser
import Foundation
import SyspectCore
import SyspectExplore
import SyspectStore

/// `syspect show APP`: an application's verdicts per workload (the paper's Figure 4 counts and
/// the per-call list), with the exploration's probe count and wall time.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show which system calls an application needs: traced, required, stub, fake, either.",
        discussion: """
            Exit status: 0 shown; 1 no measurement of APP (or of --workload) in the database, or \
            a database error; 64 usage error.
            """)

    @Argument(help: ArgumentHelp("The application name (the spec's `name`).", valueName: "APP"))
    var app: String

    @Option(help: ArgumentHelp("Only this workload (e.g. benchmark-redis-benchmark).", valueName: "W"))
    var workload: String?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Flag(help: "Show the performance and resource impact of the stubs and fakes (`explore --impact`, like the paper's Table 2).")
    var impact = false

    @Flag(help: "Also list the sub-features (ioctl requests, fcntl commands, flag bits…) with their verdicts (`explore --features`).")
    var features = false

    @Flag(help: "Also list the pseudo-files (/proc, /sys, /dev) and whether absent / stubbed passed (`explore --files`).")
    var files = false

    @OptionGroup var store: StoreOptions

    func run() throws {
        let database = try store.openStore()
        var measurements = try database.measurements(apps: [app], kind: nil)
        if let workload { measurements = measurements.filter { $0.workload == workload } }
        guard !measurements.isEmpty else {
            let known = try database.measurements(apps: [app], kind: nil).map(\.workload)
            let hint = known.isEmpty
                ? "run `syspect explore SPEC` first, or import loupedb (`syspect db import`)"
                : "its workloads: \(known.joined(separator: ", "))"
            FileHandle.standardError.write(Data("syspect show: no measurement of \(app)\(workload.map { " under \($0)" } ?? ""); \(hint)\n".utf8))
            throw ExitCode(1)
        }
        let explorations = try database.explorations(app: app)
        if impact { return try showImpact(measurements, explorations: explorations, database) }
        var documents: [ShowDocument] = []
        var text = ""
        for measurement in measurements {
            // The latest exploration of this workload, when it was measured by syspect.
            let exploration = explorations.filter { $0.workload == measurement.workload }
                .max { $0.startedAt < $1.startedAt }
            let summary = try exploration.map { ExplorationSummary($0, probes: try database.probes(exploration: $0.key)) }
            let findings = features || files ? try exploration.map { try database.findings(exploration: $0.key) } : nil
            // syspect's own static analysis (issue 13), beside loupedb's published static_binary set.
            let stored = try exploration.flatMap { try database.staticAnalysis(exploration: $0.key) }
            let statics = StaticDocument(measurement, stored: stored, loupedb: BundledLoupedb.dataset.measurements)
            documents.append(ShowDocument(measurement, summary: summary, findings: findings, statics: statics))
            text += MeasurementText.render(measurement, summary: summary, statics: statics) + "\n"
            text += SuiteText.section(try exploration.map { try database.probes(exploration: $0.key) } ?? [])
            if features || files { text += FindingsText.sections(findings, features: features, files: files) }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(documents), as: UTF8.self))
        } else {
            print(text, terminator: "")
        }
    }
}

/// The JSON document of `syspect show --json` (one per workload).
struct ShowDocument: Encodable {
    struct Counts: Encodable { var traced, required, stub, fake, either: Int }
    struct Call: Encodable { var number: Int; var name: String; var verdict: Verdict }
    var app: String
    var workload: String
    var kind: WorkloadKind
    var source: String
    var counts: Counts
    var syscalls: [Call]
    var exploration: ExplorationSummary?
    /// With `--features` / `--files`: the exploration's sub-feature and pseudo-file findings.
    var findings: FeatureFindings?
    /// The static set (syspect's analysis, else loupedb's), beside loupedb's; nil when unknown.
    var `static`: StaticDocument?

    init(_ m: SyspectCore.Measurement, summary: ExplorationSummary?, findings: FeatureFindings? = nil, statics: StaticDocument? = nil) {
        app = m.app
        workload = m.workload
        kind = m.kind
        source = m.source
        let c = m.counts
        counts = Counts(traced: m.verdicts.count, required: c[.required, default: 0], stub: c[.stub, default: 0],
                        fake: c[.fake, default: 0], either: c[.either, default: 0])
        syscalls = m.traced.map { Call(number: $0, name: SyscallTable.displayName(of: $0), verdict: m.verdicts[$0]!) }
        exploration = summary
        self.findings = findings
        self.static = statics
    }
}

/// The text form shared by `show` and the end of `explore`.
enum MeasurementText {
    static func render(_ m: SyspectCore.Measurement, summary: ExplorationSummary?, statics: StaticDocument? = nil) -> String {
        let c = m.counts
        var out = "\(m.app) / \(m.workload) (\(m.kind.rawValue), source \(m.source))\n"
        out += "traced \(m.verdicts.count)  required \(c[.required, default: 0])  stub \(c[.stub, default: 0])  "
            + "fake \(c[.fake, default: 0])  either \(c[.either, default: 0])\n"
        out += statics?.text ?? ""
        if let s = summary {
            out += "probes \(s.probeCount) (pass \(s.passed), fail \(s.failed), error \(s.errors)) in "
                + "\(ProgressDisplay.duration(s.wallSeconds)) wall, strategy \(s.strategy), \(s.replicas) replicas"
                + (s.finished ? "" : ", UNFINISHED (run explore again to resume)") + "\n"
            if let priors = s.priors { out += "priors: \(priors)\n" }
            out += finalLine(s.report)
        }
        out += "\n   nr  name                      verdict\n"
        for number in m.traced {
            let name = SyscallTable.displayName(of: number)
            let nr = String(number)
            out += String(repeating: " ", count: max(0, 5 - nr.count)) + nr + "  "
                + name.padding(toLength: 25, withPad: " ", startingAt: 0) + " " + m.verdicts[number]!.rawValue + "\n"
        }
        return out
    }

    static func finalLine(_ report: CulpritReport?) -> String {
        guard let report else { return "final run: not done yet\n" }
        if report.finalPassed {
            return "final run: passed with all \(report.passingSet.count) stubs and fakes applied together\n"
        }
        let required = report.dropped.count
        var out = "final run: FAILED with all \(report.appliedCount) stubs and fakes applied together; "
            + "\(count(report.conflicts.count, "conflict")) found, \(count(required, "call")) made required; "
            + "passing set: \(report.passingSet.count) calls\n"
        // Reports of older syspect versions have conflicts but no resolutions.
        let resolutions = report.resolutions.isEmpty
            ? zip(report.conflicts, report.dropped).map { ConflictResolution(conflict: $0, dropped: $1) } : report.resolutions
        for resolution in resolutions { out += "  " + resolutionLine(resolution) + "\n" }
        if let undone = report.undone, !undone.isEmpty {
            out += "  undone once the set passed (it still passed without them): "
                + undone.map { "\($0.mode.rawValue) \(SyscallTable.displayName(of: $0.number))" }.joined(separator: ", ") + "\n"
        }
        if required > 0 {
            out += "  counted as required: \(report.dropped.map { SyscallTable.displayName(of: $0.number) }.joined(separator: ", "))\n"
        }
        return out
    }

    /// "culprits {fake getcwd, stub getdents64}: resolved by faking getdents64 instead of
    /// stubbing it (either): 0 calls made required", or why a call was dropped.
    static func resolutionLine(_ r: ConflictResolution) -> String {
        func name(_ a: Assignment) -> String { SyscallTable.displayName(of: a.number) }
        func list(_ items: [Assignment]) -> String { items.map { "\($0.mode.rawValue) \(name($0))" }.joined(separator: ", ") }
        var out = "culprits {\(list(r.conflict))}: "
        if !r.switched.isEmpty {
            let how = r.switched.map { a in
                a.mode == .fake ? "faking \(name(a)) instead of stubbing it" : "stubbing \(name(a)) instead of faking it"
            }
            out += "resolved by " + how.joined(separator: " and ") + " (either): 0 calls made required"
            if !r.failedSwitches.isEmpty { out += " (failed first: " + r.failedSwitches.map(list).joined(separator: "; ") + ")" }
            return out
        }
        guard let dropped = r.dropped else { return out + "unresolved" }
        out += r.failedSwitches.isEmpty
            ? "no member has another mode that passes alone"
            : "no other modes pass together (tried " + r.failedSwitches.map(list).joined(separator: "; ") + ")"
        return out + "; \(name(dropped)) made required (the highest call number of the conflict): 1 call made required"
    }

    private static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
}
