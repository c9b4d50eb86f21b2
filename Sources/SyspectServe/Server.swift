import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The HTTP server of `syspect serve`: the JSON API (`APIRoutes`) and the pages
/// (`addPageRoutes`, Pages/) over one `Site`.
public enum SiteServer {
    /// The router with every route: errors as JSON, the API, then the pages.
    public static func router(site: Site) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: ReadAccessMiddleware(site: site))
        APIRoutes.register(on: router, site: site)
        addPageRoutes(to: router, site: site)
        return router
    }

    /// A host and port ("127.0.0.1:8080", "[::1]:8080", ":8080" for 127.0.0.1); port 0 picks a free one.
    public static func parseListen(_ text: String) throws(SiteError) -> (host: String, port: Int) {
        let bad = SiteError.badRequest("--listen '\(text)' is not HOST:PORT (e.g. 127.0.0.1:8080, [::1]:8080, 0.0.0.0:8080)")
        var host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { throw bad }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw bad }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        if host.isEmpty { host = "127.0.0.1" }
        guard let port = Int(portText), (0...65535).contains(port) else { throw bad }
        return (String(host), port)
    }

    /// Runs the server until SIGINT/SIGTERM. `onListening` gets the bound port (useful with port 0).
    public static func run(site: Site, host: String, port: Int, quiet: Bool = false,
                           onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var logger = Logger(label: "syspect-serve")
        logger.logLevel = quiet ? .warning : .info
        let app = Application(
            router: router(site: site),
            configuration: .init(address: .hostname(host, port: port), serverName: "syspect"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: logger)
        try await app.runService()
    }

    /// Starts the server in the background (tests, benchmarks): returns once it listens.
    public static func start(site: Site, host: String = "127.0.0.1", port: Int = 0) async throws -> RunningServer {
        var logger = Logger(label: "syspect-serve")
        logger.logLevel = .warning
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router(site: site),
            configuration: .init(address: .hostname(host, port: port), serverName: "syspect"),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? port) },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = stream.makeAsyncIterator()
        guard let bound = await iterator.next() else {
            try await task.value
            throw SiteError(.internalServerError, "the server stopped before it listened on \(host):\(port)")
        }
        return RunningServer(port: bound, host: host, group: group, task: task)
    }
}

/// A server started by `SiteServer.start`.
public struct RunningServer: Sendable {
    public let port: Int
    public let host: String
    let group: ServiceGroup
    let task: Task<Void, any Error>

    public var baseURL: URL { URL(string: "http://\(host.contains(":") ? "[\(host)]" : host):\(port)")! }

    /// Stops the server gracefully (requests in flight finish) and waits until it has.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
