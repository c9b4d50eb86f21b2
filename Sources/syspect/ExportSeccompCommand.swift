import ArgumentParser
import Foundation
import SyspectCore
import SyspectReport

/// `syspect export seccomp APP` (or `--trace FILE`): an OCI / Docker seccomp profile from an
/// application's measurements or from a trace report.
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

    @Argument(help: "The application, as named in the data (e.g. redis); not with --trace.")
    var app: String?

    @Option(help: ArgumentHelp("Allow what a `syspect trace --json` report lists instead (every traced x86-64 call).", valueName: "file"))
    var trace: String?

    @Option(help: ArgumentHelp("Workloads to combine: benchmark, suite, all, or one workload's name (e.g. benchmark-redis-benchmark).", valueName: "name"))
    var workload: String = "all"

    @Option(help: "allow-traced: allow every traced call; minimal: allow required calls, stub or fake the rest.")
    var mode: SeccompProfile.Mode = .allowTraced

    @Option(help: ArgumentHelp("Read a loupedb folder instead of the bundled data.", valueName: "dir"))
    var data: String?

    @OptionGroup var store: StoreOptions

    @Option(name: [.short, .long], help: ArgumentHelp("The JSON file to write (`-`: standard output).", valueName: "file"))
    var output: String = "-"

    func validate() throws {
        if (app == nil) == (trace == nil) { throw ValidationError("give either an application or --trace FILE") }
        if trace != nil && mode != .allowTraced { throw ValidationError("--mode minimal needs verdicts; a trace report has none") }
    }

    func run() throws {
        try DataOptions.reportingFailures(command: "export seccomp") {
            if let trace { return try writeProfile(fromTrace: trace) }
            let app = app!
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
            try write(SeccompProfile.make(for: chosen.map { ReportedRun(measurement: $0) }, mode: mode))
        }
    }

    private func writeProfile(fromTrace path: String) throws {
        let json = try Data(DataOptions.readText(path).utf8)
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let (run, otherABIs): (ReportedRun, [String])
        do { (run, otherABIs) = try TraceCensus.run(json: json, app: name) } catch { throw CommandFailure("\(path): \(error)") }
        if !otherABIs.isEmpty {
            warn("calls through other ABIs stay denied (the profile is x86-64 only): \(otherABIs.joined(separator: ", "))")
        }
        try write(SeccompProfile.make(for: [run]))
    }

    private func write(_ made: (profile: SeccompProfile, unnamed: [Int])) throws {
        if !made.unnamed.isEmpty {
            warn("no name for traced numbers \(made.unnamed.map(String.init).joined(separator: ", ")); left out of the profile")
        }
        try writeOutput(try made.profile.jsonData(), to: output)
    }

    private func warn(_ message: String) {
        FileHandle.standardError.write(Data("syspect export seccomp: warning: \(message)\n".utf8))
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
