import Foundation
import SyspectCore
import SyspectTestSupport
@testable import SyspectStore
import Testing

/// A database written by a newer syspect (issue 12, bad input): every command that opens it
/// refuses with one line naming both schema versions and the fix, exits 1 (docs/store.md), and
/// leaves its content as it was (compared with the sqlite3 shell's dump of every table): nothing
/// already measured is lost, migrated or added to.
@Suite(
    "a database from a newer syspect (the built binary)",
    .enabled(if: FileManager.default.isExecutableFile(atPath: syspectBinary), "no built syspect at \(syspectBinary): run swift build first"))
struct NewerDatabaseTests {
    @Test func everyCommandRefusesItWithOneLineAndStatusOneAndLeavesItUntouched() throws {
        let folder = try temporaryFolder().path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let db = folder + "/future.db"
        let key = "mine/health-own@future"
        do {
            let store = try SQLiteStore(path: db)
            try store.save(SyspectCore.Measurement(app: "mine", workload: "health-own", kind: .health,
                                                   verdicts: [0: .required, 1: .either], source: "syspect"))
            try store.beginExploration(ExplorationRecord(key: key, app: "mine", workload: "health-own", kind: .health,
                                                         specHash: "h", specText: "", strategy: "adaptive", startedAt: Date()))
            try store.record(ProbeRecord(exploration: key, policy: "stub:1", replica: 1, outcome: .pass, reason: "the command exited 0",
                                         exitStatus: 0, durationSeconds: 0.1, metric: nil, startedAt: Date()))
            try store.database.write { try $0.execute("INSERT INTO grdb_migrations (identifier) VALUES ('0099-from-the-future')", []) }
        }
        let before = try Self.dump(db)
        #expect(before.contains("0099-from-the-future") && before.contains("stub:1"))
        let spec = folder + "/true.yaml"
        try "name: mine\nworkload: {name: health-own, kind: health}\ncommand: [true]\nreplicas: 1\n"
            .write(toFile: spec, atomically: true, encoding: .utf8)

        let commands: [[String]] = [
            ["explore", spec, "--work-dir", folder + "/probes"],
            ["show", "mine"],
            ["plan", "--os", "kerla", "--apps", "redis", "--features"],
            ["report", "-o", folder + "/report.html"],
            ["db", "info"],
            ["db", "import-loupedb", loupedbDirectory],
            ["db", "export-loupedb", folder + "/export"],
        ]
        for command in commands {
            let result = try runSyspect(command + ["--db", db])
            let name = command.prefix(2).joined(separator: " ")
            #expect(result.status == 1, "\(name): status \(result.status), \(result.stderr)")
            let lines = result.stderr.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            #expect(lines.count == 1, "\(name): \(result.stderr)")
            #expect(result.stderr.contains("has schema version 99, newer than this syspect knows (\(StoreSchema.currentVersion))"),
                    "\(name): \(result.stderr)")
            #expect(result.stderr.contains("upgrade syspect, or use another database with --db"), "\(name): \(result.stderr)")
        }
        #expect(try Self.dump(db) == before, "the content of the refused database changed")
        #expect(!FileManager.default.fileExists(atPath: folder + "/probes"), "explore ran probes against a refused database")
        #expect(!FileManager.default.fileExists(atPath: folder + "/export"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/report.html"))
    }

    /// Every table's schema and rows, as the sqlite3 shell dumps them.
    static func dump(_ db: String) throws -> String {
        let sqlite3 = try #require(["/usr/bin/sqlite3", "/bin/sqlite3"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                   "the sqlite3 shell is not installed (scripts/setup installs it)")
        let output = try runProgram(sqlite3, [db, ".dump"])
        try #require(output.status == 0, "sqlite3 .dump: \(output.stderr)")
        return output.stdout
    }
}
