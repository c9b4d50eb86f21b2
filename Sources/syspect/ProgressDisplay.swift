import Foundation
import SyspectCore
import SyspectExplore
import SyspectTrace
#if canImport(Glibc)
import Glibc
#endif

/// Shows an explore's progress on standard error: one redrawn line on a terminal, plain lines
/// (one per finished probe) otherwise.
final class ProgressDisplay {
    private let isTerminal: Bool
    private var lineShown = false

    init(isTerminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.isTerminal = isTerminal
    }

    func handle(_ event: ExploreEvent) {
        switch event {
        case .resumed(let key, let finished):
            line("resuming \(key): \(finished) probes already done, not run again")
        case .phase(let phase, let snapshot):
            line("\(Self.phaseTitle(phase)) (\(Self.status(snapshot)))")
        case .censusOverflow(let replica, let overflow):
            if let notice = overflow.notice { line("notice: baseline replica \(replica): \(notice)") }
            if let loss = overflow.warning { line("warning: baseline replica \(replica): \(loss)") }
        case .jobs(let jobs, let share):
            line("probes at once: \(jobs) (a baseline run kept \(String(format: "%.2f", share)) of a core busy; --jobs N to choose)")
        case .probeFinished(let record, let snapshot):
            if isTerminal {
                redraw("[\(snapshot.phase.rawValue)] \(Self.status(snapshot))")
            } else {
                var text = "probe \(record.policy)#\(record.replica) \(record.outcome.rawValue) "
                    + "\(Self.duration(record.durationSeconds))"
                if record.outcome != .pass { text += " (\(record.reason))" }
                line(text + "  [\(Self.status(snapshot))]")
            }
        }
    }

    /// Ends the redrawn line before other output.
    func finish() {
        if lineShown { write("\n") }
        lineShown = false
    }

    static func phaseTitle(_ phase: ExplorePhase) -> String {
        switch phase {
        case .baseline: return "baseline: running the workload unmodified, with a census"
        case .probes: return "probes: each traced call stubbed, then faked"
        case .final: return "final run: every stub and fake together"
        case .culprits: return "final run failed: searching the culprits (delta debugging)"
        }
    }

    /// "34/120 probes, elapsed 1m02s, ETA 3m10s, verdicts: required 3 stub 2 fake 1 either 8".
    static func status(_ s: ProgressSnapshot) -> String {
        var text = "\(s.done)/\(s.total) probes, elapsed \(duration(s.elapsed))"
        if let eta = s.eta { text += ", ETA \(duration(eta))" }
        if !s.verdictCounts.isEmpty {
            let counts = Verdict.allCases.map { "\($0.rawValue) \(s.verdictCounts[$0, default: 0])" }
            text += ", verdicts: " + counts.joined(separator: " ")
        }
        return text
    }

    static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let total = Int(seconds.rounded())
        if total < 3600 { return String(format: "%dm%02ds", total / 60, total % 60) }
        return String(format: "%dh%02dm", total / 3600, (total % 3600) / 60)
    }

    private func line(_ text: String) {
        finish()
        write(text + "\n")
    }

    private func redraw(_ text: String) {
        write("\r\u{1B}[K" + text)
        lineShown = true
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
