import ArgumentParser
import Foundation
import SyspectCore
import SyspectExplore

/// The `--impact-*` options of `syspect explore --impact` (docs/impact.md).
struct ImpactOptionGroup: ParsableArguments {
    @Flag(name: .customLong("impact"), help: ArgumentHelp(
        "After the verdicts, measure the performance and resource impact of every stub and fake (docs/impact.md)."))
    var enabled = false

    @Option(name: .customLong("impact-runs"), help: ArgumentHelp(
        "Runs per stubbed/faked call, each interleaved with a baseline run (default 5).", valueName: "N"))
    var runs = 5

    @Option(name: .customLong("impact-alpha"), help: ArgumentHelp(
        "Significance level of the two-sided test (default 0.05).", valueName: "P"))
    var alpha = 0.05

    @Option(name: .customLong("impact-threshold"), help: ArgumentHelp(
        "Smallest change flagged, in percent (default 3, the paper's error margin).", valueName: "PERCENT"))
    var thresholdPercent = 3.0

    @Option(name: .customLong("impact-test"), help: ArgumentHelp(
        "The test: welch (Welch's t-test, default), mann-whitney (Mann-Whitney U) or paired (paired t-test on the interleaved run pairs).", valueName: "NAME"))
    var test: Statistics.Test = .welch

    @Option(name: .customLong("impact-syscalls"), help: ArgumentHelp(
        "Only these calls, comma-separated names or numbers (default: every stub, fake or either).", valueName: "LIST"))
    var syscalls: String?

    func validate() throws {
        guard (2...100).contains(runs) else { throw ValidationError("--impact-runs must be from 2 to 100, not \(runs)") }
        guard alpha > 0, alpha < 1 else { throw ValidationError("--impact-alpha must be between 0 and 1, not \(alpha)") }
        guard thresholdPercent >= 0, thresholdPercent.isFinite else {
            throw ValidationError("--impact-threshold must be a percentage ≥ 0, not \(thresholdPercent)")
        }
        _ = try numbers()
    }

    /// `--impact-syscalls` as numbers; nil when not given.
    func numbers() throws -> Set<Int>? {
        guard let syscalls else { return nil }
        let items = syscalls.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !items.isEmpty else { throw ValidationError("--impact-syscalls is empty: give names or numbers, e.g. write,close") }
        return Set(try items.map { item in
            if let n = Int(item), SyscallTable.name(of: n) != nil { return n }
            if let n = SyscallTable.number(named: item) { return n }
            throw ValidationError("--impact-syscalls: unknown system call '\(item)': give an x86-64 name or number (see `syspect syscalls`)")
        })
    }

    var options: ImpactOptions {
        ImpactOptions(runs: runs, alpha: alpha, threshold: thresholdPercent / 100, test: test,
                      syscalls: (try? numbers()) ?? nil)
    }

    /// Exit status when the impact analysis cannot run (after the verdicts were stored).
    static let cannotMeasure: Int32 = 5

    /// Runs the analysis of an explored spec, printing one line per run and the table at the end.
    func run(spec: AppSpec, store: any ResultStore, exploration: String, verdicts: [Int: Verdict],
             runner: any ProbeRunning) {
        do {
            let analysis = try ImpactAnalysis(spec: spec, store: store, exploration: exploration, verdicts: verdicts,
                                              options: options, runner: runner)
            if !analysis.skipped.isEmpty {
                Self.note("impact: skipped (required or not traced): "
                    + analysis.skipped.map { SyscallTable.displayName(of: $0) }.joined(separator: ", "))
            }
            let results = try analysis.run { event in
                switch event {
                case .started(let pairs, let total, let done):
                    Self.note("impact: \(pairs) stub/fake policies, \(total) runs (\(runs) each, interleaved with baseline runs)"
                        + (done > 0 ? "; \(done) already journaled" : ""))
                case .runFinished(let r, let done, let total):
                    let side = r.baseline ? "baseline" : "\(r.mode) \(SyscallTable.displayName(of: r.syscall))"
                    Self.note("impact [\(done)/\(total)] \(side) #\(r.run): \(r.outcome.rawValue)"
                        + (r.metric.map { " metric \(ImpactText.number($0))" } ?? ""))
                case .pairFinished:
                    break
                }
            }
            print(ImpactText.render(app: spec.name, workload: spec.workload, results), terminator: "")
        } catch {
            FileHandle.standardError.write(Data("syspect explore: impact: \(error)\n".utf8))
            Foundation.exit(Self.cannotMeasure)
        }
    }

