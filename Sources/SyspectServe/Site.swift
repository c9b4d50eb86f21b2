import Foundation
import Hummingbird
import SyspectCore
import SyspectPlan
import SyspectReport
import SyspectStore

/// How a site serves (`syspect serve` options).
public struct SiteConfiguration: Sendable, Hashable {
    /// Who may read pages and the GET API.
    public var readAccess: ReadAccess
    /// Largest request body accepted (a push, an uploaded support list); larger gets 413.
    public var maxBodyBytes: Int
    /// Show the bundled loupedb measurements beside the store's.
    public var bundled: Bool
    /// How long a snapshot of the store is reused before it is read again (a push through this
    /// server refreshes it at once).
    public var refreshSeconds: Double

    public static let defaultMaxBodyBytes = 64 << 20

    public init(readAccess: ReadAccess = .public, maxBodyBytes: Int = defaultMaxBodyBytes, bundled: Bool = true,
                refreshSeconds: Double = 5) {
        self.readAccess = readAccess
        self.maxBodyBytes = maxBodyBytes
        self.bundled = bundled
        self.refreshSeconds = refreshSeconds
    }
}

/// The results site over one store: what the pages and the JSON API ask. Reads a snapshot of
/// the store (`SiteData`) and reuses it for `refreshSeconds`; plans are memoised per request and
/// snapshot. Thread-safe.
public final class Site: @unchecked Sendable {
    public let configuration: SiteConfiguration
    /// nil: no database (the bundled data only).
    public let store: (any ManagedStore)?
    private let lock = NSLock()
    /// One push at a time: a push reads the server's state, then writes the union.
    let pushLock = NSLock()
    private var snapshot: (data: SiteData, at: Date, generation: Int)?
    private var generation = 0
    private var plans: [PlanRequest: (generation: Int, view: PlanView)] = [:]
    private static let planCacheLimit = 64

    public init(store: (any ManagedStore)?, configuration: SiteConfiguration = SiteConfiguration()) {
        self.store = store
        self.configuration = configuration
    }

    /// The store as the SQL store (both SQLite and PostgreSQL stores are), for tokens and pushes.
    var sqlStore: SQLResultStore? { store as? SQLResultStore }

    // MARK: - Snapshot

    /// The current snapshot (read from the store when older than `refreshSeconds`).
    public func data() throws(SiteError) -> SiteData {
        try current().data
    }

    private func current() throws(SiteError) -> (data: SiteData, generation: Int) {
        lock.lock()
        defer { lock.unlock() }
        if let s = snapshot, Date().timeIntervalSince(s.at) < configuration.refreshSeconds { return (s.data, s.generation) }
        let data: SiteData
        do {
            data = SiteData(
                stored: try store?.measurements(apps: nil, kind: nil) ?? [],
                explorations: try store?.explorations(app: nil) ?? [],
                bundled: configuration.bundled ? BundledLoupedb.dataset : nil)
        } catch {
            throw Self.storeFailure(error)
        }
        if snapshot.map({ $0.data.measurements != data.measurements }) ?? true { generation += 1 }
        snapshot = (data, Date(), generation)
        return (data, generation)
    }

    /// Forgets the snapshot (after a write through this server).
    public func invalidate() {
        lock.withLock { snapshot = nil }
    }

    static func storeFailure(_ error: any Error) -> SiteError {
        SiteError(.internalServerError, "the results database failed: \(error); check the server's --db")
    }

    private func fromStore<T>(_ body: (any ManagedStore) throws -> T) throws(SiteError) -> T? {
        guard let store else { return nil }
        do { return try body(store) } catch { throw Self.storeFailure(error) }
    }

    // MARK: - Queries

    public func catalogue(_ query: CatalogueQuery = CatalogueQuery()) throws(SiteError) -> Catalogue {
        SiteQueries.catalogue(try data(), query)
    }

