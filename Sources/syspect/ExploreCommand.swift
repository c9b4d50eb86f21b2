import ArgumentParser
import Foundation
import SyspectCore
import SyspectExplore
import SyspectStatic
import SyspectStore

/// `syspect explore SPEC`: decide, for each system call the targets use under the workload,
/// whether it is required or can be stubbed, faked or either (docs/explore.md).
struct ExploreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explore",
        abstract: "Find which system calls an application needs under a workload, and which can be stubbed or faked.",
        discussion: """
            SPEC is an application spec file (YAML, see docs/explore.md). syspect runs the \
            workload unmodified (baseline, with a census), then probes each traced call stubbed \
            (-ENOSYS) and faked (returns 0), each probe replicated and in fresh namespaces (the \
            default adaptive strategy tests likely-passing calls in groups, by priors from the other \
            applications in the database or else the bundled loupedb measurements; --strategy one-by-one \
            probes every call alone); then everything together, and when that fails it searches the conflicting calls \
            and resolves each with the least loss (an `either` call tries its other mode before one is made required). Every \
            probe is journaled in the database: running the same spec again resumes.

            Exit status: 0 verdicts stored; 130/143 interrupted (SIGINT/SIGTERM; run again to \
            resume); 2 bad spec file; 3 the workload fails or is flaky \
            without interposition, or a target never runs, or --debian's package cannot be \
            fetched, built or has no test suite (docs/suites.md); 4 probes cannot be launched \
            (ptrace/seccomp/namespaces not permitted, command not found), or --executor slurm cannot \
            start (no Slurm, unknown partition, the first task failed on its node: docs/cluster.md); \
            5 --impact could not \
            run (verdicts stored; see docs/impact.md); 6 the PostgreSQL database cannot be \
            reached, or went away and did not come back within its reconnect time (journaled \
            probes are kept: run again to resume); 7 another explore of the same spec is running \
            on this database; 1 other database error; 64 usage error.
            """)

    @Argument(help: ArgumentHelp("The application spec file (YAML); none with --debian.", valueName: "SPEC"))
    var spec: String?

    @Option(help: ArgumentHelp(
        "Explore a Debian package's own test suite: fetch its source, build it once, run its tests test case by test case (docs/suites.md).",
        valueName: "PACKAGE"))
    var debian: String?

    @Option(help: ArgumentHelp(
        "With --debian: the target executables, comma-separated (default: the programs the build produced, test programs left out).",
        valueName: "LIST"))
    var binaries: String?

    @OptionGroup var store: StoreOptions

    @Option(help: ArgumentHelp(
        "Probes run at once (default: cores + 1, probes also wait on timeouts and servers; more once the baseline shows that "
            + "a command or suite workload keeps less of a core busy: docs/explore.md).",
        valueName: "N"))
    var jobs: Int?

    /// `--jobs`, else cores + 1.
    var jobCount: Int { jobs ?? ProcessInfo.processInfo.activeProcessorCount + 1 }

    @Option(help: ArgumentHelp("Runs per policy (default: the spec's `replicas`, else 3).", valueName: "N"))
    var replicas: Int?

    @Option(help: ArgumentHelp(
        "Probe order and grouping: adaptive (default: group testing guided by the other applications' measurements in the database, replicas only where a result is still uncertain) or one-by-one (the paper's method, the reference; see docs/explore.md).",
        valueName: "NAME"))
    var strategy: StrategyName = .adaptive

    @Option(help: ArgumentHelp(
        "Folder for the probes' working directories and logs (not under /tmp). Default: $XDG_STATE_HOME/syspect/probes, else ~/.local/state/syspect/probes.",
        valueName: "DIR"))
    var workDir: String?

    @Option(help: ArgumentHelp(
        "Also probe sub-features (ioctl requests, fcntl commands, flag bits…) alone: of the calls found required, or of all traced calls.",
        valueName: "required|all"))
    var features: FeatureScope?

    @Flag(help: "Also probe each pseudo-file (/proc, /sys, /dev) the targets named: absent (ENOENT), then stubbed (ENOSYS).")
    var files = false

    @Option(help: ArgumentHelp(
        "Fake values: zero (the paper's 0), or both (0, then the per-syscall plausible value of docs/explore.md when 0 failed).",
        valueName: "zero|both"))
    var fakeValues: FakeValueChoice = .zero

    @OptionGroup var impact: ImpactOptionGroup

    @Flag(help: "Skip the static analysis of the targets and their libraries after the census (docs/static.md); by default explore runs it, stores it and checks the census against it.")
    var noStatic = false

    @Argument(help: ArgumentHelp("More spec files, explored at once (with --executor slurm they share --slurm-max-tasks).", valueName: "SPEC"))
    var moreSpecs: [String] = []

    @Option(help: ArgumentHelp(
        "Where probes run: local (this machine, --jobs at a time) or slurm (Slurm job arrays, outcomes in the shared database; docs/cluster.md).",
        valueName: "local|slurm"))
    var executor: ExecutorName = .local

    @Option(help: ArgumentHelp("With --executor slurm: the partition to submit to.", valueName: "P"))
    var slurmPartition: String?

    @Option(help: ArgumentHelp("With --executor slurm: tasks submitted and unfinished at once, across all specs (default: --jobs).", valueName: "N"))
    var slurmMaxTasks: Int?

    @Option(help: ArgumentHelp("With --executor slurm: the database as the nodes reach it (default: --db).", valueName: "path-or-url"))
    var slurmDb: String?

    enum Status {
        static let badSpec: Int32 = 2
        static let badWorkload: Int32 = 3
        static let cannotProbe: Int32 = 4
        static let databaseGone: Int32 = 6
        static let alreadyRunning: Int32 = 7
    }

    /// The status of a store error that has its own: 6 unreachable or lost, 7 run lock held.
    static func status(of error: StoreError) -> Int32? {
        switch error {
        case .unreachable, .connectionLost: return Status.databaseGone
        case .explorationRunning: return Status.alreadyRunning
        default: return nil
        }
    }

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1, not \(jobs)") }
        if let replicas, !(1...100).contains(replicas) {
            throw ValidationError("--replicas must be from 1 to 100, not \(replicas)")
        }
        try validateSuiteOptions()
        try validateExecutorOptions()
    }

    func run() throws {
        if executor == .slurm || !moreSpecs.isEmpty { return try runSeveral() }  // ExploreCommand+Executor
        let appSpec = loadSpec()  // a spec file, or --debian's package prepared (ExploreCommand+Suite)
        let database = try openDatabase()
        let options = exploreOptions()
        let progress = ProgressDisplay()
        let interruptions = Self.exitOnInterrupt()
        defer { interruptions.forEach { $0.cancel() } }
        let result: ExploreResult
        let runner: any ProbeRunning
        do {
            let explorer = try Explorer(spec: appSpec, store: database, options: options)
            result = try explorer.run(events: progress.handle)
            runner = explorer.runner
        } catch {
            progress.finish()
            guard let failure = Self.failure(of: error) else { throw error }
            fail(failure.message, status: failure.status)
        }
        progress.finish()
        try printResult(result, spec: appSpec, database: database, runner: runner)
    }

    /// The store, or exit 6 / 7 when it cannot be reached or the run lock is held.
    func openDatabase() throws -> any ManagedStore {
        do {
            return try store.openStore()
        } catch let error as StoreError where Self.status(of: error) != nil {
            fail(error.description, status: Self.status(of: error)!)
        }
    }

    func exploreOptions() -> ExploreOptions {
        var options = ExploreOptions(jobs: jobCount, replicas: replicas, strategy: strategy, workDirectory: workDir)
        options.jobsFromBaseline = jobs == nil
        (options.features, options.files, options.fakeValues) = (features, files, fakeValues)
        if !noStatic { options.staticAnalyzer = MachineStaticAnalyzer() }
        return options
    }

    /// The message and exit status of an explore's failure; nil for an error of another kind.
    static func failure(of error: Error) -> (message: String, status: Int32)? {
        switch error {
        case let error as ExploreError:
            switch error {
            case .probeCannotRun, .workDirectoryUnderTmp: return (error.description, Status.cannotProbe)
            default: return (error.description, Status.badWorkload)
            }
        case let error as StoreError where Self.status(of: error) != nil: return (error.description, Self.status(of: error)!)
        case let error as SuiteError: return (error.description, Status.badWorkload)
        default: return nil
        }
    }

    /// The verdicts and findings of a finished explore (then its impact analysis, if asked for).
    func printResult(_ result: ExploreResult, spec appSpec: AppSpec, database: any ManagedStore, runner: any ProbeRunning) throws {
        Self.printSuiteCriterion(result.suiteCriterion)
        let summary = ExplorationSummary(result.exploration, probes: try database.probes(exploration: result.exploration.key))
        let statics = StaticDocument(result.measurement, stored: result.staticOutcome?.record, loupedb: BundledLoupedb.dataset.measurements)
        print(MeasurementText.render(result.measurement, summary: summary, statics: statics), terminator: "")
        StaticText.reportProblems(result.staticOutcome)
        if !result.otherABICalls.isEmpty {
            let names = result.otherABICalls.map { "\($0.arch.rawValue) \($0.name) (\($0.calls))" }
            print("also called through other ABIs (not probed): " + names.joined(separator: ", "))
        }
        let findings = try database.findings(exploration: result.exploration.key)
        print(FindingsText.summary(findings), terminator: "")
        if features != nil && findings.features.isEmpty { print("--features: the baseline census holds no sub-feature: nothing to probe") }
        if files && findings.files.isEmpty { print("--files: the baseline census holds no pseudo-file: nothing to probe") }
        let cancelled = result.cancelledProbes == 0 ? "" : " (and cancelled \(result.cancelledProbes) speculative ones the culprit search no longer needed)"
        print("this session ran \(result.sessionProbes) probes\(cancelled); stored in \(try store.location())")
        if impact.enabled {
            impact.run(spec: appSpec, store: database, exploration: result.exploration.key,
                       verdicts: result.measurement.verdicts, runner: runner)
        }
    }

    /// Ctrl-C / SIGTERM: say that nothing finished is lost, exit 130 / 143. (The probes in flight
    /// die with syspect: the tracer's PTRACE_O_EXITKILL kills each sandbox's init.)
    static func exitOnInterrupt() -> [DispatchSourceSignal] {
        [(SIGINT, Int32(130)), (SIGTERM, Int32(143))].map { signalNumber, status in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                FileHandle.standardError.write(Data(
                    "\nsyspect explore: interrupted; finished probes are journaled: run the same command again to resume\n".utf8))
                Foundation.exit(status)
            }
            source.resume()
            return source
        }
    }

    func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("syspect explore: \(message)\n".utf8))
        Foundation.exit(status)
    }
}

extension StrategyName: ExpressibleByArgument {}
extension FeatureScope: ExpressibleByArgument {}
extension FakeValueChoice: ExpressibleByArgument {}
