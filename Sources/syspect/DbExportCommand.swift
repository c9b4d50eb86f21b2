import ArgumentParser
import Foundation
import SyspectStore

/// `syspect db export-loupedb DIR`: write the database's measurements in the loupedb layout.
struct DbExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-loupedb",
        abstract: "Write measurements as <app>/<workload>/<run>/data/{dyn,static_binary,static_sources}.csv for Loupe's tools.",
        discussion: """
            dyn.csv keeps Loupe's header and rows 0-334, plus one row per traced system call \
            above 334. Measurements syspect made go to the run folder 'syspect'; imported \
            loupedb runs keep their run folder.
            """)

    @Argument(help: "Destination folder (created; must be empty unless --overwrite).")
    var directory: String

    @OptionGroup var store: StoreOptions

    @Option(help: "Only these applications (comma-separated).")
    var apps: String?

    @Flag(help: "Write into a non-empty folder, replacing files of the same names.")
    var overwrite = false

    func run() throws {
        let opened = try store.openStore()
        let clock = ContinuousClock()
        let start = clock.now
        let selected = apps.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        let measurements = try opened.measurements(apps: selected, kind: nil)
        let summary = try LoupedbWriter.write(measurements, to: directory, overwrite: overwrite)
        let elapsed = (clock.now - start).components
        print(
            "exported \(summary.measurements) measurements (\(summary.files) files) from \(opened.location) to \(directory)"
                + " in \(secondsText(Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18))")
    }
}
