import Foundation
import SyspectCore
import SyspectTrace
import Testing

/// A real program: sqlite3 running a SQL script that writes a database in a transaction.
@Suite(.serialized) struct RealProgramTests {
    @Test func sqlite3ScriptShowsFileIOAndSync() throws {
        let dir = try scratchDirectory()
        let script = dir + "/script.sql"
        try """
            CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
            BEGIN;
            INSERT INTO t(v) VALUES ('a'), ('b'), ('c');
            COMMIT;
            SELECT count(*) FROM t;
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let result = try Tracer.run(LaunchOptions(
            arguments: ["sh", "-c", "sqlite3 \(dir)/test.db \".read \(script)\""], stdoutPath: dir + "/out",
            targets: ["sqlite3"]))
        #expect(result.exitCode == 0)
        #expect(try String(contentsOfFile: dir + "/out", encoding: .utf8) == "3\n")
        #expect(result.targetsSeen.count == 1 && result.targetsSeen[0].hasSuffix("sqlite3"))
        let names = Set(result.census.map(\.name))
        for name in ["openat", "read", "write"] { #expect(names.contains(name), "\(name) missing: \(names.sorted())") }
        #expect(!names.isDisjoint(with: ["fsync", "fdatasync", "sync_file_range", "msync"]), "\(names.sorted())")
        #expect(!names.contains("wait4"), "the shell is not a target")
    }
}
