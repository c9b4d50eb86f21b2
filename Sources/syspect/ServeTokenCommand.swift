import ArgumentParser
import Foundation
import SyspectStore

/// `syspect serve token`: the write (and, with --token-reads, read) tokens of a server's database.
struct ServeTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Manage the server's API tokens (stored as SHA-256 hashes in the results database).",
        subcommands: [ServeTokenAddCommand.self, ServeTokenListCommand.self, ServeTokenRevokeCommand.self])

    /// The store as the SQL store that holds the token table.
    static func open(_ store: StoreOptions) throws -> SQLResultStore {
        guard let sql = try store.openStore() as? SQLResultStore else {
            throw CommandFailure("this results database keeps no tokens")
        }
        return sql
    }
}
