import Foundation
import SyspectTestSupport
import SyspectCore
@testable import SyspectStore
import Testing

/// The built `syspect` next to the test bundle (`swift build` puts both in the same folder).
let syspectBinary = Bundle.main.bundleURL.appendingPathComponent("syspect").path

struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

func runSyspect(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: StoreLocation.environmentVariable)
    let output = try runProgram(syspectBinary, arguments, environment: env.merging(environment) { $1 })
    return CommandResult(status: output.status, stdout: output.stdout, stderr: output.stderr)
}

@Suite(
    "syspect db (the built binary)",
    .enabled(if: FileManager.default.isExecutableFile(atPath: syspectBinary), "no built syspect at \(syspectBinary): run swift build first"))
struct DbCommandTests {
    @Test
    func importInfoExport() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.path + "/results.db"
        let imported = try runSyspect(["db", "import-loupedb", loupedbDirectory, "--db", db])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.hasPrefix("imported 125 runs of 116 applications"))
        let info = try runSyspect(["db", "info", "--json"], environment: ["SYSPECT_DB": db])
        #expect(info.status == 0)
        let parsed = try JSONDecoder().decode(StoreInfo.self, from: Data(info.stdout.utf8))
        #expect(parsed.location == db && parsed.backend == "sqlite")
        #expect(parsed.counts.measurements == 125 && parsed.counts.apps == 116)
        #expect(parsed.schemaVersion == StoreSchema.currentVersion)
        let exported = try runSyspect(["db", "export-loupedb", folder.path + "/out", "--db", db, "--apps", "nginx,redis"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let expected = try Loupedb.read(directory: loupedbDirectory).runs.filter { ["nginx", "redis"].contains($0.app) }.count
        #expect(exported.stdout.hasPrefix("exported \(expected) measurements"))
        #expect(FileManager.default.fileExists(atPath: folder.path + "/out/nginx/suite-nginx-tests/imported/data/dyn.csv"))
        let again = try runSyspect(["db", "export-loupedb", folder.path + "/out", "--db", db])
        #expect(again.status == 1)
        #expect(again.stderr.contains("not empty") && again.stderr.contains("--overwrite"))
    }

    @Test func errorsAreOneLineWithStatusOne() throws {
        let unreachable = try runSyspect(["db", "info", "--db", "postgres://syspect@127.0.0.1:1/syspect"])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("cannot reach PostgreSQL at 127.0.0.1:1"))
        #expect(unreachable.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count == 1)

        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.path + "/future.db"
        let later = StoreSchema.currentVersion + 1
        do {
            let store = try SQLiteStore(path: db)
            try store.database.write { try $0.execute("INSERT INTO grdb_migrations (identifier) VALUES ('\(String(format: "%04d", later))-later')", []) }
        }
        let newer = try runSyspect(["db", "info", "--db", db])
        #expect(newer.status == 1)
        #expect(newer.stderr.contains("schema version \(later)") && newer.stderr.contains("upgrade syspect"), "\(newer.stderr)")

        let missing = try runSyspect(["db", "import-loupedb", folder.path + "/missing", "--db", folder.path + "/fresh.db"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains(folder.path + "/missing"))

        let scheme = try runSyspect(["db", "info", "--db", "mysql://root@localhost/x"])
        #expect(scheme.status == 64)
        #expect(scheme.stderr.contains("unsupported scheme 'mysql'"))
    }

    @Test
    func badRowNamesFileAndLineAndImportsNothing() throws {
        let copy = try LoupedbInteropTests.copyWithBadRow()
        defer { try? FileManager.default.removeItem(at: copy.root.deletingLastPathComponent()) }
        let db = copy.root.deletingLastPathComponent().path + "/fresh.db"
        let badRow = try runSyspect(["db", "import-loupedb", copy.root.path, "--db", db])
        #expect(badRow.status == 1)
        #expect(badRow.stderr.contains(copy.relativeFile + ":42: bad row '40,Y,maybe,N,N'"))
        #expect(badRow.stderr.contains("nothing was imported") && badRow.stderr.contains("--on-bad-row skip"))
        #expect(try SQLiteStore(path: db).info().counts.measurements == 0)
    }
}
