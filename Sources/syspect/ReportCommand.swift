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

            \(DataOptions.dataHelp)

            Exit status: 0 written; 1 bad input (unknown app or OS, unreadable data, output not \
            writable); 64 usage error.
            """)

    @OptionGroup var data: DataOptions

    @Option(help: ArgumentHelp("Applications to show, comma-separated, or '*' for all.", valueName: "list"))
    var apps: String = "*"

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
            let dataset = try data.dataset()
            let measurements = try data.measurements(dataset)
            let targets = try Planner.targets(from: measurements, workload: data.workload, apps: appList(apps))
            let chosen = Set(targets.map(\.app))
            var plan: PlanFigure?
            if os.lowercased() != "none" {
                let support = try data.osSupport(os, in: dataset)
                plan = try ReportBuilder.planFigure(targets: targets, os: support, workload: data.workload)
            }
            let input = ReportInput(
                title: title, sourceNote: data.data.map { "Data: loupedb folder \($0)." } ?? BundledLoupedb.attribution,
                runs: ReportBuilder.runs(measurements.filter { chosen.contains($0.app) && data.workload.includes($0.kind) }),
                importanceAppCount: targets.count, importance: APIImportance.compute(targets), plan: plan)
            try writeOutput(Data(HTMLReport.render(input).utf8), to: output)
        }
    }
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
