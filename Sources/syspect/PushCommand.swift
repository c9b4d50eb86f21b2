import ArgumentParser
import Foundation
import SyspectServe

/// `syspect push --to URL --token T [APP]`: uploads local explorations to a shared server.
struct PushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Upload local explorations (probes, findings, impact, static analysis, measurements) to a shared `syspect serve`.",
        discussion: """
            The server merges by exploration key and never replaces what it holds: probes are \
            united by (policy, replica); a pushed probe the server holds with another outcome is \
            dropped and reported (the server's is kept); the measurement becomes the server's \
            when it had none or the pushed exploration is its latest finished one (docs/serve.md).

            Exit status: 0 pushed (conflicts are reported, not errors); 1 nothing to push, the \
            server unreachable or refusing (its message is printed; nothing was written); 64 usage error.
            """)

    @Argument(help: ArgumentHelp("Push only this application's explorations (default: all).", valueName: "APP"))
    var app: String?

    @Option(help: ArgumentHelp("The server, e.g. http://results.example:8080.", valueName: "url"))
    var to: String

    @Option(help: ArgumentHelp("The write token (`syspect serve token add` on the server). Default: $SYSPECT_TOKEN.", valueName: "token"))
    var token: String?

    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard let url = URL(string: to), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw ValidationError("--to '\(to)' is not an http:// or https:// URL")
        }
        guard resolvedToken != nil else {
            throw ValidationError("a push needs a token: --token TOKEN or $SYSPECT_TOKEN (the server's admin makes one with `syspect serve token add NAME`)")
        }
    }

    private var resolvedToken: String? {
        (token ?? ProcessInfo.processInfo.environment["SYSPECT_TOKEN"]).flatMap { $0.isEmpty ? nil : $0 }
    }

    func run() throws {
        try DataOptions.reportingFailures(command: "push") {
            let bundle = try PushClient.bundle(from: try store.openStore(), app: app)
            guard !bundle.explorations.isEmpty else {
                throw CommandFailure("no exploration\(app.map { " of '\($0)'" } ?? "") with probes in \(try store.location()); run `syspect explore SPEC` first")
            }
            let summary = try PushClient.push(bundle, to: URL(string: to)!, token: resolvedToken!)
            for x in summary.explorations {
                print("\(x.app)/\(x.workload): \(x.created ? "created" : "merged"), \(x.probesAdded) probes added, "
                    + "\(x.probesAlreadyPresent) already there, \(x.conflicts.count) conflicting (server's kept); "
                    + "measurement \(x.measurement), findings \(x.findings), static \(x.staticAnalysis), impact +\(x.impactRunsAdded) runs +\(x.impactResultsAdded) results")
                for c in x.conflicts {
                    print("  conflict \(c.policy)#\(c.replica): server \(c.serverOutcome.rawValue), pushed \(c.pushedOutcome.rawValue) (server's kept)")
                }
            }
            print("pushed \(summary.explorations.count) explorations to \(to) as token '\(summary.token)': \(summary.probesAdded) probes added, \(summary.probesKept) conflicting kept as the server's")
        }
    }
}
