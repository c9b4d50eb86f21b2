import Foundation
import SyspectCore
@testable import SyspectServe
import SyspectStore
import SyspectTestSupport
import Testing

/// `syspect serve`, `syspect serve token …` and `syspect push` as a user runs them: the built
/// binary, a server process on a free loopback port, a push from another database.
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: serveSyspectBinary), "no built syspect: run swift build first"))
struct ServeCommandTests {
    /// A `syspect serve` process; `url` once it printed its address.
    final class ServerProcess {
        let process = Process()
        let url: URL
        private let output = Pipe()

        init(_ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: serveSyspectBinary)
            process.arguments = ["serve", "--listen", "127.0.0.1:0", "--quiet"] + arguments
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            var text = ""
            let deadline = Date().addingTimeInterval(60)
            while !text.contains("\n"), Date() < deadline {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            guard let range = text.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else {
                process.terminate()
                throw ServeCommandTestError("syspect serve printed no address: \(text)")
            }
            url = URL(string: String(text[range]))!
        }

        /// SIGTERM; the exit status.
        func stop() -> Int32 {
            process.terminate()
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    struct ServeCommandTestError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    func syspect(_ arguments: [String], token: String? = nil) throws -> ProgramOutput {
        var env = ProcessInfo.processInfo.environment
        env["SYSPECT_DB"] = nil
        env["SYSPECT_TOKEN"] = token
        return try runProgram(serveSyspectBinary, arguments, environment: env)
    }

    @Test func tokensPushAndTheServerFromTheCommandLine() async throws {
        let serverDB = try ServeTestDatabase(.sqlite), localDB = try ServeTestDatabase(.sqlite)
        defer { serverDB.destroy(); localDB.destroy() }
        let local = try localDB.open()
        try ServeFixtures.store(local, record: ServeFixtures.record(), probes: [("baseline", .pass), ("stub:39", .pass)],
                                measurement: ServeFixtures.measurement())

        let add = try syspect(["serve", "token", "add", "alice", "--db", serverDB.argument])
        #expect(add.status == 0, "\(add.stderr)")
        let secret = add.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(secret.hasPrefix(Tokens.prefix) && add.stderr.contains("not shown again"))
        let duplicate = try syspect(["serve", "token", "add", "alice", "--db", serverDB.argument])
        #expect(duplicate.status == 1 && duplicate.stderr.contains("exists already"))
        #expect(try syspect(["serve", "token", "add", "bad name", "--db", serverDB.argument]).status == 64)

        let server = try ServerProcess(["--db", serverDB.argument])
        let pushed = try syspect(["push", "redis", "--to", server.url.absoluteString, "--db", localDB.argument], token: secret)
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(pushed.stdout.contains("redis/benchmark-redis-benchmark: created, 2 probes added"), "\(pushed.stdout)")
        #expect(pushed.stdout.contains("as token 'alice'"))
        let catalogue = try await HTTP(base: server.url).get("/api/v1/apps?source=syspect").json(Catalogue.self)
        #expect(catalogue.entries.map(\.app) == ["redis"] && catalogue.entries.first?.probes == 2)

        let wrong = try syspect(["push", "--to", server.url.absoluteString, "--db", localDB.argument], token: "syspect_nope")
        #expect(wrong.status == 1 && wrong.stderr.contains("HTTP 403") && wrong.stderr.contains("unknown or revoked"), "\(wrong.stderr)")
        #expect(try syspect(["push", "--to", server.url.absoluteString, "--db", localDB.argument]).status == 64, "no token")
        #expect(try syspect(["push", "--to", "ftp://x", "--db", localDB.argument], token: secret).status == 64)
        let nothing = try syspect(["push", "nginx", "--to", server.url.absoluteString, "--db", localDB.argument], token: secret)
        #expect(nothing.status == 1 && nothing.stderr.contains("no exploration of 'nginx'"))

        #expect(try syspect(["serve", "token", "revoke", "alice", "--db", serverDB.argument]).status == 0)
        let revoked = try syspect(["push", "--to", server.url.absoluteString, "--db", localDB.argument], token: secret)
        #expect(revoked.status == 1 && revoked.stderr.contains("unknown or revoked"), "a revoked token stops at once")
        let list = try syspect(["serve", "token", "list", "--db", serverDB.argument])
        #expect(list.stdout.contains("alice") && list.stdout.contains("revoked") && !list.stdout.contains(secret))
        #expect(server.stop() == 0, "SIGTERM stops the server cleanly")

        let unreachable = try syspect(["push", "--to", server.url.absoluteString, "--db", localDB.argument], token: secret)
        #expect(unreachable.status == 1 && unreachable.stderr.contains("could not reach"), "\(unreachable.stderr)")
        #expect(try syspect(["serve", "--listen", "nonsense"]).status == 64)
        #expect(try syspect(["serve", "--max-body", "lots", "--db", serverDB.argument]).status == 64)
    }

    @Test func aFreshMachineServesTheBundledApplications() async throws {
        let fresh = try ServeTestDatabase(.sqlite)
        defer { fresh.destroy() }
        let server = try ServerProcess(["--db", fresh.argument])
        defer { _ = server.stop() }
        let info = try await HTTP(base: server.url).get("/api/v1/info").json(ServerInfo.self)
        #expect(info.apps == 116 && info.bundled && info.explorations == 0)
        let taken = try syspect(["serve", "--db", fresh.argument, "--listen", "127.0.0.1:\(server.url.port!)"])
        #expect(taken.status == 1 && taken.stderr.contains("cannot serve on 127.0.0.1:\(server.url.port!)"), "\(taken.stderr)")
        let none = try ServerProcess(["--db", fresh.argument, "--no-bundled"])
        defer { _ = none.stop() }
        #expect(try await HTTP(base: none.url).get("/api/v1/info").json(ServerInfo.self).apps == 0)
    }
}
