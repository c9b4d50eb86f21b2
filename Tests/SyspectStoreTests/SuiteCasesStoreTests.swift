import Foundation
import SyspectCore
@testable import SyspectStore
import Testing

/// Schema version 5 ("suite-cases"): a suite's test cases per journaled probe (docs/suites.md),
/// on SQLite and (when SYSPECT_TEST_POSTGRES_URL is set) PostgreSQL.
func suiteCasesRoundTrip(_ backend: Backend) throws {
    let db = try TestDatabase(backend)
    defer { db.destroy() }
    let store = try db.open()
    try store.beginExploration(Fixtures.exploration)
    var baseline = Fixtures.probe("baseline", replica: 1)
    baseline.passedCases = ["tests/hello-1", "tests/last-1"]
    var broken = Fixtures.probe("stub:3", replica: 1)
    broken.outcome = .fail
    broken.brokenCases = ["tests/last-1"]
    let plain = Fixtures.probe("stub:3", replica: 2)
    var noResults = Fixtures.probe("baseline", replica: 2)
    noResults.passedCases = []  // results found, none passed: not the same as nil (no results)
    for probe in [baseline, broken, plain, noResults] { try store.record(probe) }
    let stored = try store.probes(exploration: Fixtures.exploration.key)
    #expect(Set(stored) == [baseline, broken, plain, noResults])
    // Recording again replaces the cases.
    broken.brokenCases = ["tests/hello-1"]
    try store.record(broken)
    #expect(try store.probes(exploration: Fixtures.exploration.key).first { $0.policy == "stub:3" && $0.replica == 1 }?.brokenCases
        == ["tests/hello-1"])
}

@Suite("Suite cases (schema 5) on SQLite")
struct SQLiteSuiteCasesStoreTests {
    @Test func roundTrip() throws { try suiteCasesRoundTrip(.sqlite) }
}

@Suite(
    "Suite cases (schema 5) on PostgreSQL",
    .enabled(if: postgresURL != nil, "SYSPECT_TEST_POSTGRES_URL is unset: no PostgreSQL server to test against"))
struct PostgresSuiteCasesStoreTests {
    @Test func roundTrip() throws { try suiteCasesRoundTrip(.postgres) }
}