    /// Every workload of `app` (or only `workload`), each source separately.
    public func app(_ app: String, workload: String? = nil) throws(SiteError) -> AppDetail {
        let data = try data()
        let measurements = try SiteQueries.measurements(data, app: app, workload: workload)
        var details: [WorkloadDetail] = []
        for m in measurements {
            details.append(SiteQueries.workloadDetail(m, extras: try extras(data, m)))
        }
        return AppDetail(app: app, workloads: details)
    }

    /// The latest exploration's journal behind a measurement syspect made.
    private func extras(_ data: SiteData, _ m: SyspectCore.Measurement) throws(SiteError) -> ExplorationExtras? {
        guard SourceKind(source: m.source) == .syspect, let record = data.latestExploration(app: m.app, workload: m.workload) else {
            return nil
        }
        return try fromStore { store in
            ExplorationExtras(
                record: record, probes: try store.probes(exploration: record.key),
                findings: try store.findings(exploration: record.key),
                impact: try store.impactResults(exploration: record.key),
                staticAnalysis: try store.staticAnalysis(exploration: record.key))
        }
    }

    public func compare(_ apps: [String], workload: WorkloadSelection = .all) throws(SiteError) -> Comparison {
        try SiteQueries.compare(try data(), apps: apps, workload: workload)
    }

    public func plan(_ request: PlanRequest) throws(SiteError) -> PlanView {
        let (data, generation) = try current()
        if let hit = lock.withLock({ plans[request] }), hit.generation == generation { return hit.view }
        let view = try SiteQueries.plan(data, request)
        lock.withLock {
            if plans.count >= Self.planCacheLimit { plans.removeAll() }
            plans[request] = (generation, view)
        }
        return view
    }

    public func stubSkeleton(_ request: PlanRequest) throws(SiteError) -> Download {
        let skeleton = try SiteQueries.stubSkeleton(try data(), request)
        return Download(data: Data(skeleton.cSource.utf8), contentType: "text/x-csrc; charset=utf-8",
                        fileName: SiteExports.safeFileName("\(skeleton.os)-stubs") + ".c")
    }

    public func osLists() throws(SiteError) -> [OSListEntry] {
        try data().osSupport.values.map { OSListEntry(name: $0.name, syscalls: $0.syscalls.count) }.sorted { $0.name < $1.name }
    }

    /// One workload's download. `source` picks among several measurements of the workload
    /// ("loupedb", "syspect" or a full source string); default: syspect's, else loupedb's.
    public func download(app: String, workload: String, format: ExportFormat, source: String? = nil) throws(SiteError) -> Download {
        let data = try data()
        var candidates = try SiteQueries.measurements(data, app: app, workload: workload)
        if let source, !source.isEmpty {
            candidates = candidates.filter { $0.source == source || SourceKind(source: $0.source).rawValue == source }
            guard !candidates.isEmpty else {
                throw .notFound("'\(app)/\(workload)' has no measurement from source '\(source)'; use loupedb or syspect")
            }
        }
        let m = candidates.first { SourceKind(source: $0.source) == .syspect } ?? candidates[0]
        return try SiteExports.download(m, format: format, detail: { () throws(SiteError) in
            SiteQueries.workloadDetail(m, extras: try extras(data, m))
        })
    }

    public func info() throws(SiteError) -> ServerInfo {
        let data = try data()
        return ServerInfo(
            syspect: SyspectVersion.current, schemaVersion: StoreSchema.currentVersion,
            backend: store.map { "\($0.location)" } ?? "none (bundled data only)",
            readAccess: configuration.readAccess, maxBodyBytes: configuration.maxBodyBytes,
            measurements: data.measurements.count, apps: data.appNames.count,
            explorations: data.explorations.values.reduce(0) { $0 + $1.count }, bundled: data.bundled)
    }
}

/// The version `serve`, `push` and `/api/v1/info` report (the CLI's `--version`).
public enum SyspectVersion {
    public static let current = "0.1.0"
}
