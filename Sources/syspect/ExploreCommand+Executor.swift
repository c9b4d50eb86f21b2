import ArgumentParser
import Foundation
import SyspectCore
import SyspectExplore
import SyspectStore

/// `explore --executor local|slurm` and several specs in one call (docs/cluster.md).
enum ExecutorName: String, ExpressibleByArgument, CaseIterable {
    case local, slurm
}

extension ExploreCommand {
    func validateExecutorOptions() throws {
        if executor != .slurm && (slurmPartition != nil || slurmMaxTasks != nil || slurmDb != nil) {
            throw ValidationError("--slurm-partition, --slurm-max-tasks and --slurm-db go with --executor slurm")
        }
        if executor == .slurm && slurmPartition == nil {
            throw ValidationError("--executor slurm needs --slurm-partition P (sinfo lists the partitions)")
        }
        if let slurmMaxTasks, slurmMaxTasks < 1 { throw ValidationError("--slurm-max-tasks must be at least 1, not \(slurmMaxTasks)") }
        if !moreSpecs.isEmpty && debian != nil { throw ValidationError("--debian explores one package: give it alone") }
        if executor == .slurm && debian != nil {
            throw ValidationError("--debian builds on this machine only: with --executor slurm, explore a spec file whose suite is on the shared filesystem")
        }
    }

    /// Every spec of the call, each on its own explorer at once (sharing the Slurm allocation),
    /// or one after the other with --executor local.
    func runSeveral() throws {
        let paths = [spec].compactMap({ $0 }) + moreSpecs
        var specs: [AppSpec] = []
        for path in paths {
            do { specs.append(try AppSpec.load(path: path)) } catch { fail(error.description, status: Status.badSpec) }
        }
        let database = try openDatabase()
        var options = exploreOptions()
        var slurm: SlurmExecutor?
        if executor == .slurm {
            guard let planned = database as? any ResultStore & PlannedProbeStore else {
                fail("the store at \(try store.location()) keeps no planned probes", status: 1)
            }
            let work = URL(fileURLWithPath: workDir ?? ExploreOptions.defaultWorkDirectory()).standardizedFileURL.path
            if case .sqlite(let path) = try store.location() {
                FileHandle.standardError.write(Data("syspect explore: the SQLite file \(path) must be on a filesystem every node shares (PostgreSQL is the intended store; docs/cluster.md)\n".utf8))
            }
            let maxTasks = slurmMaxTasks ?? jobCount
            let executorOptions = SlurmExecutorOptions(
                partition: slurmPartition!, maxTasks: maxTasks,
                syspect: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0],
                database: try slurmDb.map(StoreLocation.parse)?.connectionString ?? store.location().connectionString, workDirectory: workDir.map { _ in work },
                logDirectory: "\(work)/slurm")
            let created = SlurmExecutor(options: executorOptions, store: planned)
            do { try created.prepare(specs: Array(zip(specs, paths))) } catch { fail("\(error)", status: Status.cannotProbe) }
            slurm = created
            options.jobs = maxTasks
            options.jobsFromBaseline = false
        }
        let interruptions = Self.exitOnInterrupt()
        defer { interruptions.forEach { $0.cancel() } }
        let explores = SeveralExplores(specs: specs, paths: paths, database: database, options: options, slurm: slurm)
        if slurm == nil {
            for i in specs.indices { explores.explore(i) }
        } else {
            let group = DispatchGroup()
            for i in specs.indices {
                group.enter()
                let thread = Thread { explores.explore(i); group.leave() }
                thread.stackSize = 8 << 20
                thread.start()
            }
            group.wait()
        }
        explores.progress.finish()
        let (outcomes, failures) = (explores.outcomes, explores.failures)
        for (i, outcome) in outcomes.enumerated() {
            guard let outcome else { continue }
            if specs.count > 1 { print("== \(paths[i])") }
            try printResult(outcome.result, spec: specs[i], database: database, runner: outcome.runner)
        }
        if let stats = slurm?.statistics {
            let perTask = stats.tasks > 0 ? stats.sbatchSeconds / Double(stats.tasks) : 0
            print(String(format: "slurm: %d tasks in %d arrays (%d re-submitted, %d adopted); sbatch %.2f s in all, %.1f ms per task; first task %.2f s",
                         stats.tasks, stats.arrays, stats.resubmitted, stats.adopted, stats.sbatchSeconds, perTask * 1000, stats.firstTaskSeconds))
        }
        var status: Int32?
        for (i, error) in failures.enumerated() {
            guard let error else { continue }
            let failure = Self.failure(of: error) ?? ("\(error)", 1)
            FileHandle.standardError.write(Data("syspect explore: \(specs.count > 1 ? paths[i] + ": " : "")\(failure.message)\n".utf8))
            status = status ?? failure.status
        }
        if let status { Foundation.exit(status) }
    }
}

/// The explorers of one call: each runs on its own thread (Slurm) or one after the other.
private final class SeveralExplores: @unchecked Sendable {
    let specs: [AppSpec]
    let paths: [String]
    let database: any ManagedStore
    let options: ExploreOptions
    let slurm: SlurmExecutor?
    let progress = ProgressDisplay()
    private let lock = NSLock()
    private(set) var outcomes: [(result: ExploreResult, runner: any ProbeRunning)?]
    private(set) var failures: [Error?]

    init(specs: [AppSpec], paths: [String], database: any ManagedStore, options: ExploreOptions, slurm: SlurmExecutor?) {
        (self.specs, self.paths, self.database, self.options, self.slurm) = (specs, paths, database, options, slurm)
        outcomes = Array(repeating: nil, count: specs.count)
        failures = Array(repeating: nil, count: specs.count)
    }

    func explore(_ i: Int) {
        do {
            let runner = try slurm.map { $0.runner(for: specs[i], path: paths[i], local: ProbeRunner(
                spec: specs[i], workDirectory: try Explorer.probeFolder(spec: specs[i], workDirectory: options.workDirectory))) }
            let explorer = try Explorer(spec: specs[i], store: database, options: options, runner: runner)
            let result = try explorer.run { [self] event in lock.withLock { progress.handle(event) } }
            lock.withLock { outcomes[i] = (result, explorer.runner) }
        } catch {
            lock.withLock { failures[i] = error }
        }
    }
}

extension StoreLocation {
    /// The value a node's `SYSPECT_DB` takes: the path, or the URL with its password.
    var connectionString: String {
        switch self {
        case .sqlite(let path): return path
        case .postgres(let url): return url
        }
    }
}
