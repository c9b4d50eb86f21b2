import Foundation
import SyspectCore

/// Why `syspect probe` stored nothing (docs/cluster.md, "The probe contract"), each with the fix.
public enum ClusterProbeError: Error, Sendable, CustomStringConvertible {
    /// The node's copy of the spec (or its scripts) hashes differently from the coordinator's.
    case specHashDiffers(spec: String, expected: String, found: String)
    /// The store has no exploration of this spec (nothing planned yet).
    case noExploration(key: String)
    /// No probe planned under this index.
    case notPlanned(key: String, index: Int)
    /// The planned request cannot be read (written by another syspect version?).
    case unreadableRequest(index: Int, reason: String)

    public var description: String {
        switch self {
        case .specHashDiffers(let spec, let expected, let found):
            return "this node's copy of \(spec) (with its scripts) hashes to \(found), the coordinator's to \(expected): "
                + "give the nodes the same spec folder at the same path (a shared filesystem, docs/cluster.md)"
        case .noExploration(let key):
            return "the database holds no exploration \(key): run `syspect explore --executor slurm` (the coordinator plans the probes)"
        case .notPlanned(let key, let index):
            return "exploration \(key) has no planned probe \(index): only the coordinator's tasks run `syspect probe`"
        case .unreadableRequest(let index, let reason):
            return "planned probe \(index) cannot be read (\(reason)): run the coordinator and the nodes with the same syspect"
        }
    }
}

/// The node side of a cluster explore: one planned probe, run in its sandbox exactly as the local
/// executor runs it, its outcome stored once.
public enum ClusterProbe {
    public enum Result: Sendable, Equatable {
        /// This task ran the probe and stored its outcome.
        case stored(ProbeOutcome)
        /// An outcome was already stored for the index (a re-submitted task whose first copy
        /// finished after all): left alone.
        case alreadyStored(ProbeOutcome?)
    }

    /// Refuses a node copy whose hash differs from `expected` (nil: no check).
    public static func checkHash(_ spec: AppSpec, path: String, expected: String?) throws(ClusterProbeError) {
        guard let expected else { return }
        let found = Explorer.specHash(spec)
        if found != expected { throw .specHashDiffers(spec: path, expected: expected, found: found) }
    }

    /// Runs planned probe `index` of `spec`'s exploration and stores its outcome.
    public static func run(spec: AppSpec, path: String, store: any ResultStore & PlannedProbeStore, index: Int, specHash: String?,
                           workDirectory: String?, host: String = ProcessInfo.processInfo.hostName) throws -> Result {
        try checkHash(spec, path: path, expected: specHash)
        let key = Explorer.key(for: spec)
        guard try store.exploration(key: key) != nil else { throw ClusterProbeError.noExploration(key: key) }
        guard let planned = try store.plannedProbes(exploration: key, indices: [index]).first else {
            throw ClusterProbeError.notPlanned(key: key, index: index)
        }
        if planned.outcome != nil { return .alreadyStored(planned.outcome) }
        let task: ProbeTask
        do { task = try ProbeTask.decode(planned.request) } catch {
            throw ClusterProbeError.unreadableRequest(index: index, reason: "\(error)")
        }
        let runner = task.configure(ProbeRunner(spec: spec, workDirectory: try Explorer.probeFolder(spec: spec, workDirectory: workDirectory)))
        let run = runner.run(task.request, census: task.census)
        if try store.storeOutcome(exploration: key, index: index, outcome: run.outcome, run: StoredProbeRun.json(run), host: host) {
            return .stored(run.outcome)
        }
        return .alreadyStored(try store.plannedProbes(exploration: key, indices: [index]).first?.outcome)
    }
}
