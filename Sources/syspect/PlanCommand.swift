import ArgumentParser
import Foundation
import SyspectCore
import SyspectPlan

/// `syspect plan --os NAME|FILE`: the step-by-step support plan (the paper's Table 1).
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Plan which system calls an OS should implement, stub or fake, step by step, to run the most applications earliest.",
        discussion: """
            Each step implements the fewest syscalls (or the cheapest, with --costs) that make at \
            least one more application run, and lists the stubs (return -ENOSYS) and fakes \
            (return 0) it relies on. Stub and fake follow the loupedb file header; a syscall \
            that one app needs stubbed and another faked is implemented, with the reason shown. \
            The steps come from a beam search seeded with the paper's greedy rule: for every \
            number of applications it needs no more implemented syscalls than greedy.

            \(DataOptions.dataHelp)

            Exit status: 0 plan printed; 1 bad input (unknown OS or app, unreadable loupedb \
            folder, OS list or costs file, no application selected); 64 usage error.
            """)

    @Option(help: ArgumentHelp(
        "The OS: a bundled support list (case-insensitive: \(DataOptions.bundledOSNames)) or a file with one syscall name or number per line.",
        valueName: "name-or-file"))
    var os: String

    @Option(help: ArgumentHelp("Per-syscall implementation costs: lines of '<name or number> <cost>' (default cost 1).", valueName: "file"))
    var costs: String?

    @Flag(help: "Also print the curves of our plan, the paper's greedy rule and the original tool's semantics.")
    var compareGreedy = false

    @Flag(help: "Explain every decision (default: only conflicts and changed decisions).")
    var reasons = false

    @OptionGroup var data: DataOptions

    @Flag(help: "After the plan, per implemented syscall, which sub-features to implement, stub or fake (from the explorations in --db; `explore --features`).")
    var features = false

    @OptionGroup var store: StoreOptions

    @Flag(help: "Count stubs and fakes whose performance or resource impact was flagged (`explore --impact`, in --db) as not working (docs/impact.md).")
    var strictImpact = false

    @Option(help: ArgumentHelp(
        "Plan a reference curve of the paper's Figure 2 instead of syspect's stub/fake plan: naive (every traced call implemented) or static (every call static binary analysis finds implemented: syspect's own analysis from the results database where stored, else loupedb's static_binary.csv; the output says which).",
        valueName: "naive|static"))
    var baseline: PlanBaseline?

    func run() throws {
        try DataOptions.reportingFailures(command: "plan") {
            var dataset = try data.dataset()
            if strictImpact { dataset.measurements = try strictImpactMeasurements(dataset.measurements) }
            let osList = try data.osSupport(os, in: dataset)
            let weights = try costs.map { path in try SyscallCosts.parse(text: try DataOptions.readText(path), source: path) } ?? .uniform
            var targets = try data.targets(dataset)
            var baselineTargets: BaselineTargets?
            if let baseline {
                let planned = baseline.targets(targets, staticSets: baseline == .static ? try staticSets(dataset, apps: targets.map(\.app)) : [:])
                guard !planned.targets.isEmpty else {
                    throw CommandFailure("no selected application has a static analysis (\(planned.withoutStaticSet.joined(separator: ", "))); "
                        + "run `syspect explore SPEC` for them (it stores syspect's static analysis) or choose --apps with loupedb static_binary data")
                }
                (targets, baselineTargets) = (planned.targets, planned)
            }
            let plan = try Planner.plan(targets: targets, os: osList, workload: data.workload, costs: weights)
            let comparison = compareGreedy ? try Planner.compare(targets: targets, os: osList, costs: weights) : nil
            print(render(plan, comparison: comparison, weighted: costs != nil, baseline: baselineTargets), terminator: "")
            if features { print(try featureAdvice(plan), terminator: "") }
        }
    }

    /// The sub-feature advice of `--features`, from each planned app's latest exploration.
    private func featureAdvice(_ plan: SupportPlan) throws -> String {
        let database = try store.openStore()
        var findings: [String: [FeatureFinding]] = [:]
        for app in plan.apps {
            guard let latest = try database.explorations(app: app).max(by: { $0.startedAt < $1.startedAt }) else { continue }
            findings[app] = try database.findings(exploration: latest.key).features
        }
        let advice = FeatureAdvisor.advice(for: plan, findings: findings).filter { !$0.isEmpty }
        var out = "\nSub-features (explorations in \(try store.location()), \(findings.count) of \(plan.apps.count) apps explored):\n"
        if advice.isEmpty { out += "  no implemented syscall has probed sub-features (run `syspect explore SPEC --features required`)\n" }
        for a in advice { out += "  " + FeatureAdvisor.line(a) + "\n" }
        return out
    }

    /// Per app, the static set of the static baseline (`StaticSet.byApp`): syspect's own from the
    /// results database where it has one, else loupedb's `static_binary.csv`.
    private func staticSets(_ dataset: LoupedbDataset, apps: [String]) throws -> [String: StaticSet] {
        var measurements = try data.measurements(dataset)
        var details: [String: String] = [:]
        if let database = try StaticText.existingStore(store) {
            let ours = try database.measurements(apps: apps, kind: nil).filter { $0.source == "syspect" && $0.staticBinary != nil }
            measurements += ours
            for app in Set(ours.map(\.app)) { details[app] = try StaticText.detail(database, app: app) }
        }
        return StaticSet.byApp(measurements.filter { apps.contains($0.app) }, workload: data.workload, details: details)
    }

    private func render(_ plan: SupportPlan, comparison: PlanComparison?, weighted: Bool, baseline: BaselineTargets?) -> String {
        let format = data.format
        let baselineNotes = baseline.map { PlanRendering.notes($0).joined(separator: "\n") + "\n" } ?? ""
        switch format {
        case .json:
            return DataOptions.json(PlanDocument(plan: plan, comparison: comparison, baseline: baseline.map(BaselineDocument.init)))
        case .csv:
            return PlanRendering.grid(plan, costs: weighted).render(.csv)
                + (comparison.map { "\n" + PlanRendering.grid($0).render(.csv) } ?? "")
        case .table, .markdown:
            var out = PlanRendering.summary(plan) + "\n" + baselineNotes + "\n" + PlanRendering.grid(plan, costs: weighted).render(format)
            let notes = PlanRendering.reasons(plan, all: reasons)
            if !notes.isEmpty { out += "\n" + (reasons ? "Reasons:" : "Conflicts and changed decisions:") + "\n" + notes.map { "  " + $0 }.joined(separator: "\n") + "\n" }
            if let comparison {
                out += "\n" + PlanRendering.summary(comparison) + "\n\n" + PlanRendering.grid(comparison).render(format)
            }
            return out
        }
    }
}

