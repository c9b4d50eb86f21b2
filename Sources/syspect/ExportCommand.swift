import ArgumentParser

/// `syspect export`: artifacts made from measurements and plans.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write artifacts from measurements and plans: a seccomp profile, a C stub skeleton, the man page.",
        discussion: """
            Exit status: 0 written; 1 bad input (unknown app, workload or OS, unreadable data, \
            output not writable); 64 usage error.
            """,
        subcommands: [ExportSeccompCommand.self, ExportStubsCommand.self, ExportManualCommand.self, ExportK8sJobCommand.self])
}
