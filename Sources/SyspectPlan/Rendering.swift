import SyspectCore

/// Output formats of `syspect plan` and `syspect importance` (JSON is the Codable values).
public enum TextFormat: String, Sendable, CaseIterable, Codable {
    case table, markdown, json, csv
}

/// A grid of text cells rendered as an aligned text table, Markdown or CSV.
public struct TextGrid: Sendable, Hashable {
    public var header: [String]
    public var rows: [[String]]
    /// Columns that hold numbers (right-aligned in tables).
    public var numeric: Set<Int>

    public init(header: [String], rows: [[String]], numeric: Set<Int> = []) {
        self.header = header
        self.rows = rows
        self.numeric = numeric
    }

    /// `format` must be table, markdown or csv. `wrap` limits table cells to that many
    /// characters per line (wrapping at ", ").
    public func render(_ format: TextFormat, wrap: Int = 48) -> String {
        switch format {
        case .markdown:
            let line = { (cells: [String]) in "| " + cells.map { $0.replacingAll("|", with: "\\|") }.joined(separator: " | ") + " |" }
            let rule = "|" + header.indices.map { numeric.contains($0) ? "---:|" : "---|" }.joined()
            return ([line(header), rule] + rows.map(line)).joined(separator: "\n") + "\n"
        case .csv:
            return ([header] + rows).map { $0.map(csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
        case .table, .json:
            return table(wrap: wrap)
        }
    }

    private func table(wrap: Int) -> String {
        let wrapped = ([header] + rows).map { $0.map { TextGrid.wrap($0, width: wrap) } }
        var widths = [Int](repeating: 0, count: header.count)
        for row in wrapped { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.map(\.count).max() ?? 0) } }
        var out = ""
        for (r, row) in wrapped.enumerated() {
            let height = row.map(\.count).max() ?? 1
            for lineIndex in 0..<height {
                let cells = row.enumerated().map { i, lines -> String in
                    let text = lineIndex < lines.count ? lines[lineIndex] : ""
                    let pad = String(repeating: " ", count: widths[i] - text.count)
                    return numeric.contains(i) ? pad + text : text + pad
                }
                out += cells.joined(separator: "  ").trailingSpacesRemoved + "\n"
            }
            if r == 0 { out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
        }
        return out
    }

    /// Splits at ", " so that lines stay within `width` where possible.
    static func wrap(_ text: String, width: Int) -> [String] {
        guard text.count > width else { return [text] }
        var lines: [String] = []
        var current = ""
        for part in text.split(separator: ", ", omittingEmptySubsequences: false).map(String.init) {
            if current.isEmpty {
                current = part
            } else if current.count + 2 + part.count <= width {
                current += ", " + part
            } else {
                lines.append(current + ",")
                current = part
            }
        }
        lines.append(current)
        return lines
    }

    private func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingAll("\"", with: "\"\"") + "\"" : s
    }
}

extension String {
    var trailingSpacesRemoved: String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

/// Text renderings of plans, comparisons and importance (the CLI prints them).
public enum PlanRendering {
    /// "Kerla (58 syscalls)".
    static func title(_ plan: SupportPlan) -> String {
        "\(plan.os) (\(plan.osSyscallCount) syscalls)"
    }

    /// The paper's Table 1 layout: step, implement, stub, fake, applications supported.
    public static func grid(_ plan: SupportPlan, costs: Bool = false) -> TextGrid {
        let rows = plan.steps.map { step -> [String] in
            let apps = step.step == 0
                ? "(\(step.newlySupported.count) apps)" + (step.newlySupported.isEmpty ? "" : " " + step.newlySupported.joined(separator: ", "))
                : "+ " + step.newlySupported.joined(separator: ", ")
            var row = [String(step.step), labels(step.implement), labels(step.stub), labels(step.fake), apps,
                       String(step.supportedCount), String(step.implementedCount)]
            if costs { row.append(number(step.cost)) }
            return row
        }
        var header = ["Step", "Implement", "Stub", "Fake", "Support for...", "Apps", "Implemented"]
        if costs { header.append("Cost") }
        return TextGrid(header: header, rows: rows, numeric: costs ? [0, 5, 6, 7] : [0, 5, 6])
    }

