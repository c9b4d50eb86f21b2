import Foundation
import SyspectCore
import SyspectTestSupport
@testable import SyspectStore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Crash safety of `syspect db import-loupedb` (issue 12): the real binary killed with SIGKILL
/// while reading, while its one transaction is being written, and after; the database then
/// holds every run of the import or none of it, never a part, opens cleanly, keeps what it held
/// before, and the next import succeeds.
@Suite(
    "import-loupedb killed (the built binary)", .serialized,
    .enabled(if: FileManager.default.isExecutableFile(atPath: syspectBinary), "no built syspect at \(syspectBinary): run swift build first"))
struct ImportCrashTests {
    /// A measurement of the user's own, there before every import: it must survive them all.
    static let mine = SyspectCore.Measurement(
        app: "mine", workload: "health-own", kind: .health, verdicts: [0: .required, 1: .either], source: "syspect")

    /// What the loupedb import stores, measured by one uninterrupted import.
    static func completeImport(_ folder: String) throws -> [SyspectCore.Measurement] {
        let db = folder + "/complete.db"
        let result = try runSyspect(["db", "import-loupedb", loupedbDirectory, "--db", db])
        try #require(result.status == 0, "\(result.stderr)")
        return try SQLiteStore(path: db).measurements(apps: nil, kind: nil)
    }

    /// A database holding only `mine`, migrated, closed.
    static func freshDatabase(_ path: String) throws {
        try SQLiteStore(path: path).save(mine)
    }

    /// The loupedb measurements `path` holds, after checking that it opens, passes SQLite's
    /// integrity check and still holds `mine`.
    static func imported(_ path: String) throws -> [SyspectCore.Measurement] {
        let store = try SQLiteStore(path: path)
        let check = try store.database.read { try $0.query("PRAGMA integrity_check", []) }
        #expect(try check.first?.string(0) == "ok", "\(path) is damaged")
        let all = try store.measurements(apps: nil, kind: nil)
        #expect(all.contains(mine), "the measurement stored before the import is gone")
        return all.filter { $0.source.hasPrefix("loupedb:") }
    }

    @Test func killedAtAnyMomentImportsAllOrNothing() throws {
        let folder = try temporaryFolder().path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let start = Date()
        let complete = try Self.completeImport(folder).filter { $0.source.hasPrefix("loupedb:") }
        let duration = Date().timeIntervalSince(start)
        try #require(complete.count == 125)

        // Kills at delays spread over a whole import: at once, while reading, while writing, after.
        for step in 0...4 {
            let db = "\(folder)/killed-\(step).db"
            try Self.freshDatabase(db)
            let process = try Self.startImport(db: db)
            usleep(UInt32(duration * Double(step) / 4 * 1_000_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let found = try Self.imported(db)
            #expect(found.isEmpty || Set(found) == Set(complete), "kill after \(step)/4 of an import left \(found.count) of \(complete.count) runs")
            // Importing again succeeds and gives the whole import.
            let again = try runSyspect(["db", "import-loupedb", loupedbDirectory, "--db", db])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(Set(try Self.imported(db)) == Set(complete))
        }
    }

    /// The kill lands inside the transaction, while SQLite writes its pages to the write-ahead
    /// log: strace delays each `pwrite64` of the importer by 5 ms (the transaction's ~550 KB take
    /// seconds instead of milliseconds) and the importer is killed once the log grew by 64 KiB
    /// (the commit record is the last frame written). A first import into a database leaves
    /// nothing; a killed re-import (which deletes and inserts the same runs) leaves the first
    /// import whole.
    @Test func killedInsideTheTransactionLeavesTheDatabaseAsItWas() throws {
        let strace = try #require(["/usr/bin/strace", "/bin/strace"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                  "strace not installed (scripts/setup installs it)")
        let folder = try temporaryFolder().path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let complete = try Self.completeImport(folder).filter { $0.source.hasPrefix("loupedb:") }

        for (name, before) in [("first import", [SyspectCore.Measurement]()), ("re-import", complete)] {
            let db = "\(folder)/\(name.replacingOccurrences(of: " ", with: "-")).db"
            try Self.freshDatabase(db)
            if !before.isEmpty { try SQLiteStore(path: db).saveAll(before) }
            let process = try Self.startImport(db: db, through: [strace, "-f", "-qq", "-o", "/dev/null", "-e", "trace=pwrite64",
                                                                 "-e", "inject=pwrite64:delay_enter=5000"])
            let importer = try #require(Self.child(of: process.processIdentifier, named: "syspect"), "\(name): the importer never started")
            // The log as the importer found it (its opening writes a few frames).
            var initial = -1, grown = false
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline && process.isRunning {
                let now = Self.size(db + "-wal")
                if initial < 0 && now > 0 { initial = now }
                if initial >= 0 && now - initial > 64 * 1024 { grown = true; break }
                usleep(1_000)
            }
            kill(importer, SIGKILL)
            process.waitUntilExit()
            #expect(grown, "\(name): the import ended before the test saw its transaction being written")
            #expect(Set(try Self.imported(db)) == Set(before), "\(name): the killed transaction left a partial import")
            let again = try runSyspect(["db", "import-loupedb", loupedbDirectory, "--db", db])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(Set(try Self.imported(db)) == Set(complete))
        }
    }

    // MARK: - Helpers

    /// Starts `syspect db import-loupedb` (under `prefix`, e.g. strace, when given).
    static func startImport(db: String, through prefix: [String] = []) throws -> Process {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: StoreLocation.environmentVariable)
        let command = prefix + [syspectBinary, "db", "import-loupedb", loupedbDirectory, "--db", db]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// The pid of `parent`'s child whose executable is named `name` (waits up to 10 s for it).
    static func child(of parent: Int32, named name: String) -> Int32? {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(parent)/task")) ?? []
            for task in tasks {
                let children = (try? String(contentsOfFile: "/proc/\(parent)/task/\(task)/children", encoding: .utf8)) ?? ""
                for pid in children.split(separator: " ").compactMap({ Int32($0) }) {
                    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) ?? ""
                    if URL(fileURLWithPath: exe).lastPathComponent == name { return pid }
                }
            }
            usleep(1_000)
        }
        return nil
    }

    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }
}
