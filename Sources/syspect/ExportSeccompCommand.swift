import ArgumentParser
import Foundation
import SyspectCore
import SyspectReport

/// `syspect export seccomp APP`: an OCI / Docker seccomp profile from an application's measurements.
struct ExportSeccompCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seccomp",
        abstract: "Write an OCI/Docker seccomp profile allowing what APP needed under its workloads.",
        discussion: """
            The profile denies every call with ENOSYS except those the selected workloads traced \
            (required + used), plus execve (the runtime installs the filter before it runs APP). \
            With --mode minimal only required calls run: stub-tolerant calls return -ENOSYS and \
            fake-tolerant ones return 0 without running (only as good as the workload's coverage). \
            Use it with `docker run --security-opt seccomp=FILE` or an OCI runtime's linux.seccomp.
            """)

    @Argument(help: "The application, as named in the data (e.g. redis).")
    var app: String

    @Option(help: ArgumentHelp("Workloads to combine: benchmark, suite, all, or one workload's name (e.g. benchmark-redis-benchmark).", valueName: "name"))
    var workload: String = "all"

    @Option(help: "allow-traced: allow every traced call; minimal: allow required calls, stub or fake the rest.")
    var mode: SeccompProfile.Mode = .allowTraced

    @Option(help: ArgumentHelp("Read a loupedb folder instead of the bundled data.", valueName: "dir"))
    var data: String?

    @OptionGroup var store: StoreOptions

    @Option(name: [.short, .long], help: ArgumentHelp("The JSON file to write (`-`: standard output).", valueName: "file"))
    var output: String = "-"

    func run() throws {
        try DataOptions.reportingFailures(command: "export seccomp") {
            var options = DataOptions()
            options.data = data
            let measurements = try reportMeasurements(data: options, store: store, dataset: try options.dataset())
            let ofApp = measurements.filter { $0.app == app }
            guard !ofApp.isEmpty else {
                let hint = SyscallNameSuggestions.closest(to: app, among: Array(Set(measurements.map(\.app))).sorted())
                throw CommandFailure("no measurement of '\(app)'" + (hint.isEmpty ? "" : " (closest: \(hint.joined(separator: ", ")))"))
            }
            let chosen = ofApp.filter(matches)
            guard !chosen.isEmpty else {
                throw CommandFailure("'\(app)' has no workload '\(workload)'; pass one of \(ofApp.map(\.workload).joined(separator: ", ")), benchmark, suite or all")
            }
            let (profile, unnamed) = SeccompProfile.make(for: chosen.map { ReportedRun(measurement: $0) }, mode: mode)
            if !unnamed.isEmpty {
                FileHandle.standardError.write(Data("syspect export seccomp: warning: no name for traced numbers \(unnamed.map(String.init).joined(separator: ", ")); left out of the profile\n".utf8))
            }
            try writeOutput(try profile.jsonData(), to: output)
        }
    }

    private func matches(_ measurement: SyspectCore.Measurement) -> Bool {
        switch workload {
        case "all": return true
        case "benchmark": return measurement.kind == .benchmark
        case "suite": return measurement.kind == .suite
        default: return measurement.workload == workload
        }
    }
}

extension SeccompProfile.Mode: ExpressibleByArgument {}