    /// "name (number)" list; a changed decision shows what it was.
    static func labels(_ list: [DecidedSyscall]) -> String {
        if list.isEmpty { return "-" }
        return list.map { d in
            d.previous.map { "\(d.name) (\(d.number), was \($0.rawValue))" } ?? d.label
        }.joined(separator: ", ")
    }

    /// Why each syscall was decided: all of them (`all`), or only the implement decisions that
    /// come from a stub/fake conflict and the changed decisions.
    public static func reasons(_ plan: SupportPlan, all: Bool) -> [String] {
        plan.steps.flatMap { step in
            (step.implement + step.stub + step.fake).filter { d in
                all || d.previous != nil || (d.decision == .implement && d.reason.hasPrefix("stub-only"))
            }.map { d in
                "step \(step.step): \(d.decision.rawValue) \(d.label)"
                    + (d.previous.map { " (was \($0.rawValue))" } ?? "") + ": \(d.reason)"
            }
        }
    }

    /// One line under the table.
    public static func summary(_ plan: SupportPlan) -> String {
        let last = plan.steps.last
        let strategy = plan.strategy == .search
            ? "beam search, never worse than the paper's greedy rule for any number of apps"
            : "the paper's greedy rule (fewest syscalls left to implement)"
        return "Support plan for \(title(plan)), \(plan.apps.count) apps (workload: \(plan.workload.rawValue)); "
            + "all supported after \(plan.steps.count - 1) steps with \(last?.implementedCount ?? 0) syscalls implemented; \(strategy)."
    }

    /// The three curves, one row per number of apps.
    public static func grid(_ c: PlanComparison) -> TextGrid {
        let rows = (1..<c.ours.count).map { n -> [String] in
            [String(n), number(c.ours[n]), number(c.greedy[n]), number(c.original[n]),
             c.ours[n] < c.greedy[n] ? "ours -\(number(c.greedy[n] - c.ours[n]))" : ""]
        }
        return TextGrid(header: ["Apps", "Ours", "Greedy", "Original tool", "Note"], rows: rows, numeric: [0, 1, 2, 3])
    }

    public static func summary(_ c: PlanComparison) -> String {
        let better = c.oursBetter
        let area = { (curve: [Double]) in number(curve.reduce(0, +)) }
        var lines = ["\(c.os): ours needs fewer than greedy for \(better.count) of \(c.apps.count) app counts"
            + (better.first.map { " (first at \($0) apps: \(number(c.ours[$0])) vs \(number(c.greedy[$0])))" } ?? "")
            + "; never more. Area under the curve: ours \(area(c.ours)), greedy \(area(c.greedy)), original tool \(area(c.original))."]
        lines.append("Original tool's curve uses its own semantics (stub/fake swapped, conflicts dropped); "
            + "\(c.originalBrokenClaims.count) of its claimed apps do not run under its decisions"
            + (c.originalBrokenClaims.isEmpty ? "." : ": \(c.originalBrokenClaims.joined(separator: ", "))."))
        return lines.joined(separator: "\n")
    }

    /// API importance rows.
    public static func grid(_ rows: [SyscallImportance]) -> TextGrid {
        TextGrid(
            header: ["Syscall", "Number", "Required by", "Required %", "Traced by", "Traced %"],
            rows: rows.map { r in
                [r.name, String(r.number), String(r.requiredBy), percent(r.requiredShare), String(r.tracedBy), percent(r.tracedShare)]
            },
            numeric: [1, 2, 3, 4, 5])
    }

    public static func percent(_ share: Double) -> String {
        let tenths = Int((share * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// Integers without ".0", other values with up to two decimals.
    static func number(_ x: Double) -> String {
        if x == x.rounded() { return String(Int(x)) }
        let hundredths = Int((x * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100)." + (fraction < 10 ? "0\(fraction)" : "\(fraction)")
    }
}
