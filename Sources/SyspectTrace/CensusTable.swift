import SyspectCore

/// Plain-text census tables for `syspect trace`: one table per arch (x86-64 first; i386 and
/// x32 calls are listed separately, never under x86-64 numbers), rows sorted by calls.
public enum CensusTable {
    /// How many errnos a row names.
    public static let topErrnos = 3

    public static func render(_ result: TraceResult) -> String {
        var sections: [String] = []
        for arch in Arch.allCases {
            let rows = result.census.filter { $0.arch == arch }
            guard !rows.isEmpty || arch == .x86_64 else { continue }
            sections.append(table(arch, rows.sorted { ($0.calls, $1.number) > ($1.calls, $0.number) },
                                  failuresCounted: result.failuresCounted))
        }
        return sections.joined(separator: "\n")
    }

    static func table(_ arch: Arch, _ rows: [CensusEntry], failuresCounted: Bool) -> String {
        let header = ["syscall", "number", "calls", "failed", "errors"]
        var cells = rows.map { row in
            [row.name, String(row.number), String(row.calls), failuresCounted ? String(row.failures) : "-",
             errnoSummary(row.errnos)]
        }
        let total = rows.reduce(0) { $0 + $1.calls }
        let failed = rows.reduce(0) { $0 + $1.failures }
        cells.append(["total", "", String(total), failuresCounted ? String(failed) : "-", ""])
        let widths = header.indices.map { c in ([header] + cells).map { $0[c].count }.max() ?? 0 }
        func line(_ row: [String]) -> String {
            row.enumerated().map { c, text in
                let pad = String(repeating: " ", count: widths[c] - text.count)
                return (c == 0 || c == 4) ? text + pad : pad + text  // names left, numbers right
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        var out = ["\(arch.rawValue) system calls:", line(header), rule]
        out += cells.dropLast().map(line)
        out += [rule, line(cells.last!)]
        return out.joined(separator: "\n") + "\n"
    }

    /// "ENOENT 5, EAGAIN 2" — the most frequent errnos first.
    static func errnoSummary(_ errnos: [String: Int]) -> String {
        errnos.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(topErrnos)
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
