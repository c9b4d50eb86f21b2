import ArgumentParser
import Foundation
import SyspectCore
import SyspectPlan
import SyspectReport

/// `syspect report`: the HTML report with the paper's figures for chosen applications and OS.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML report: syscall grids, verdict bars, API importance and plan curves.",
        discussion: """
            One HTML file with inline SVG and CSS (no script, no network): per application and \
            workload a grid of every x86-64 system call coloured by verdict (paper Fig. 5), bars of \
            traced/required/stub/fake/either calls with static-analysis counts where known (Fig. 4), \
            the API importance curve (Fig. 3) and, for --os, the support-plan curves of our plan, the \
            paper's greedy rule and the naive no-stub/no-fake plan (Fig. 2). See docs/report.md.

            \(DataOptions.dataHelp) With --db (or $SYSPECT_DB) the measurements come from that \
            results database instead (what `syspect explore` or `syspect db import-loupedb` stored).

            Exit status: 0 written; 1 bad input (unknown app or OS, unreadable data, output not \
            writable); 64 usage error.
            """)

    @OptionGroup var source: ReportDataOptions

    @Option(help: ArgumentHelp(
        "OS whose support-plan curves to draw: a bundled list (\(DataOptions.bundledOSNames)) or a support-list file; 'none' leaves the figure out. Default: Osv, as the paper's Figure 2.",
        valueName: "name-or-file"))
    var os: String = "Osv"

    @Option(name: [.short, .long], help: ArgumentHelp("The HTML file to write (`-`: standard output).", valueName: "file"))
    var output: String

    @Option(help: ArgumentHelp("Page title.", valueName: "text"))
    var title: String = "syspect report"

    func run() throws {
        try DataOptions.reportingFailures(command: "report") {
            let data = source.shared, store = source.store
            let dataset = try data.dataset()
            let (measurements, explorations) = try reportRuns(data: data, store: store, dataset: dataset)
            let targets = try Planner.targets(from: measurements, workload: data.workload, apps: appList(data.apps))
            let chosen = Set(targets.map(\.app))
            var plan: PlanFigure?
            if os.lowercased() != "none" {
                let support = try data.osSupport(os, in: dataset)
                // The static baseline curve: syspect's own static sets where stored, else loupedb's.
                let staticSets = StaticSet.byApp(measurements.filter { chosen.contains($0.app) }, workload: data.workload)
                plan = try ReportBuilder.planFigure(targets: targets, os: support, workload: data.workload, staticSets: staticSets)
            }
            let input = ReportInput(
                title: title, sourceNote: sourceNote(data: data, store: store),
                runs: ReportBuilder.runs(
                    measurements.filter { chosen.contains($0.app) && data.workload.includes($0.kind) },
                    explorations: explorations.filter { chosen.contains($0.app) && data.workload.includes($0.kind) }),
                importanceAppCount: targets.count, importance: APIImportance.compute(targets), plan: plan)
            try writeOutput(Data(HTMLReport.render(input).utf8), to: output)
        }
    }
}

/// `--workload`, `--data`, `--apps` and `--db` of `report` and `export stubs`: the plan
/// commands' `DataOptions` (whose logic they reuse through `shared`) without `--format`, plus
/// the results database.
struct ReportDataOptions: ParsableArguments {
    @Option(name: .customLong("workload"), help: ArgumentHelp(
        "Which workloads count: benchmark, suite or all (an app with several counts once and must pass them all).",
        valueName: "benchmark|suite|all"))
    var workloadName: String = "all"

    @Option(help: ArgumentHelp("Read a loupedb folder instead of the bundled data.", valueName: "dir"))
    var data: String?

    @Option(help: ArgumentHelp("Applications, comma-separated, or '*' for all.", valueName: "list"))
    var apps: String = "*"

    @OptionGroup var store: StoreOptions

    /// The same choices as the plan commands' option group.
    var shared: DataOptions {
        var options = DataOptions()
        options.workloadName = workloadName
        options.data = data
        options.apps = apps
        return options
    }

    func validate() throws { try shared.validate() }
}

/// The measurements of `report` and `export`: from the results database when `--db` (or
/// `$SYSPECT_DB`) names one, else from `data` (bundled loupedb data or `--data DIR`).
func reportMeasurements(data: DataOptions, store: StoreOptions, dataset: LoupedbDataset) throws -> [SyspectCore.Measurement] {
    let (measurements, _) = try reportRuns(data: data, store: store, dataset: dataset)
    return measurements
}

/// Measurements and, from a results database, the explorations (their baseline censuses).
func reportRuns(data: DataOptions, store: StoreOptions, dataset: LoupedbDataset) throws -> ([SyspectCore.Measurement], [ExplorationRecord]) {
    guard usesStore(store) else { return (try data.measurements(dataset), []) }
    if case .sqlite(let path) = try store.location(), !FileManager.default.fileExists(atPath: path) {
        throw CommandFailure("no results database at \(path); check --db or $SYSPECT_DB, or run syspect db import-loupedb first")
    }
    let opened = try store.openStore()
    let measurements = try opened.measurements(apps: nil, kind: nil)
    let explorations = try opened.explorations(app: nil)
    guard !measurements.isEmpty || !explorations.isEmpty else {
        throw CommandFailure("the results database \(try store.location()) holds no measurement; run syspect explore or syspect db import-loupedb first")
    }
    return (measurements, explorations)
}

/// Whether `--db` or `$SYSPECT_DB` names a results database.
func usesStore(_ store: StoreOptions) -> Bool {
    store.db != nil || ProcessInfo.processInfo.environment["SYSPECT_DB"] != nil
}

/// The data-source line shown under the report's title and in exported files.
func sourceNote(data: DataOptions, store: StoreOptions) -> String {
    if usesStore(store), let location = try? store.location() { return "Data: results database \(location)." }
    return data.data.map { "Data: loupedb folder \($0)." } ?? BundledLoupedb.attribution
}

/// "a,b" → ["a", "b"]; "*" or nothing → nil (all).
func appList(_ text: String) -> [String]? {
    let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    return names.isEmpty || names.contains("*") ? nil : names
}

/// Writes `data` to `path` atomically (`-`: standard output); failure is a `CommandFailure`.
func writeOutput(_ data: Data, to path: String) throws {
    if path == "-" {
        FileHandle.standardOutput.write(data)
        return
    }
    do {
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw CommandFailure("cannot write \(path): \(error.localizedDescription); check that its folder exists and is writable")
    }
}
