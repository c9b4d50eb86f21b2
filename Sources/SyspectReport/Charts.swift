import SyspectCore

/// SVG drawing of the report's figures. Pure functions from values to `Markup`.
enum Charts {
    // MARK: - Figure 5: one grid of system call boxes per run

    static let gridColumns = 32
    static let staticOnlyLabel = "not traced, listed by static analysis"
    static let boxSize = 11.0
    static let boxPitch = 13.0
    static let gridLabelWidth = 30.0

    /// Rows of the grid: chunks of `gridColumns` numbers that hold at least one known x86-64
    /// call (the unused range 335...423 is skipped), each with the numbers it draws.
    static func gridRows(_ numbers: [Int] = SyscallTable.x86_64Numbers) -> [(start: Int, numbers: [Int])] {
        let chunks = Dictionary(grouping: numbers, by: { $0 / gridColumns })
        return chunks.keys.sorted().map { ($0 * gridColumns, chunks[$0]!.sorted()) }
    }

    /// The grid of every known x86-64 system call, coloured by `run.status(of:)`.
    static func grid(_ run: ReportedRun) -> Markup {
        let rows = gridRows()
        let width = gridLabelWidth + Double(gridColumns) * boxPitch
        let height = Double(rows.count) * boxPitch
        // Calls static analysis lists but the workload never made (the paper's Fig. 5a/b vs 5c).
        let staticOnly = (run.measurement.staticBinary ?? []).union(run.measurement.staticSources ?? [])
        var children: [Markup] = []
        for (index, row) in rows.enumerated() {
            let y = Double(index) * boxPitch
            children.append(el("text", [("class", "rowlabel"), ("x", fmt(gridLabelWidth - 4)), ("y", fmt(y + boxSize - 1))], text: String(row.start)))
            for number in row.numbers {
                let status = run.status(of: number)
                let x = gridLabelWidth + Double(number - row.start) * boxPitch
                let onlyStatic = status == .untraced && staticOnly.contains(number)
                children.append(el("rect", [
                    ("class", "box s-\(status.rawValue)" + (onlyStatic ? " static-only" : "")), ("data-nr", String(number)),
                    ("x", fmt(x)), ("y", fmt(y)), ("width", fmt(boxSize)), ("height", fmt(boxSize)),
                ], [el("title", text: "\(number) \(SyscallTable.displayName(of: number)): \(onlyStatic ? Self.staticOnlyLabel : status.label)")]))
            }
        }
        return el("svg", [
            ("class", "grid"), ("role", "img"), ("data-run", run.measurement.id),
            ("aria-label", "System calls of \(run.measurement.id) by verdict"),
            ("width", fmt(width)), ("height", fmt(height)), ("viewBox", "0 0 \(fmt(width)) \(fmt(height))"),
        ], children)
    }

    // MARK: - Figure 4: traced calls per run, by verdict, against static analysis

    static let barSegments: [BoxStatus] = [.required, .stub, .fake, .either, .traced]

