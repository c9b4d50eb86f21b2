import ArgumentParser
import SyspectCore

@main
struct Syspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "syspect",
        abstract: "Measure which Linux system calls an application needs, and plan an OS's compatibility layer.",
        version: "0.1.0",
        subcommands: [
            Syscalls.self,
            TraceCommand.self,
            ExploreCommand.self,
            ShowCommand.self,
            PlanCommand.self,
            ImportanceCommand.self,
            ReportCommand.self,
            ExportCommand.self,
            ProbeCommand.self,
            DbCommand.self,
            StaticCommand.self,
            ServeCommand.self,
            PushCommand.self,
        ]
    )
}
