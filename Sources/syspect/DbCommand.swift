import ArgumentParser
import Foundation

/// `syspect db`: the results database (info, loupedb import and export).
struct DbCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Inspect the results database and exchange data with the Loupe tool's loupedb layout.",
        discussion: """
            The database is an SQLite file by default, or a PostgreSQL database when --db is a \
            postgres:// URL. See docs/store.md.
            """,
        subcommands: [DbInfoCommand.self, DbImportCommand.self, DbExportCommand.self])
}

/// "1.23 s", for the db commands' timings.
func secondsText(_ seconds: Double) -> String {
    String(format: "%.2f s", seconds)
}
