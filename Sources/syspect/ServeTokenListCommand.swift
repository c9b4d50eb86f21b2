import ArgumentParser
import Foundation

/// `syspect serve token list`: names and times, never secrets.
struct ServeTokenListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the tokens: name, created, revoked (secrets are not stored).")

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup var store: StoreOptions

    func run() throws {
        try DataOptions.reportingFailures(command: "serve token list") {
            let tokens = try ServeTokenCommand.open(store).tokens()
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(tokens), as: UTF8.self))
                return
            }
            if tokens.isEmpty { print("no tokens in \(try store.location()); make one with `syspect serve token add NAME`") }
            let formatter = ISO8601DateFormatter()
            for t in tokens {
                print("\(t.name)  created \(formatter.string(from: t.createdAt))  " + (t.revokedAt.map { "revoked \(formatter.string(from: $0))" } ?? "active"))
            }
        }
    }
}
