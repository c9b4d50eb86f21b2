import Foundation
import Hummingbird
import SyspectCore
import SyspectPlan
import SyspectReport

/// What the site shows, read once from the store (and the bundled loupedb data): every
/// measurement and exploration. Queries run on this value alone; `Site` refreshes it.
public struct SiteData: Sendable {
    /// The store's measurements, then the bundled ones the store does not hold (same app,
    /// workload and source), ordered by app, workload, source.
    public var measurements: [SyspectCore.Measurement]
    /// The store's explorations by "app/workload", oldest first.
    public var explorations: [String: [ExplorationRecord]]
    /// Support lists by name (the bundled ones).
    public var osSupport: [String: OSSupport]
    /// The bundled loupedb data is part of `measurements`.
    public var bundled: Bool
    /// One catalogue entry per measurement, in the same order (built once per snapshot).
    public var entries: [CatalogueEntry] = []

    public init(stored: [SyspectCore.Measurement], explorations: [ExplorationRecord], bundled: LoupedbDataset?) {
        var seen = Set(stored.map { "\($0.app)\u{0}\($0.workload)\u{0}\($0.source)" })
        var all = stored
        for m in bundled?.measurements ?? [] where seen.insert("\(m.app)\u{0}\(m.workload)\u{0}\(m.source)").inserted {
            all.append(m)
        }
        measurements = all.sorted { ($0.app, $0.workload, $0.source) < ($1.app, $1.workload, $1.source) }
        self.explorations = Dictionary(grouping: explorations) { "\($0.app)/\($0.workload)" }
            .mapValues { $0.sorted { $0.startedAt < $1.startedAt } }
        osSupport = (bundled ?? BundledLoupedb.dataset).osSupport
        self.bundled = bundled != nil
        entries = measurements.map(SiteQueries.entry(self))
    }

    /// The latest exploration of (app, workload), as `syspect show` picks it.
    public func latestExploration(app: String, workload: String) -> ExplorationRecord? {
        explorations["\(app)/\(workload)"]?.last
    }

    /// One measurement per (app, workload) for plans and comparisons: the one measured by
    /// syspect when there is one (it is this team's own, newer measurement), else loupedb's.
    public var planMeasurements: [SyspectCore.Measurement] {
        var chosen: [String: SyspectCore.Measurement] = [:]
        for m in measurements {
            let key = m.id
            if let other = chosen[key], SourceKind(source: other.source) == .syspect { continue }
            chosen[key] = m
        }
        return chosen.values.sorted { $0.id < $1.id }
    }

    public var appNames: [String] { Array(Set(measurements.map(\.app))).sorted() }
}

/// An exploration's journal and findings, fetched from the store for one page.
public struct ExplorationExtras: Sendable {
    public var record: ExplorationRecord
    public var probes: [ProbeRecord]
    public var findings: FeatureFindings
    public var impact: [ImpactResult]
    public var staticAnalysis: ExplorationStatic?

    public init(record: ExplorationRecord, probes: [ProbeRecord], findings: FeatureFindings = FeatureFindings(),
                impact: [ImpactResult] = [], staticAnalysis: ExplorationStatic? = nil) {
        self.record = record
        self.probes = probes
        self.findings = findings
        self.impact = impact
        self.staticAnalysis = staticAnalysis
    }
}

/// A request the site refuses: an HTTP status and one line naming the problem and the fix.
public struct SiteError: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    /// Extra response headers (e.g. `Allow` of a 405).
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    public var description: String { message }

    static func badRequest(_ message: String) -> SiteError { SiteError(.badRequest, message) }
    static func notFound(_ message: String) -> SiteError { SiteError(.notFound, message) }
}

/// The site's queries: pure functions of a `SiteData` snapshot (and, for one workload, its
/// exploration's journal).
public enum SiteQueries {
    // MARK: - Catalogue

    public static func catalogue(_ data: SiteData, _ query: CatalogueQuery) -> Catalogue {
        let text = query.text?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        let entries = data.entries.filter { e in
            (query.kind == nil || e.kind == query.kind)
                && (query.source == nil || e.source == query.source)
                && (text.isEmpty || e.app.lowercased().contains(text) || e.workload.lowercased().contains(text))
        }
        return Catalogue(query: query, entries: entries, apps: Set(entries.map(\.app)).count, total: data.entries.count)
    }

