import Foundation
import SyspectCore
import SyspectReport
@testable import SyspectServe
@testable import SyspectStore
import Testing

/// The JSON API over HTTP: a real server on a free loopback port, over SQLite and (with
/// SYSPECT_TEST_POSTGRES_URL) PostgreSQL, asked by a real client (URLSession).
@Suite(.serialized) struct ServeHTTPTests {
    static let key = "redis/benchmark-redis-benchmark/s1"

    /// A database holding one finished redis exploration with findings, impact and its measurement.
    static func seeded(_ backend: ServeBackend) throws -> (ServeTestDatabase, any ManagedStore & SQLResultStore) {
        let db = try ServeTestDatabase(backend)
        let store = try db.open()
        try ServeFixtures.store(store, record: ServeFixtures.record(), probes: [("baseline", .pass), ("stub:39", .pass), ("fake:39", .fail)],
                                measurement: ServeFixtures.measurement(), extras: true)
        return (db, store)
    }

    @Test(arguments: ServeBackend.available)
    func everyRouteAnswers(_ backend: ServeBackend) async throws {
        let (db, store) = try Self.seeded(backend)
        defer { db.destroy() }
        let secret = Tokens.generate()
        #expect(try store.addToken(name: "ci", hash: Tokens.hash(secret)))
        var asked = Set<APIRoute>()
        try await withServer(Site(store: store)) { http in
            func get(_ path: String, _ route: String) async throws -> HTTPAnswer {
                asked.insert(APIRoute(.get, route))
                let answer = try await http.get(path)
                #expect(answer.status == 200, "GET \(path): \(answer.status) \(answer.text.prefix(300))")
                return answer
            }
            func post(_ path: String, _ route: String, _ body: String, _ type: String = "application/json",
                      headers: [String: String] = [:]) async throws -> HTTPAnswer {
                asked.insert(APIRoute(.post, route))
                let answer = try await http.post(path, body: Data(body.utf8), contentType: type, headers: headers)
                #expect(answer.status == 200, "POST \(path): \(answer.status) \(answer.text.prefix(300))")
                return answer
            }

            let info = try await get("/api/v1/info", "/api/v1/info").json(ServerInfo.self)
            #expect(info.schemaVersion == StoreSchema.currentVersion && info.readAccess == .public && info.bundled)
            #expect(info.measurements == BundledLoupedb.dataset.measurements.count + 1 && info.explorations == 1)

            let catalogue = try await get("/api/v1/apps?q=redis&source=syspect&kind=benchmark", "/api/v1/apps").json(Catalogue.self)
            #expect(catalogue.entries.count == 1)
            #expect(catalogue.entries.first?.explored == true && catalogue.entries.first?.probes == 3)
            #expect(catalogue.entries.first?.counts == VerdictCounts(ServeFixtures.measurement().verdicts))
            let all = try await http.get("/api/v1/apps").json(Catalogue.self)
            #expect(all.apps == 116 && all.entries.count == all.total)

            let app = try await get("/api/v1/apps/redis", "/api/v1/apps/{app}").json(AppDetail.self)
            #expect(Set(app.workloads.map(\.source)) == [.loupedb, .syspect])

            let detail = try await get("/api/v1/apps/redis/benchmark-redis-benchmark", "/api/v1/apps/{app}/{workload}").json(AppDetail.self)
            let ours = try #require(detail.workloads.first { $0.source == .syspect })
            #expect(ours.calls.first { $0.number == 39 }?.evidence.map(\.policy) == ["fake:39", "stub:39"])
            #expect(ours.features.map(\.name) == ["F_GETFL"] && ours.files.map(\.path) == ["/proc/self/status"])
            #expect(ours.impact.first?.flagged == true && ours.impact.first?.performance == -0.1)
            #expect(ours.exploration?.key == Self.key && ours.exploration?.probes == 3)
            #expect(ours.staticBound?.count == 4)

            let exports = "/api/v1/apps/{app}/{workload}/export"
            let json = try await get("/api/v1/apps/redis/benchmark-redis-benchmark/export?format=json", exports)
            #expect(try json.json(WorkloadDetail.self).source == .syspect)
            #expect(json.header("Content-Disposition")?.contains("redis-benchmark-redis-benchmark.json") == true)
            let csv = try await get("/api/v1/apps/redis/benchmark-redis-benchmark/export?format=csv&source=loupedb", exports)
            #expect(csv.header("Content-Type")?.hasPrefix("text/csv") == true && csv.text.contains("number,name,verdict"))
            #expect(csv.text.contains("source loupedb:redis/"))
            let seccomp = try await get("/api/v1/apps/redis/benchmark-redis-benchmark/export?format=seccomp", exports)
            let profile = try JSONDecoder().decode(SeccompProfile.self, from: seccomp.body)
            #expect(profile.defaultAction == "SCMP_ACT_ERRNO" && profile.syscalls.flatMap(\.names).contains("getpid"))
            let tar = try await get("/api/v1/apps/redis/benchmark-redis-benchmark/export?format=loupedb", exports)
            #expect(tar.header("Content-Type") == "application/x-tar" && tar.body.count % 512 == 0 && tar.body.count >= 3 * 512)

            let compare = try await get("/api/v1/compare?apps=redis,nginx&workload=benchmark", "/api/v1/compare").json(Comparison.self)
            #expect(compare.apps == ["redis", "nginx"] && compare.rows.contains { $0.verdicts["redis"] == .stub && $0.number == 39 })

            let os = try await get("/api/v1/os", "/api/v1/os").json([OSListEntry].self)
            #expect(os.count == BundledLoupedb.dataset.osSupport.count && os.contains { $0.name == "Kerla" })

            let plan = try await get("/api/v1/plan?os=Kerla&apps=redis,nginx&workload=benchmark", "/api/v1/plan").json(PlanView.self)
            #expect(plan.os == "Kerla" && plan.apps == ["nginx", "redis"] && !plan.steps.isEmpty && plan.curves != nil)
            let uploaded = try await post("/api/v1/plan", "/api/v1/plan",
                                          #"{"osList": "read\nwrite\nclose\n", "osName": "tiny", "apps": ["redis"], "curves": false}"#).json(PlanView.self)
            #expect(uploaded.os == "tiny" && uploaded.osSyscallCount == 3 && uploaded.curves == nil)
            let form = try await http.post("/api/v1/plan", body: Data("os=kerla&apps=redis%2Cnginx&workload=all&curves=false".utf8),
                                           contentType: "application/x-www-form-urlencoded").json(PlanView.self)
            #expect(form.os == "Kerla" && form.apps == ["nginx", "redis"])

            let stubs = try await get("/api/v1/plan/stubs?os=Kerla&apps=redis", "/api/v1/plan/stubs")
            #expect(stubs.header("Content-Type")?.hasPrefix("text/x-csrc") == true && stubs.text.contains("-ENOSYS"))
            let postedStubs = try await post("/api/v1/plan/stubs", "/api/v1/plan/stubs", "os=Kerla&apps=redis", "application/x-www-form-urlencoded")
            #expect(postedStubs.text == stubs.text)

            // A push of a second exploration, with the token.
            let second = PushedExploration(exploration: ServeFixtures.record(key: "redis/benchmark-redis-benchmark/s2", specHash: "s2", startedAt: 3000, finishedAt: 4000),
                                           probes: [ServeFixtures.probe("redis/benchmark-redis-benchmark/s2", "baseline", .pass)])
            let pushed = try await post("/api/v1/push", "/api/v1/push",
                                        String(decoding: try PushBundle.encoder().encode(PushBundle(explorations: [second])), as: UTF8.self),
                                        headers: ["Authorization": "Bearer \(secret)"]).json(PushSummary.self)
            #expect(pushed.token == "ci" && pushed.probesAdded == 1 && pushed.explorations.first?.created == true)
            #expect(try await http.get("/api/v1/info").json(ServerInfo.self).explorations == 2, "the site sees a push at once")
        }
        #expect(asked == Set(APIRoutes.all), "routes not asked: \(Set(APIRoutes.all).subtracting(asked))")
    }

    @Test(arguments: ServeBackend.available)
    func badRequestsGetA4xxWithAMessageAndWriteNothing(_ backend: ServeBackend) async throws {
        let (db, store) = try Self.seeded(backend)
        defer { db.destroy() }
        let good = Tokens.generate(), revoked = Tokens.generate()
        #expect(try store.addToken(name: "good", hash: Tokens.hash(good)))
        #expect(try store.addToken(name: "old", hash: Tokens.hash(revoked)))
        #expect(try store.revokeToken(name: "old"))
        #expect(try !store.revokeToken(name: "old"), "revoking twice is refused")
        #expect(try !store.addToken(name: "good", hash: Tokens.hash(Tokens.generate())), "names are unique")
        let before = try writeCounts(store)
        let site = Site(store: store, configuration: SiteConfiguration(maxBodyBytes: 64 << 10))
        let bundle = PushBundle(explorations: [PushedExploration(
            exploration: ServeFixtures.record(key: "x/y/z", specHash: "z"), probes: [ServeFixtures.probe("x/y/z", "baseline", .pass)])])
        let body = try PushBundle.encoder().encode(bundle)
        try await withServer(site) { http in
            func refused(_ answer: HTTPAnswer, _ status: Int, _ fragment: String) throws {
                #expect(answer.status == status, "\(answer.status) \(answer.text)")
                let message = try #require(answer.errorMessage, "no JSON message: \(answer.text)")
                #expect(message.contains(fragment), "\(message)")
                #expect(try writeCounts(store) == before, "something was written after: \(message)")
            }
            try refused(try await http.post("/api/v1/push", body: body), 401, "needs a token")
            try refused(try await http.post("/api/v1/push", body: body, headers: ["Authorization": "Bearer syspect_wrong"]), 403, "unknown or revoked")
            try refused(try await http.post("/api/v1/push", body: body, headers: ["Authorization": "Bearer \(revoked)"]), 403, "unknown or revoked")
            let auth = ["Authorization": "Bearer \(good)"]
            try refused(try await http.post("/api/v1/push", body: body, contentType: "text/plain", headers: auth), 415, "application/json")
            try refused(try await http.post("/api/v1/push", body: Data("{\"format\": \"syspect-push\", ".utf8), headers: auth), 400, "not a valid syspect push")
            try refused(try await http.post("/api/v1/push", body: Data(#"{"format":"syspect-push","schemaVersion":1,"syspect":"x"}"#.utf8), headers: auth),
                        400, "missing key 'explorations'")
            var newer = bundle
            newer.schemaVersion = StoreSchema.currentVersion + 1
            try refused(try await http.post("/api/v1/push", body: try PushBundle.encoder().encode(newer), headers: auth), 422, "newer syspect")
            var big = bundle
            big.explorations[0].exploration.specText = String(repeating: "x", count: 100 << 10)
            try refused(try await http.post("/api/v1/push", body: try PushBundle.encoder().encode(big), headers: auth), 413, "over the server's limit")
            var clash = bundle
            clash.explorations = [PushedExploration(exploration: ServeFixtures.record(specHash: "other"), probes: [])]
            try refused(try await http.post("/api/v1/push", body: try PushBundle.encoder().encode(clash), headers: auth), 409, "nothing was written")
            try refused(try await http.get("/api/v1/plan?os=Kerlaa"), 404, "closest: Kerla")
            try refused(try await http.post("/api/v1/plan", body: Data(#"{"osList": "read\nnot_a_call\n"}"#.utf8)), 400, "not_a_call")
            try refused(try await http.post("/api/v1/plan", body: Data("[1,2".utf8)), 400, "not valid JSON")
            try refused(try await http.get("/api/v1/plan?os=Kerla&workload=sometimes"), 400, "unknown workload kind")
            try refused(try await http.get("/api/v1/apps/nosuchapp"), 404, "no application 'nosuchapp'")
            try refused(try await http.get("/api/v1/apps?kind=weekly"), 400, "unknown kind")
            try refused(try await http.get("/api/v1/apps/redis/benchmark-redis-benchmark/export?format=zip"), 400, "format must be one of")
            try refused(try await http.get("/api/v1/compare?apps=redis"), 400, "two or more")
            try refused(try await http.get("/api/v1/nothing-here"), 404, "no such page or API route")
            let wrongMethod = try await http.send("DELETE", "/api/v1/apps/redis", headers: [:], body: nil)
            try refused(wrongMethod, 405, "answers GET, not DELETE")
            #expect(wrongMethod.header("Allow") == "GET")
            #expect(try await http.get("/api/v1/push").header("Allow") == "POST")
        }
    }

    @Test(arguments: ServeBackend.available)
    func aPushMergesByExplorationKeyAndNeverOverwritesTheServersProbes(_ backend: ServeBackend) async throws {
        // The shared server holds exploration s1 with two probes.
        let serverDB = try ServeTestDatabase(backend), localDB = try ServeTestDatabase(.sqlite)
        defer { serverDB.destroy(); localDB.destroy() }
        let server = try serverDB.open(), local = try localDB.open()
        try ServeFixtures.store(server, record: ServeFixtures.record(), probes: [("baseline", .pass), ("stub:39", .fail)],
                                measurement: ServeFixtures.measurement([0: .required, 39: .required]))
        // A teammate's store: the same exploration with a conflicting and a new probe, findings and
        // impact, and a later exploration of a changed spec with its measurement.
        try ServeFixtures.store(local, record: ServeFixtures.record(), probes: [("baseline", .pass), ("stub:39", .pass), ("fake:39", .pass)], extras: true)
        let later = ServeFixtures.record(key: "redis/benchmark-redis-benchmark/s2", specHash: "s2", startedAt: 5000, finishedAt: 6000)
        try ServeFixtures.store(local, record: later, probes: [("baseline", .pass), ("stub:3", .pass)], measurement: ServeFixtures.measurement())
        let secret = Tokens.generate()
        #expect(try server.addToken(name: "teammate", hash: Tokens.hash(secret)))
        let site = Site(store: server)

        let bundle = try PushClient.bundle(from: local, app: "redis")
        #expect(bundle.explorations.map(\.exploration.key) == [Self.key, later.key])
        #expect(bundle.explorations.map { $0.measurement != nil } == [false, true], "the measurement goes with the latest exploration")

        try await withServer(site) { http in
            let summary = try await PushClient.send(bundle, to: http.base, token: secret)
            #expect(summary.token == "teammate" && summary.probesAdded == 3 && summary.probesKept == 1)
            let first = try #require(summary.explorations.first { $0.key == Self.key })
            #expect(!first.created && first.probesAdded == 1 && first.probesAlreadyPresent == 1)
            #expect(first.conflicts == [ProbeConflict(policy: "stub:39", replica: 1, serverOutcome: .fail, pushedOutcome: .pass)])
            #expect(first.findings == "added" && first.impactRunsAdded == 4 && first.impactResultsAdded == 1)
            let second = try #require(summary.explorations.first { $0.key == later.key })
            #expect(second.created && second.probesAdded == 2 && second.measurement == "saved")

            let probes = try server.probes(exploration: Self.key)
            #expect(probes.map(\.policy).sorted() == ["baseline", "fake:39", "stub:39"])
            #expect(probes.first { $0.policy == "stub:39" }?.outcome == .fail, "the server's probe is kept")
            #expect(probes.first { $0.policy == "fake:39" }?.resources?.peakFDs == 9, "a pushed probe arrives whole")
            #expect(try server.exploration(key: Self.key)?.probeCount == 3)
            #expect(try server.findings(exploration: Self.key) == ServeFixtures.findings())
            #expect(try server.impactResults(exploration: Self.key).count == 1)
            #expect(try server.probes(exploration: later.key).count == 2)
            let measurements = try server.measurements(apps: ["redis"], kind: nil).filter { $0.source == "syspect" }
            #expect(measurements == [ServeFixtures.measurement()], "the latest finished exploration's measurement")
            // The site shows the merged data at once.
            let page = try await http.get("/api/v1/apps/redis/benchmark-redis-benchmark").json(AppDetail.self)
            #expect(page.workloads.first { $0.source == .syspect }?.exploration?.key == later.key)

            // Pushing again changes nothing.
            let again = try await PushClient.send(bundle, to: http.base, token: secret)
            #expect(again.probesAdded == 0 && again.probesKept == 1)
            #expect(again.explorations.map(\.probesAlreadyPresent) == [2, 2])
            #expect(try server.probes(exploration: Self.key).count == 3)
            #expect(try server.pushes().map(\.tokenName) == ["teammate", "teammate"])
        }
    }

    @Test func tokenReadsRefuseAnonymousReaders() async throws {
        let (db, store) = try Self.seeded(.sqlite)
        defer { db.destroy() }
        let secret = Tokens.generate()
        #expect(try store.addToken(name: "reader", hash: Tokens.hash(secret)))
        try await withServer(Site(store: store, configuration: SiteConfiguration(readAccess: .token))) { http in
            let anonymous = try await http.get("/api/v1/apps")
            #expect(anonymous.status == 401 && anonymous.errorMessage?.contains("--token-reads") == true)
            #expect(try await http.get("/").status == 401, "pages are covered too")
            #expect(try await http.get("/api/v1/apps", headers: ["Authorization": "Bearer \(secret)"]).status == 200)
            #expect(try await http.get("/api/v1/apps", headers: ["Cookie": "syspect_token=\(secret)"]).status == 200)
            #expect(try await http.get("/api/v1/apps", headers: ["Authorization": "Bearer nope"]).status == 403)
            #expect(try await http.get("/api/v1/info").json(ServerInfo.self).readAccess == .token)
        }
    }

    @Test func withoutADatabaseTheSiteServesTheBundledData() async throws {
        try await withServer(Site(store: nil)) { http in
            #expect(try await http.get("/api/v1/apps").json(Catalogue.self).apps == 116)
            let push = try await http.post("/api/v1/push", body: Data("{}".utf8), headers: ["Authorization": "Bearer x"])
            #expect(push.status == 403 && push.errorMessage?.contains("--db") == true)
        }
    }
}