    /// Horizontal bars: per run one stacked bar of traced calls by verdict, and thin bars for
    /// the static-analysis counts where the data has them.
    static func bars(_ runs: [ReportedRun]) -> Markup {
        let labelWidth = 230.0, plotWidth = 520.0, countWidth = 150.0
        let maxCount = runs.map { run in
            max(run.tracedCount, run.measurement.staticBinary?.count ?? 0, run.measurement.staticSources?.count ?? 0)
        }.max() ?? 0
        let scaleMax = Double(niceCeiling(max(maxCount, 1)))
        let scale = plotWidth / scaleMax
        var y = 22.0
        var children: [Markup] = axisTicks(max: scaleMax, x0: labelWidth, width: plotWidth, y: 12)
        for run in runs {
            let rowTop = y
            let counts = run.measurement.counts
            var x = labelWidth
            for status in barSegments {
                let n = status == .traced ? run.tracedOnly.count : counts[verdict(status)!] ?? 0
                guard n > 0 else { continue }
                let w = Double(n) * scale
                children.append(el("rect", [("class", "seg s-\(status.rawValue)"), ("x", fmt(x)), ("y", fmt(y)), ("width", fmt(w)), ("height", "14")],
                                   [el("title", text: "\(run.measurement.id): \(n) \(status.label)")]))
                x += w
            }
            children.append(el("text", [("class", "count"), ("x", fmt(x + 4)), ("y", fmt(y + 11))],
                               text: "\(run.tracedCount) traced, \(run.measurement.required.count) required"))
            y += 17
            let origin = staticOrigin(run.measurement)
            for (label, set) in [("static binary", run.measurement.staticBinary), ("static sources", run.measurement.staticSources)] {
                guard let set, !set.isEmpty else { continue }
                let w = Double(set.count) * scale
                children.append(el("rect", [("class", "seg static" + (origin == "syspect" ? " static-syspect" : "")), ("data-static-source", origin),
                                            ("x", fmt(labelWidth)), ("y", fmt(y)), ("width", fmt(w)), ("height", "6")],
                                   [el("title", text: "\(run.measurement.id): \(set.count) found by \(label) analysis (\(origin))")]))
                children.append(el("text", [("class", "count small"), ("x", fmt(labelWidth + w + 4)), ("y", fmt(y + 6))], text: "\(label) \(set.count) (\(origin))"))
                y += 9
            }
            children.append(el("text", [("class", "runlabel"), ("x", fmt(labelWidth - 6)), ("y", fmt(rowTop + 11))], text: run.measurement.id))
            y += 8
        }
        let width = labelWidth + plotWidth + countWidth
        return el("svg", [
            ("class", "bars"), ("role", "img"), ("aria-label", "Traced system calls per application by verdict"),
            ("width", fmt(width)), ("height", fmt(y)), ("viewBox", "0 0 \(fmt(width)) \(fmt(y))"),
        ], children)
    }

    /// Who computed a run's static sets: "syspect" (its own analysis, stored by `explore`) or
    /// "loupedb" (the published static_binary / static_sources files, other tools' analyses).
    static func staticOrigin(_ m: Measurement) -> String {
        m.source == "syspect" ? "syspect" : m.source.hasPrefix("loupedb:") ? "loupedb" : m.source
    }

    static func verdict(_ status: BoxStatus) -> Verdict? {
        switch status {
        case .required: return .required
        case .stub: return .stub
        case .fake: return .fake
        case .either: return .either
        case .traced, .untraced: return nil
        }
    }

    /// Tick marks and labels along a horizontal axis from 0 to `max`.
    static func axisTicks(max: Double, x0: Double, width: Double, y: Double) -> [Markup] {
        ticks(max: max).flatMap { value -> [Markup] in
            let x = x0 + value / max * width
            return [
                el("line", [("class", "tick"), ("x1", fmt(x)), ("x2", fmt(x)), ("y1", fmt(y)), ("y2", fmt(y + 4))]),
                el("text", [("class", "ticklabel"), ("x", fmt(x)), ("y", fmt(y - 2))], text: fmt(value)),
            ]
        }
    }

    // MARK: - Figures 2 and 3: line charts

    /// One line of a chart.
    struct Series {
        var label: String
        /// CSS class that gives its colour and dash pattern.
        var cssClass: String
        var points: [(x: Double, y: Double)]
        /// Draw as steps (plan curves) rather than straight segments.
        var steps: Bool
    }

