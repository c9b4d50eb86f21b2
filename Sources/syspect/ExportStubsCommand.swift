import ArgumentParser
import Foundation
import SyspectCore
import SyspectPlan
import SyspectReport

/// `syspect export stubs --os NAME --apps LIST`: a C skeleton of the plan's stubs and fakes.
struct ExportStubsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stubs",
        abstract: "Write a C file with one function per system call the support plan stubs or fakes.",
        discussion: """
            Plans support for the applications on the OS (as `syspect plan` does), then writes one \
            function per stubbed call (return -ENOSYS) and per faked call (return its success \
            value), each commented with the applications that trace it and why the plan decided \
            so, a dispatch table by number, and the list of calls still to implement.
            """)

    @OptionGroup var source: ReportDataOptions

    @Option(help: ArgumentHelp("The target OS: a bundled support list (\(DataOptions.bundledOSNames)) or a support-list file.", valueName: "name-or-file"))
    var os: String

    @Option(name: [.short, .long], help: ArgumentHelp("The C file to write (`-`: standard output).", valueName: "file"))
    var output: String = "-"

    func run() throws {
        try DataOptions.reportingFailures(command: "export stubs") {
            let data = source.shared, store = source.store
            let dataset = try data.dataset()
            let support = try data.osSupport(os, in: dataset)
            let targets = try Planner.targets(from: try reportMeasurements(data: data, store: store, dataset: dataset), workload: data.workload, apps: appList(data.apps))
            let plan = try Planner.plan(targets: targets, os: support, workload: data.workload)
            let provenance = "Command: syspect export stubs --os \(os) --apps \(data.apps) --workload \(data.workload.rawValue). "
                + sourceNote(data: data, store: store)
            let skeleton = ReportBuilder.stubSkeleton(plan: plan, targets: targets, provenance: provenance)
            try writeOutput(Data(skeleton.cSource.utf8), to: output)
        }
    }
}
