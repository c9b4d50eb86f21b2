import ArgumentParser
import Foundation

/// `syspect serve token revoke NAME`: the token stops working at once (a running server checks
/// the database on every request).
struct ServeTokenRevokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a token: requests with it are refused from now on (the name stays listed).",
        discussion: "Exit status: 0 revoked; 1 no active token of that name, or a database error; 64 usage error.")

    @Argument(help: ArgumentHelp("The token's name.", valueName: "NAME"))
    var name: String

    @OptionGroup var store: StoreOptions

    func run() throws {
        try DataOptions.reportingFailures(command: "serve token revoke") {
            guard try ServeTokenCommand.open(store).revokeToken(name: name) else {
                throw CommandFailure("no active token named '\(name)' (`syspect serve token list` shows them)")
            }
            print("revoked token '\(name)'")
        }
    }
}