/// The JSON document of `syspect plan --format json`.
struct PlanDocument: Encodable {
    var plan: SupportPlan
    var comparison: PlanComparison?
    /// With `--baseline`: which analysis, and where each app's static set came from.
    var baseline: BaselineDocument?
}

/// `--baseline` in the JSON plan: the baseline's notes without the (large) derived targets.
struct BaselineDocument: Encodable {
    var baseline: PlanBaseline
    var staticSets: [String: StaticSet]
    var withoutStaticSet: [String]
    var tracedOutsideStatic: [String: [Int]]

    init(_ b: BaselineTargets) {
        baseline = b.baseline
        staticSets = b.sources
        withoutStaticSet = b.withoutStaticSet
        tracedOutsideStatic = b.tracedOutsideStatic
    }
}

extension PlanBaseline: ExpressibleByArgument {}

extension TextFormat: ExpressibleByArgument {}

/// Where measurements and OS lists come from, which apps and workloads count, and the output
/// format: shared by `plan` and `importance`.
struct DataOptions: ParsableArguments {
    static let dataHelp = """
        Data: by default the measurements and OS support lists bundled in syspect. \
        \(BundledLoupedb.attribution) \
        Use --data DIR to read a loupedb folder instead (its <OS>.syscalls lists are used \
        when present, else the bundled ones). An application with several workloads of the \
        selected kind counts once and must pass all of them.
        """

    static var bundledOSNames: String { BundledLoupedb.dataset.osSupport.keys.sorted().joined(separator: ", ") }

    @Option(name: .customLong("workload"), help: ArgumentHelp(
        "Which workloads count: benchmark, suite or all (apps lacking the kind are left out; an app with several counts once and must pass them all).",
        valueName: "benchmark|suite|all"))
    var workloadName: String = "all"

    /// The parsed `--workload`.
    var workload: WorkloadSelection { WorkloadSelection(rawValue: workloadName.lowercased()) ?? .all }

    func validate() throws {
        guard WorkloadSelection(rawValue: workloadName.lowercased()) != nil else {
            throw ValidationError("unknown workload kind '\(workloadName)': use benchmark, suite or all")
        }
    }

    @Option(help: ArgumentHelp("Read a loupedb folder instead of the bundled data.", valueName: "dir"))
    var data: String?

    @Option(help: ArgumentHelp("Applications, comma-separated, or '*' for all.", valueName: "list"))
    var apps: String = "*"

    @Option(help: "Output format.")
    var format: TextFormat = .table

    /// The applications to consider: the selected workload kind, then `--apps`.
    func targets(_ dataset: LoupedbDataset) throws -> [PlanTarget] {
        let names = apps.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return try Planner.targets(
            from: try measurements(dataset), workload: workload,
            apps: names.isEmpty || names.contains("*") ? nil : names)
    }

    /// The loupedb dataset in use (bundled, or `--data`).
    func dataset() throws -> LoupedbDataset {
        guard let data else { return BundledLoupedb.dataset }
        var read = try Loupedb.read(directory: data)
        if read.osSupport.isEmpty { read.osSupport = BundledLoupedb.dataset.osSupport }
        return read
    }

    /// The measurements to plan from. (The one place to plug another source, e.g. `--db`.)
    func measurements(_ dataset: LoupedbDataset) throws -> [SyspectCore.Measurement] {
        dataset.measurements
    }

    /// A support list: an existing file, else a list name (case-insensitive).
    func osSupport(_ nameOrFile: String, in dataset: LoupedbDataset) throws -> OSSupport {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: nameOrFile, isDirectory: &isDirectory), !isDirectory.boolValue {
            let name = URL(fileURLWithPath: nameOrFile).deletingPathExtension().lastPathComponent
            return try OSSupport.parse(name: name, text: try DataOptions.readText(nameOrFile), file: nameOrFile)
        }
        if let match = dataset.osSupport.first(where: { $0.key.lowercased() == nameOrFile.lowercased() }) {
            return match.value
        }
        let known = dataset.osSupport.keys.sorted()
        let close = SyscallNameSuggestions.closest(to: nameOrFile, among: known)
        throw CommandFailure("unknown OS '\(nameOrFile)'" + (close.isEmpty ? "" : " (closest: \(close.joined(separator: ", ")))")
            + "; known: \(known.joined(separator: ", ")), or give the path of a support list file")
    }

    static func readText(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure("cannot read \(path): no such file or not readable")
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self) + "\n"
    }

    /// Runs `body`; a library or input error becomes one line on standard error and exit 1.
    static func reportingFailures(command: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as ExitCode {
            throw error
        } catch {
            FileHandle.standardError.write(Data("syspect \(command): \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// A one-line input error of the plan/importance commands.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
