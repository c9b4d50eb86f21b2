import ArgumentParser
import Foundation
import SyspectStore

/// `syspect db info`: where the database is, its schema version, and what it holds.
struct DbInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print the database location, schema version and row counts (creates the database if missing).")

    @OptionGroup var store: StoreOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let info = try store.openStore().info()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(info), as: UTF8.self))
            return
        }
        let c = info.counts
        print("""
            database:       \(info.location) (\(info.backend))
            schema version: \(info.schemaVersion) (this syspect: \(info.knownSchemaVersion))
            measurements:   \(c.measurements) of \(c.apps) applications, \(c.verdicts) syscall verdicts
            explorations:   \(c.explorations), \(c.probes) probes
            """)
    }
}
