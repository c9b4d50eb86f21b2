import Foundation
import SyspectCore
import SyspectPostgres
@testable import SyspectStore
import Testing

@Suite("SQLite store specifics")
struct SQLiteStoreTests {
    @Test func createsFoldersAndUsesDurableWAL() throws {
        let db = try TestDatabase(.sqlite)
        defer { db.destroy() }
        let store = try db.open()
        guard case .sqlite(let path) = db.location else { Issue.record("not SQLite"); return }
        #expect(FileManager.default.fileExists(atPath: path))
        let pragmas = try store.database.write { db in
            (try db.query("PRAGMA journal_mode", []), try db.query("PRAGMA synchronous", []),
             try db.query("PRAGMA foreign_keys", []), try db.query("PRAGMA application_id", []))
        }
        #expect(pragmas.0.first?.values == [.text("wal")])
        #expect(pragmas.1.first?.values == [.integer(2)])  // FULL
        #expect(pragmas.2.first?.values == [.integer(1)])
        #expect(pragmas.3.first?.values == [.integer(0x5359_5350)])
    }

    @Test func refusesAFileThatIsNotSQLite() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("notes.txt").path
        let text = String(repeating: "not a database\n", count: 100)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: StoreError.notASyspectDatabase(path: path, reason: "not an SQLite file")) {
            try SQLiteStore(path: path)
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
    }

    @Test func refusesAnotherProgramsDatabase() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("other.db").path
        let sqlite3 = Process()
        sqlite3.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        sqlite3.arguments = [path, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)"]
        try sqlite3.run()
        sqlite3.waitUntilExit()
        try #require(sqlite3.terminationStatus == 0)
        #expect(throws: StoreError.notASyspectDatabase(path: path, reason: "it holds tables of another program")) {
            try SQLiteStore(path: path)
        }
    }

    @Test func unwritableFolderIsAClearError() throws {
        let error = #expect(throws: StoreError.self) { try SQLiteStore(path: "/proc/syspect/syspect.db") }
        guard case .cannotOpen(let path, _)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(path == "/proc/syspect/syspect.db")
    }
}

@Suite("Store location (--db, SYSPECT_DB, default path)")
struct StoreLocationTests {
    @Test func defaultPathFollowsXDG() throws {
        #expect(try StoreLocation.resolve(flag: nil, environment: ["HOME": "/home/ada"])
            == .sqlite(path: "/home/ada/.local/share/syspect/syspect.db"))
        #expect(try StoreLocation.resolve(flag: nil, environment: ["HOME": "/home/ada", "XDG_DATA_HOME": "/data"])
            == .sqlite(path: "/data/syspect/syspect.db"))
        // A relative XDG_DATA_HOME is invalid per the XDG spec: ignored.
        #expect(try StoreLocation.resolve(flag: nil, environment: ["HOME": "/home/ada", "XDG_DATA_HOME": "data"])
            == .sqlite(path: "/home/ada/.local/share/syspect/syspect.db"))
    }

    @Test func flagOverridesEnvironmentOverridesDefault() throws {
        let env = ["HOME": "/home/ada", "SYSPECT_DB": "postgres://team@db.example:5433/results"]
        #expect(try StoreLocation.resolve(flag: nil, environment: env) == .postgres(url: "postgres://team@db.example:5433/results"))
        #expect(try StoreLocation.resolve(flag: "/tmp/x.db", environment: env) == .sqlite(path: "/tmp/x.db"))
        #expect(try StoreLocation.resolve(flag: "sqlite:///tmp/y.db", environment: env) == .sqlite(path: "/tmp/y.db"))
        #expect(try StoreLocation.resolve(flag: "~/r.db", environment: env) == .sqlite(path: NSHomeDirectory() + "/r.db"))
        let relative = try StoreLocation.resolve(flag: "r.db", environment: env)
        #expect(relative == .sqlite(path: FileManager.default.currentDirectoryPath + "/r.db"))
    }

    @Test func unsupportedSchemesAreRejected() {
        #expect(throws: StoreError.self) { try StoreLocation.parse("mysql://root@localhost/x") }
        #expect(throws: StoreError.self) { try StoreLocation.parse("  ") }
    }

    @Test func printedURLsHideThePassword() {
        #expect(StoreLocation.postgres(url: "postgres://u:secret@h:1/d").description == "postgres://u:***@h:1/d")
        #expect(StoreLocation.postgres(url: "postgres://u@h/d").description == "postgres://u@h/d")
    }
}
