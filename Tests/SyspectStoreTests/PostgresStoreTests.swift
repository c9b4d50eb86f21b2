import Foundation
@testable import SyspectPostgres
import SyspectStore
import Testing

@Suite("PostgreSQL connection errors and URL parsing (no server needed)")
struct PostgresConnectionTests {
    @Test func unreachableServerNamesHostAndPort() throws {
        // Port 1 on loopback: nothing listens there, the kernel refuses at once.
        let error = #expect(throws: StoreError.self) { try PostgresStore(url: "postgres://syspect@127.0.0.1:1/syspect") }
        guard case .unreachable(let host, let port, let reason)? = error else {
            Issue.record("expected .unreachable, got \(String(describing: error))")
            return
        }
        #expect(host == "127.0.0.1" && port == 1)
        #expect(reason.contains("refused"))
        let line = error!.description
        #expect(line.contains("127.0.0.1:1") && line.contains("check that the server runs"))
        #expect(!line.contains("\n"))
    }

    @Test func storesFactoryPicksTheBackend() throws {
        #expect(throws: StoreError.self) { try Stores.open(url: "postgresql://syspect@127.0.0.1:1/x", environment: [:]) }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try Stores.open(url: folder.path + "/s.db", environment: [:])
        #expect(store is SQLiteStore)
        #expect(try store.info().backend == "sqlite")
    }

    @Test func urlParts() throws {
        let t = try PostgresTarget(url: "postgres://ann:p%40ss@db.example:6543/results?sslmode=require&schema=team1")
        #expect(t.host == "db.example" && t.port == 6543 && t.user == "ann" && t.password == "p@ss")
        #expect(t.database == "results" && t.tls == .require && t.schema == "team1")
        let d = try PostgresTarget(url: "postgresql://bob@localhost")
        #expect(d.port == 5432 && d.database == "bob" && d.tls == .disable && d.schema == nil && d.password == nil)
        #expect(throws: StoreError.self) { try PostgresTarget(url: "postgres://localhost/db") }  // no user
        #expect(throws: StoreError.self) { try PostgresTarget(url: "postgres://u@h/db?sslmode=maybe") }
        #expect(throws: StoreError.self) { try PostgresTarget(url: "postgres://u@h/db?timeout=3") }
    }

    @Test func placeholdersAreNumberedOutsideQuotes() {
        #expect(PostgresConnectionDatabase.numberingPlaceholders("SELECT ?, '?', \"a?\", ? WHERE x = ?")
            == "SELECT $1, '?', \"a?\", $2 WHERE x = $3")
    }
}

@Suite(
    "PostgreSQL server errors (set SYSPECT_TEST_POSTGRES_URL; .ci/run does)",
    .enabled(if: postgresURL != nil, "SYSPECT_TEST_POSTGRES_URL is unset: no PostgreSQL server to test against"))
struct PostgresServerTests {
    @Test func wrongPasswordIsRejectedClearly() throws {
        var parts = try #require(URLComponents(string: postgresURL!))
        parts.password = "definitely-wrong"
        let error = #expect(throws: StoreError.self) { try PostgresStore(url: parts.string!) }
        guard case .rejected(_, _, let reason)? = error else {
            Issue.record("expected .rejected, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("password"))
        #expect(!error!.description.contains("definitely-wrong"))
    }

    @Test func missingDatabaseIsRejectedClearly() throws {
        var parts = try #require(URLComponents(string: postgresURL!))
        parts.path = "/no_such_database_for_syspect"
        let error = #expect(throws: StoreError.self) { try PostgresStore(url: parts.string!) }
        #expect(error?.description.contains("no_such_database_for_syspect") == true)
    }
}