    /// The catalogue entry of one measurement of `data`.
    static func entry(_ data: SiteData) -> (SyspectCore.Measurement) -> CatalogueEntry {
        { m in
            let source = SourceKind(source: m.source)
            let exploration = source == .syspect ? data.latestExploration(app: m.app, workload: m.workload) : nil
            return CatalogueEntry(
                app: m.app, workload: m.workload, kind: m.kind, source: source, sourceDetail: m.source,
                counts: VerdictCounts(m.verdicts), staticBinary: m.staticBinary?.count, explored: exploration != nil,
                probes: exploration?.probeCount, href: pagePath(m.app, m.workload))
        }
    }

    // MARK: - One application

    /// The measurements of `app` (every workload, or only `workload`); 404 naming close names.
    public static func measurements(_ data: SiteData, app: String, workload: String?) throws(SiteError) -> [SyspectCore.Measurement] {
        let ofApp = data.measurements.filter { $0.app == app }
        guard !ofApp.isEmpty else {
            let close = SyscallNameSuggestions.closest(to: app, among: data.appNames)
            throw .notFound("no application '\(app)'" + (close.isEmpty ? "" : " (closest: \(close.joined(separator: ", ")))")
                + "; GET /api/v1/apps lists them")
        }
        guard let workload else { return ofApp }
        let chosen = ofApp.filter { $0.workload == workload }
        guard !chosen.isEmpty else {
            throw .notFound("'\(app)' has no workload '\(workload)'; its workloads: \(Array(Set(ofApp.map(\.workload))).sorted().joined(separator: ", "))")
        }
        return chosen
    }

    /// One workload in full. `extras` is the latest exploration's journal when the measurement
    /// was made by syspect (nil for loupedb data).
    public static func workloadDetail(_ m: SyspectCore.Measurement, extras: ExplorationExtras?) -> WorkloadDetail {
        let probes = extras?.probes ?? []
        var evidence: [Int: [ProbeEvidence]] = [:]
        for p in probes {
            let item = ProbeEvidence(policy: p.policy, replica: p.replica, outcome: p.outcome, reason: p.reason, seconds: p.durationSeconds)
            for number in probedCalls(p.policy) { evidence[number, default: []].append(item) }
        }
        let calls = m.traced.map { n in
            CallRow(number: n, name: SyscallTable.displayName(of: n), verdict: m.verdicts[n]!,
                    evidence: (evidence[n] ?? []).sorted { ($0.policy, $0.replica) < ($1.policy, $1.replica) })
        }
        let census = Set((extras?.record.census ?? []).filter { $0.arch == .x86_64 }.map(\.number))
        let run = ReportedRun(measurement: m, tracedOnly: census)
        let listed = (m.staticBinary ?? []).union(m.staticSources ?? [])
        let grid = SyscallTable.x86_64Numbers.map { n in
            let status = run.status(of: n)
            return GridBox(number: n, name: SyscallTable.displayName(of: n), status: status.rawValue,
                           staticOnly: status == .untraced && listed.contains(n))
        }
        let features = (extras?.findings.features ?? []).map { f in
            FeatureRow(syscall: f.use.feature.syscall, syscallName: SyscallTable.displayName(of: f.use.feature.syscall),
                       argument: f.use.feature.argument, name: f.use.feature.name, calls: f.use.calls,
                       failures: f.use.failures, verdict: f.verdict)
        }
        let files = (extras?.findings.files ?? []).map { f in
            FileRow(path: f.use.path, calls: f.use.calls, failures: f.use.failures, absentPasses: f.absentPasses, stubPasses: f.stubPasses)
        }
        let impact = (extras?.impact ?? []).map { r in
            ImpactView(syscall: r.syscall, name: SyscallTable.displayName(of: r.syscall), mode: r.mode, flagged: r.flagged,
                       performance: r.performanceChange, fileDescriptors: r.comparison(.fds)?.change,
                       memory: r.comparison(.memory)?.change, comparisons: r.comparisons)
        }
        let exploration = extras.map { e in
            ExplorationInfo(
                key: e.record.key, strategy: e.record.strategy, startedAt: e.record.startedAt, finishedAt: e.record.finishedAt,
                probes: e.probes.count, passed: e.probes.filter { $0.outcome == .pass }.count,
                failed: e.probes.filter { $0.outcome == .fail }.count, errors: e.probes.filter { $0.outcome == .error }.count,
                wallSeconds: e.record.wallSeconds)
        }
        return WorkloadDetail(
            app: m.app, workload: m.workload, kind: m.kind, source: SourceKind(source: m.source), sourceDetail: m.source,
            counts: VerdictCounts(m.verdicts), calls: calls, grid: grid, features: features, files: files, impact: impact,
            staticBound: staticBound(m, extras?.staticAnalysis), exploration: exploration,
            downloads: ExportFormat.allCases.map { f in
                DownloadLink(format: f.rawValue, label: f.label, href: apiPath(m.app, m.workload) + "/export?format=\(f.rawValue)")
            })
    }

