import ArgumentParser
import Foundation
import SyspectCore
import SyspectStore

/// `syspect db import-loupedb DIR`: load the Loupe tool's results layout into the database.
struct DbImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-loupedb",
        abstract: "Import every run of a loupedb folder (<app>/<workload>/<run>/data/dyn.csv) in one transaction.",
        discussion: """
            Measurements with the same app, workload and run are replaced, so importing again is \
            harmless. On any error nothing is imported. Skipped rows and other tolerated quirks \
            are listed on stderr.
            """)

    enum BadRow: String, ExpressibleByArgument, CaseIterable {
        case stop, skip
        var policy: BadRowPolicy { self == .stop ? .stop : .skip }
    }

    @Argument(help: "The loupedb folder (e.g. a clone of unikraft/loupedb).")
    var directory: String

    @OptionGroup var store: StoreOptions

    @Option(help: "A CSV row that cannot be parsed: stop (import nothing) or skip it with a warning.")
    var onBadRow: BadRow = .stop

    func run() throws {
        let opened = try store.openStore()
        let summary: LoupedbImport.Summary
        do {
            summary = try LoupedbImport.run(directory: directory, onBadRow: onBadRow.policy, into: opened)
        } catch LoupedbError.badRow(let file, let line, let text, let reason) {
            throw ImportError(
                "\(file):\(line): bad row '\(text)': \(reason); nothing was imported: fix the row, or pass --on-bad-row skip")
        }
        let stderr = FileHandle.standardError
        for warning in summary.warnings { stderr.write(Data("warning: \(warning)\n".utf8)) }
        print(
            "imported \(summary.runs) runs of \(summary.apps) applications (\(summary.verdicts) syscall verdicts)"
                + " into \(opened.location): read \(secondsText(summary.readSeconds)), write \(secondsText(summary.writeSeconds))")
    }
}

/// A loupedb import error reworded with the command's own option names.
struct ImportError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
