import Foundation
import SyspectCore
@testable import SyspectStore
import Testing

/// Schema version 7 ("planned-probes"): the cluster coordinator's plan and the outcomes its tasks
/// store once each (docs/cluster.md), on SQLite and (when SYSPECT_TEST_POSTGRES_URL is set) PostgreSQL.
func plannedProbesRoundTrip(_ backend: Backend) throws {
    let db = try TestDatabase(backend)
    defer { db.destroy() }
    let store = try db.open()
    let key = Fixtures.exploration.key
    let entries = [ProbePlanEntry(policy: "baseline", replica: 1, census: true, request: "{\"a\":1}"),
                   ProbePlanEntry(policy: "stub:3", replica: 1, census: false, request: "{\"b\":2}")]
    #expect(throws: StoreError.unknownExploration(key)) { try store.plan(entries, exploration: key) }
    try store.beginExploration(Fixtures.exploration)
    let first = try store.plan(entries, exploration: key)
    #expect(first.map(\.index) == [0, 1])
    // Indices go on after the highest, never reused.
    let more = try store.plan([entries[1]], exploration: key)
    #expect(more.map(\.index) == [2])
    try store.markSubmitted(exploration: key, indices: [0, 2], job: 41)
    try store.markSubmitted(exploration: key, indices: [2], job: 57)
    var stored = try store.plannedProbes(exploration: key, indices: nil)
    #expect(stored.map(\.index) == [0, 1, 2])
    #expect(stored.map(\.job) == [41, nil, 57])
    #expect(stored.map(\.submissions) == [1, 0, 2])
    #expect(stored[0].policy == "baseline" && stored[0].census && stored[0].request == "{\"a\":1}")
    #expect(stored.allSatisfy { $0.outcome == nil && $0.run == nil && $0.collectedAt == nil })

    // The first outcome stays; a second task of the same index changes nothing.
    #expect(try store.storeOutcome(exploration: key, index: 2, outcome: .fail, run: "{\"run\":1}", host: "node-a"))
    #expect(try !store.storeOutcome(exploration: key, index: 2, outcome: .pass, run: "{\"run\":2}", host: "node-b"))
    #expect(throws: StoreError.self) { try store.storeOutcome(exploration: key, index: 9, outcome: .pass, run: "{}", host: "n") }
    try store.markCollected(exploration: key, indices: [2])
    stored = try store.plannedProbes(exploration: key, indices: [2, 1])
    #expect(stored.map(\.index) == [1, 2])
    #expect(stored[1].outcome == .fail && stored[1].run == "{\"run\":1}" && stored[1].host == "node-a")
    #expect(stored[1].finishedAt != nil && stored[1].collectedAt != nil)
    #expect(stored[0].outcome == nil && stored[0].collectedAt == nil)
    #expect(try store.plannedProbes(exploration: key, indices: []).isEmpty)
}

@Suite("Planned probes (schema 7) on SQLite")
struct SQLitePlannedProbeStoreTests {
    @Test func roundTrip() throws { try plannedProbesRoundTrip(.sqlite) }
}

@Suite(
    "Planned probes (schema 7) on PostgreSQL",
    .enabled(if: postgresURL != nil, "SYSPECT_TEST_POSTGRES_URL is unset: no PostgreSQL server to test against"))
struct PostgresPlannedProbeStoreTests {
    @Test func roundTrip() throws { try plannedProbesRoundTrip(.postgres) }
}
