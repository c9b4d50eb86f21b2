import ArgumentParser
import Dispatch
import Foundation
import SyspectServe
import SyspectStore

/// `syspect serve`: the results site (pages and JSON API) over the results database.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the results as a site: browse, compare and plan in a browser, with a JSON API (docs/serve.md).",
        discussion: """
            Shows the database's measurements and explorations and, unless --no-bundled, the \
            bundled loupedb measurements (116 applications) for what the database does not hold: \
            on a fresh machine the site shows the loupedb data. Writes (`syspect push`) need a \
            token (`syspect serve token add NAME`); reads are public unless --token-reads. The \
            API is described in docs/openapi.yaml. Stops on Ctrl-C / SIGTERM.

            Exit status: 0 stopped; 1 the database could not be opened or the address not bound; \
            64 usage error.
            """,
        subcommands: [ServeTokenCommand.self])

    @OptionGroup var store: StoreOptions

    @Option(help: ArgumentHelp("Address to listen on: HOST:PORT (port 0: any free port, printed).", valueName: "host:port"))
    var listen: String = "127.0.0.1:8080"

    @Flag(help: "Who may read pages and the GET API: anyone (default), or only requests with a token (Authorization: Bearer TOKEN).")
    var reads: ReadAccessFlag = .publicReads

    @Option(help: ArgumentHelp("Largest request body accepted, in bytes (K, M, G suffixes: 1024-based).", valueName: "size"))
    var maxBody: String = "64M"

    @Flag(help: "Show only the database's own measurements, not the bundled loupedb data.")
    var noBundled = false

    @Flag(help: "Log only warnings and errors.")
    var quiet = false

    func validate() throws {
        do { _ = try SiteServer.parseListen(listen) } catch { throw ValidationError(error.message) }
        guard ServeCommand.byteCount(maxBody) != nil else {
            throw ValidationError("--max-body '\(maxBody)' is not a size: a number of bytes with an optional K, M or G (e.g. 64M)")
        }
    }

    func run() throws {
        let (host, port) = try SiteServer.parseListen(listen)
        let database: any ManagedStore
        do { database = try store.openStore() } catch {
            FileHandle.standardError.write(Data("syspect serve: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let site = Site(store: database, configuration: SiteConfiguration(
            readAccess: reads == .tokenReads ? .token : .public, maxBodyBytes: ServeCommand.byteCount(maxBody)!,
            bundled: !noBundled))
        let location = try store.location()
        let failure = ServeFailure()
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                try await SiteServer.run(site: site, host: host, port: port, quiet: quiet) { bound in
                    let line = "syspect serve: http://\(host.contains(":") ? "[\(host)]" : host):\(bound)/ over \(location)"
                        + (reads == .tokenReads ? " (reads need a token)" : "")
                    FileHandle.standardOutput.write(Data((line + "\n").utf8))
                }
            } catch {
                failure.set("cannot serve on \(listen): \(error); is another server listening there? choose another --listen")
            }
            done.signal()
        }
        done.wait()
        if let message = failure.message {
            FileHandle.standardError.write(Data("syspect serve: \(message)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// "64M" → 67108864.
    static func byteCount(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        if let last = t.last, let unit = units[last] {
            return Int(t.dropLast()).flatMap { $0 > 0 ? $0 * unit : nil }
        }
        return Int(t).flatMap { $0 > 0 ? $0 : nil }
    }
}

/// `--public-reads` / `--token-reads`.
enum ReadAccessFlag: String, EnumerableFlag {
    case publicReads
    case tokenReads
}

/// The error of the server task, read after it ends.
private final class ServeFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var text: String?
    func set(_ message: String) { lock.withLock { text = message } }
    var message: String? { lock.withLock { text } }
}