    /// The calls a probe's policy key stubs or fakes as evidence for them: one call
    /// (`stub:41`, `fake:41`, `plausible:41`) or a group of one mode (`group:stub:3,5,7`). The
    /// final run and culprit-search sets (`set:…`), sub-feature and pseudo-file probes are not
    /// per-call evidence (docs/explore.md lists the keys).
    static func probedCalls(_ key: String) -> [Int] {
        let parts = key.split(separator: ":", omittingEmptySubsequences: false)
        switch (parts.first, parts.count) {
        case ("stub", 2), ("fake", 2), ("plausible", 2):
            return Int(parts[1]).map { [$0] } ?? []
        case ("group", 3) where parts[1] == "stub" || parts[1] == "fake":
            let numbers = parts[2].split(separator: ",").compactMap { Int($0) }
            return numbers.count == parts[2].split(separator: ",").count ? numbers : []
        default:
            return []
        }
    }

    /// syspect's own static analysis when stored with the exploration, else the measurement's
    /// static_binary set (loupedb's, or syspect's for a measurement it made).
    static func staticBound(_ m: SyspectCore.Measurement, _ stored: ExplorationStatic?) -> StaticBound? {
        let set: Set<Int>, source: String
        if let stored {
            (set, source) = (stored.analysis.syscalls, "syspect")
        } else if let binary = m.staticBinary {
            (set, source) = (binary, SourceKind(source: m.source).rawValue)
        } else {
            return nil
        }
        return StaticBound(count: set.count, source: source, tracedOutside: m.traced.filter { !set.contains($0) })
    }

    // MARK: - Compare

    public static func compare(_ data: SiteData, apps: [String], workload: WorkloadSelection) throws(SiteError) -> Comparison {
        var names: [String] = []
        for a in apps.map({ $0.trimmingCharacters(in: .whitespaces) }) where !a.isEmpty && !names.contains(a) { names.append(a) }
        guard names.count >= 2 else {
            throw .badRequest("compare needs two or more applications, comma-separated (apps=redis,nginx); got \(names.count)")
        }
        for name in names { _ = try measurements(data, app: name, workload: nil) }
        let targets = PlanTarget.targets(from: data.planMeasurements.filter { names.contains($0.app) }, workload: workload)
        let byApp = Dictionary(uniqueKeysWithValues: targets.map { ($0.app, $0) })
        let missing = names.filter { byApp[$0] == nil }
        guard missing.isEmpty else {
            throw .notFound("no \(workload.rawValue) workload for \(missing.joined(separator: ", ")); choose workload=all")
        }
        let numbers = Set(targets.flatMap { $0.verdicts.keys }).sorted()
        return Comparison(
            apps: names, workload: workload,
            counts: Dictionary(uniqueKeysWithValues: names.map { ($0, VerdictCounts(byApp[$0]!.verdicts)) }),
            rows: numbers.map { n in
                CompareRow(number: n, name: SyscallTable.displayName(of: n),
                           verdicts: Dictionary(uniqueKeysWithValues: names.compactMap { a in byApp[a]!.verdicts[n].map { (a, $0) } }))
            })
    }

    // MARK: - Plans

