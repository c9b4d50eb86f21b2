import Foundation
import SyspectCore

/// `syspect db import-loupedb`: reads a loupedb folder with `Loupedb.read` and saves every run
/// folder's measurement (duplicate runs of a workload included: their sources differ) in ONE
/// transaction: on any error nothing is left behind.
public enum LoupedbImport {
    public struct Summary: Sendable, Hashable {
        /// Run folders imported (one measurement each).
        public var runs: Int
        public var apps: Int
        /// Per-syscall verdict rows written.
        public var verdicts: Int
        /// What the reader tolerated (skipped rows, unknown names in OS lists, …).
        public var warnings: [String]
        public var readSeconds: Double
        public var writeSeconds: Double
    }

    public static func run(directory: String, onBadRow: BadRowPolicy, into store: any ResultStore) throws -> Summary {
        let clock = ContinuousClock()
        let readStart = clock.now
        let dataset = try Loupedb.read(directory: directory, onBadRow: onBadRow)
        let measurements = dataset.runs.map(\.measurement)
        let writeStart = clock.now
        try store.saveAll(measurements)
        let end = clock.now
        return Summary(
            runs: measurements.count, apps: Set(measurements.map(\.app)).count,
            verdicts: measurements.reduce(0) { $0 + $1.verdicts.count }, warnings: dataset.warnings,
            readSeconds: (writeStart - readStart).seconds, writeSeconds: (end - writeStart).seconds)
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
