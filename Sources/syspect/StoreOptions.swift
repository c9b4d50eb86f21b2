import ArgumentParser
import SyspectPostgres
import SyspectStore

/// `--db`: where results are read and written. Shared (`@OptionGroup`) by every command that
/// touches the results database (db, explore, show, plan).
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Results database: an SQLite file path, or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE. Default: $SYSPECT_DB, else $XDG_DATA_HOME/syspect/syspect.db, else ~/.local/share/syspect/syspect.db.",
            valueName: "path-or-url"))
    var db: String?

    func validate() throws {
        do {
            _ = try location()
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The location `--db`, `SYSPECT_DB` or the default path names.
    func location() throws -> StoreLocation {
        try StoreLocation.resolve(flag: db)
    }

    /// Opens (creating and migrating on first use) the store.
    func openStore() throws -> any ManagedStore {
        try Stores.open(location())
    }
}
