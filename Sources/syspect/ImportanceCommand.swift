import ArgumentParser
import SyspectCore
import SyspectPlan

/// `syspect importance`: API importance of each syscall (the paper's Figure 3).
struct ImportanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "importance",
        abstract: "Show, per system call, the share of applications that require it and the share that trace it.",
        discussion: """
            Required: traced, and the workload fails both when it is stubbed and when it is \
            faked. Traced: what a naive dynamic analysis (strace) would call needed. Sorted by \
            required share, then traced share.

            \(DataOptions.dataHelp)

            Exit status: 0 printed; 1 bad input (unreadable loupedb folder, unknown app, no \
            application selected); 64 usage error.
            """)

    @OptionGroup var data: DataOptions

    func run() throws {
        try DataOptions.reportingFailures(command: "importance") {
            let targets = try data.targets(try data.dataset())
            let rows = APIImportance.compute(targets)
            print(render(rows, appCount: targets.count), terminator: "")
        }
    }

    private func render(_ rows: [SyscallImportance], appCount: Int) -> String {
        let format = data.format
        switch format {
        case .json:
            return DataOptions.json(rows)
        case .csv:
            return PlanRendering.grid(rows).render(.csv)
        case .table, .markdown:
            let totals = APIImportance.totals(rows)
            return "API importance over \(appCount) applications (workload: \(data.workload.rawValue)): "
                + "\(totals.required) syscalls are required by at least one application, \(totals.traced) are traced.\n\n"
                + PlanRendering.grid(rows).render(format)
        }
    }
}