    private static func note(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

extension Statistics.Test: ExpressibleByArgument {}

/// The Table-2-like text of impact results (`explore --impact`, `show --impact`).
enum ImpactText {
    static func render(app: String, workload: String, _ results: [ImpactResult]) -> String {
        guard let first = results.first else {
            return "\(app) / \(workload): no impact measured yet (run `syspect explore SPEC --impact`)\n"
        }
        let testName = ["mann-whitney": "Mann-Whitney U", "paired": "paired t-test on run pairs"][first.test] ?? "Welch's t-test"
        var out = "\(app) / \(workload): impact of stubbing and faking (\(testName), alpha \(number(first.alpha)), "
            + "threshold \(number(first.threshold * 100)) %; policy runs interleaved with baseline runs)\n"
        out += "perf = the metric (\(first.metricName ?? "the test script's number"), \(first.metricBetter) is better) "
            + "as +faster/-slower; FDs, memory (peak RSS), CPU, wall: +more/-less; * = flagged (p < alpha and |change| ≥ threshold)\n\n"
        let header = ["syscall", "mode", "runs", "perf", "p", "FDs", "p", "memory", "p", "CPU", "p", "wall", "p", "flagged"]
        var rows = [header]
        for r in results {
            var row = [SyscallTable.displayName(of: r.syscall), r.mode,
                       "\(r.policyRuns)/\(r.baselineRuns)" + (r.policyFailures > 0 ? " (\(r.policyFailures) failed)" : "")]
            for measure in ImpactMeasure.allCases {
                guard let c = r.comparison(measure) else { row += ["n/a", ""]; continue }
                let change = measure == .metric ? r.performanceChange : c.change
                row += [cell(change, ratio: c.baselineMean == 0 ? nil : c.policyMean / c.baselineMean, flagged: c.flagged),
                        c.pValue.map(pValue) ?? "n/a"]
            }
            let flagged = r.comparisons.filter(\.flagged).map { $0.measure == .metric ? "perf" : $0.measure.rawValue }
            row.append(flagged.isEmpty ? "-" : flagged.joined(separator: ","))
            rows.append(row)
        }
        out += table(rows)
        let count = results.filter(\.flagged).count
        out += "\n\(count) of \(results.count) stub/fake policies flagged\n"
        return out
    }

    /// "+15.2%", "x8.0" for a change of at least 2x, "-" when nothing changed, "*" when flagged.
    static func cell(_ change: Double?, ratio: Double?, flagged: Bool) -> String {
        let mark = flagged ? "*" : ""
        guard let change else { return "n/a" + mark }
        if let ratio, ratio >= 2 { return "x" + String(format: "%.1f", ratio) + mark }
        if abs(change) < 0.0005 { return "-" + mark }
        return String(format: "%+.1f%%", change * 100) + mark
    }

    static func pValue(_ p: Double) -> String {
        p < 0.001 ? "<0.001" : String(format: "%.3f", p)
    }

    static func number(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return String(Int(value)) }
        return abs(value) >= 1000 ? String(format: "%.0f", value) : String(format: "%.4g", value)
    }

    static func table(_ rows: [[String]]) -> String {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { i, text in
                i == row.count - 1 ? text : text.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}

/// The JSON document of `syspect show --impact --json` (one per workload).
struct ImpactDocument: Encodable {
    var app: String
    var workload: String
    var exploration: String
    var results: [Row]

    init(app: String, workload: String, exploration: String, results: [ImpactResult]) {
        self.app = app
        self.workload = workload
        self.exploration = exploration
        self.results = results.map(Row.init)
    }

    /// A stored `ImpactResult` plus the syscall's name, `flagged` and the metric's change as
    /// performance (+ = better).
    struct Row: Encodable {
        var result: ImpactResult

        enum Extra: String, CodingKey { case name, flagged, performanceChange }

        func encode(to encoder: any Encoder) throws {
            try result.encode(to: encoder)
            var extra = encoder.container(keyedBy: Extra.self)
            try extra.encode(SyscallTable.displayName(of: result.syscall), forKey: .name)
            try extra.encode(result.flagged, forKey: .flagged)
            try extra.encodeIfPresent(result.performanceChange, forKey: .performanceChange)
        }
    }
}

extension ShowCommand {
    /// `show --impact`: the impact results of each workload's latest exploration.
    func showImpact(_ measurements: [SyspectCore.Measurement], explorations: [ExplorationRecord],
                    _ database: any ResultStore) throws {
        var documents: [ImpactDocument] = []
        var text = ""
        for measurement in measurements {
            guard let exploration = explorations.filter({ $0.workload == measurement.workload })
                .max(by: { $0.startedAt < $1.startedAt }) else { continue }
            let results = try database.impactResults(exploration: exploration.key)
            documents.append(ImpactDocument(app: app, workload: measurement.workload, exploration: exploration.key, results: results))
            text += ImpactText.render(app: app, workload: measurement.workload, results) + "\n"
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(documents), as: UTF8.self))
        } else {
            print(text.isEmpty ? "\(app): no exploration by syspect (loupedb imports have no impact data)\n" : text, terminator: "")
        }
    }
}

extension PlanCommand {
    /// `--strict-impact`: the measurements without the stubs and fakes flagged by the latest
    /// exploration (with impact results) of the same app and workload in --db; the changes go to
    /// standard error.
    func strictImpactMeasurements(_ measurements: [SyspectCore.Measurement]) throws -> [SyspectCore.Measurement] {
        let database = try store.openStore()
        var impact: [String: [String: [ImpactResult]]] = [:]
        for exploration in try database.explorations(app: nil).sorted(by: { $0.startedAt < $1.startedAt }) {
            let results = try database.impactResults(exploration: exploration.key)
            if !results.isEmpty { impact[exploration.app, default: [:]][exploration.workload] = results }
        }
        let (adjusted, changes) = StrictImpact.apply(measurements, impact: impact)
        var note = "syspect plan --strict-impact: impact results of \(impact.values.map(\.count).reduce(0, +)) workloads in \(try store.location())"
        note += changes.isEmpty ? "; no verdict changed\n" : "; verdicts changed:\n"
        for c in changes {
            let why = c.flagged.sorted { $0.key < $1.key }
                .map { "\($0.key): \($0.value.map(\.rawValue).joined(separator: ", "))" }.joined(separator: "; ")
            note += "  \(c.app)/\(c.workload): \(SyscallTable.displayName(of: c.syscall)) \(c.from.rawValue) -> \(c.to.rawValue) (flagged \(why))\n"
        }
        FileHandle.standardError.write(Data(note.utf8))
        return adjusted
    }
}