    /// A line chart with axes, ticks, axis titles and an in-chart legend.
    static func lineChart(_ series: [Series], xTitle: String, yTitle: String, yMax: Double, ariaLabel: String, yPercent: Bool = false) -> Markup {
        let left = 56.0, top = 12.0, plotWidth = 560.0, plotHeight = 280.0, bottom = 44.0, legendWidth = 320.0
        let xMax = Double(niceCeiling(Int((series.flatMap { $0.points.map(\.x) }.max() ?? 1).rounded(.up))))
        let yScaleMax = yPercent ? 100 : Double(niceCeiling(Int(yMax.rounded(.up))))
        func px(_ x: Double) -> Double { left + x / xMax * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - y / yScaleMax * plotHeight }
        var children: [Markup] = [
            el("rect", [("class", "plotarea"), ("x", fmt(left)), ("y", fmt(top)), ("width", fmt(plotWidth)), ("height", fmt(plotHeight))]),
        ]
        for value in ticks(max: xMax) {
            children.append(el("line", [("class", "gridline"), ("x1", fmt(px(value))), ("x2", fmt(px(value))), ("y1", fmt(top)), ("y2", fmt(top + plotHeight))]))
            children.append(el("text", [("class", "ticklabel"), ("x", fmt(px(value))), ("y", fmt(top + plotHeight + 14))], text: fmt(value)))
        }
        for value in ticks(max: yScaleMax) {
            children.append(el("line", [("class", "gridline"), ("x1", fmt(left)), ("x2", fmt(left + plotWidth)), ("y1", fmt(py(value))), ("y2", fmt(py(value)))]))
            children.append(el("text", [("class", "ticklabel end"), ("x", fmt(left - 4)), ("y", fmt(py(value) + 4))], text: fmt(value) + (yPercent ? "%" : "")))
        }
        children.append(el("text", [("class", "axistitle"), ("x", fmt(left + plotWidth / 2)), ("y", fmt(top + plotHeight + 34))], text: xTitle))
        children.append(el("text", [("class", "axistitle"), ("transform", "rotate(-90)"), ("x", fmt(-(top + plotHeight / 2))), ("y", "14")], text: yTitle))
        for line in series where !line.points.isEmpty {
            var coordinates: [String] = []
            var previous: (x: Double, y: Double)?
            for point in line.points {
                if line.steps, let previous { coordinates.append("\(fmt(px(point.x))),\(fmt(py(previous.y)))") }
                coordinates.append("\(fmt(px(point.x))),\(fmt(py(point.y)))")
                previous = point
            }
            children.append(el("polyline", [("class", "series \(line.cssClass)"), ("points", coordinates.joined(separator: " "))],
                               [el("title", text: line.label)]))
        }
        // Legend to the right of the plot, so it never hides a line.
        let legendItems = series.filter { !$0.points.isEmpty }
        for (index, line) in legendItems.enumerated() {
            let y = top + 14 + Double(index) * 18
            let x = left + plotWidth + 14
            children.append(el("line", [("class", "series \(line.cssClass)"), ("x1", fmt(x)), ("x2", fmt(x + 24)), ("y1", fmt(y - 4)), ("y2", fmt(y - 4))]))
            children.append(el("text", [("class", "legendtext"), ("x", fmt(x + 30)), ("y", fmt(y))], text: line.label))
        }
        let width = left + plotWidth + legendWidth, height = top + plotHeight + bottom
        return el("svg", [
            ("class", "chart"), ("role", "img"), ("aria-label", ariaLabel),
            ("width", fmt(width)), ("height", fmt(height)), ("viewBox", "0 0 \(fmt(width)) \(fmt(height))"),
        ], children)
    }

    // MARK: - Scales

    /// A round tick step (1, 2, 2.5 or 5 × 10^k, integral) giving about five ticks up to `value`.
    static func tickStep(_ value: Double) -> Double {
        let target = max(value / 5, 1)
        var magnitude = 1.0
        while magnitude * 10 <= target { magnitude *= 10 }
        let steps = magnitude >= 10 ? [1, 2, 2.5, 5, 10] : [1, 2, 5, 10]
        return steps.map { $0 * magnitude }.first { $0 >= target } ?? 10 * magnitude
    }

    /// `value` rounded up to a whole number of tick steps (the axis maximum).
    static func niceCeiling(_ value: Int) -> Int {
        let step = tickStep(Double(value))
        return Int((Double(max(value, 1)) / step).rounded(.up) * step)
    }

    /// Evenly spaced round tick values from 0 to `max` inclusive.
    static func ticks(max: Double) -> [Double] {
        guard max > 0 else { return [0] }
        return Array(stride(from: 0, through: max, by: tickStep(max)))
    }
}