    /// The support list a plan request names: an uploaded list, else a bundled one by name.
    public static func osSupport(_ data: SiteData, _ request: PlanRequest) throws(SiteError) -> OSSupport {
        if let text = request.osList {
            let name = request.osName.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 } ?? "uploaded"
            do {
                let support = try OSSupport.parse(name: name, text: text, file: "the uploaded support list")
                return support
            } catch {
                throw .badRequest("\(error)")
            }
        }
        guard let name = request.os?.trimmingCharacters(in: .whitespaces), !name.isEmpty else {
            throw .badRequest("a plan needs an OS: os=NAME (GET /api/v1/os lists them) or an uploaded support list (osList)")
        }
        if let match = data.osSupport.first(where: { $0.key.lowercased() == name.lowercased() }) { return match.value }
        let known = data.osSupport.keys.sorted()
        let close = SyscallNameSuggestions.closest(to: name, among: known)
        throw .notFound("unknown OS '\(name)'" + (close.isEmpty ? "" : " (closest: \(close.joined(separator: ", ")))")
            + "; known: \(known.joined(separator: ", ")), or upload a support list (osList)")
    }

    /// The plan table, curves and stub skeleton of a request.
    public static func plan(_ data: SiteData, _ request: PlanRequest) throws(SiteError) -> PlanView {
        let (plan, targets, os) = try computePlan(data, request)
        let curves: PlanFigure?
        do {
            curves = request.curves ? try ReportBuilder.planFigure(targets: targets, os: os, workload: request.workload, costs: try costs(request)) : nil
        } catch {
            throw .badRequest("\(error)")
        }
        return PlanView(
            os: plan.os, osSyscallCount: plan.osSyscallCount, apps: plan.apps, workload: plan.workload, steps: plan.steps,
            curve: plan.curve, curves: curves, skeleton: skeleton(plan, targets: targets, request: request),
            stubsHref: "/api/v1/plan/stubs?" + queryString(request))
    }

    /// The C stub skeleton of a request's plan.
    public static func stubSkeleton(_ data: SiteData, _ request: PlanRequest) throws(SiteError) -> StubSkeleton {
        let (plan, targets, _) = try computePlan(data, request)
        return skeleton(plan, targets: targets, request: request)
    }

    private static func skeleton(_ plan: SupportPlan, targets: [PlanTarget], request: PlanRequest) -> StubSkeleton {
        ReportBuilder.stubSkeleton(
            plan: plan, targets: targets,
            provenance: "Served by syspect serve: plan for \(plan.os), \(plan.apps.count) applications, workload \(request.workload.rawValue). "
                + BundledLoupedb.attribution)
    }

    static func costs(_ request: PlanRequest) throws(SiteError) -> SyscallCosts {
        guard let text = request.costs, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return .uniform }
        do { return try SyscallCosts.parse(text: text, source: "the costs") } catch { throw .badRequest("\(error)") }
    }

    private static func computePlan(_ data: SiteData, _ request: PlanRequest) throws(SiteError) -> (SupportPlan, [PlanTarget], OSSupport) {
        let os = try osSupport(data, request)
        let weights = try costs(request)
        let apps = (request.apps ?? []).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        do {
            let targets = try Planner.targets(from: data.planMeasurements, workload: request.workload,
                                              apps: apps.isEmpty || apps.contains("*") ? nil : apps)
            return (try Planner.plan(targets: targets, os: os, workload: request.workload, costs: weights), targets, os)
        } catch {
            if case .unknownApps = error { throw .notFound("\(error)") }
            throw .badRequest("\(error)")
        }
    }

    /// The GET query of a plan request: os, apps, workload, costs (uploaded lists are not repeated: POST them).
    public static func queryString(_ r: PlanRequest) -> String {
        var items: [String] = []
        func add(_ k: String, _ v: String?) { if let v, !v.isEmpty { items.append(k + "=" + escape(v)) } }
        add("os", r.osList == nil ? r.os : nil)
        add("apps", r.apps.map { $0.joined(separator: ",") })
        add("workload", r.workload.rawValue)
        add("costs", r.costs)
        return items.joined(separator: "&")
    }

    // MARK: - Paths

    /// A path segment with everything but unreserved characters percent-encoded.
    public static func escape(_ s: String) -> String {
        if s.utf8.allSatisfy(isUnreserved) { return s }
        var out = ""
        for byte in s.utf8 {
            if isUnreserved(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// RFC 3986 unreserved: ASCII letters, digits, `-._~`.
    private static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
            || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
    }

    /// The page of one workload.
    public static func pagePath(_ app: String, _ workload: String) -> String { "/apps/\(escape(app))/\(escape(workload))" }
    /// The API resource of one workload.
    public static func apiPath(_ app: String, _ workload: String) -> String { "/api/v1/apps/\(escape(app))/\(escape(workload))" }
}
