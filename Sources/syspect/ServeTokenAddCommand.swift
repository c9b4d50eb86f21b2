import ArgumentParser
import Foundation
import SyspectServe

/// `syspect serve token add NAME`: makes a token and prints its secret once.
struct ServeTokenAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Make a token and print its secret (shown once: only its hash is stored).",
        discussion: "Exit status: 0 made; 1 a token of that name exists, or a database error; 64 usage error.")

    @Argument(help: ArgumentHelp("A name for the token (who or what uses it): letters, digits, . _ - @.", valueName: "NAME"))
    var name: String

    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard Tokens.validName(name) else { throw ValidationError("token name '\(name)': use 1-64 letters, digits, '.', '_', '-' or '@'") }
    }

    func run() throws {
        try DataOptions.reportingFailures(command: "serve token add") {
            let secret = Tokens.generate()
            guard try ServeTokenCommand.open(store).addToken(name: name, hash: Tokens.hash(secret)) else {
                throw CommandFailure("a token named '\(name)' exists already (revoked or not); choose another name (`syspect serve token list`)")
            }
            print(secret)
            FileHandle.standardError.write(Data("syspect serve token add: token '\(name)' made in \(try store.location()); keep the line above, it is not shown again\n".utf8))
        }
    }
}
