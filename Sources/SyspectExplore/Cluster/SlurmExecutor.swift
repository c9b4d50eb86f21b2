import Foundation
import SyspectCore

/// Why a Slurm explore cannot go on, each naming the fix. Raised before anything is submitted
/// (Slurm, partition, store, the first task) or as a probe's reason when its task cannot start.
public enum SlurmExecutorError: Error, Sendable, CustomStringConvertible {
    case slurm(SlurmError)
    /// The first task (`syspect probe --check`) ended without success on its node.
    case firstTaskFailed(spec: String, task: SlurmTaskID, state: SlurmState, output: String, log: String)
    /// The first task did not end within the bound (no free node, partition down…).
    case firstTaskNeverEnded(spec: String, task: SlurmTaskID, reason: String, seconds: Double)

    public var description: String {
        switch self {
        case .slurm(let error):
            return error.description
        case .firstTaskFailed(let spec, let task, let state, let output, let log):
            return "the first Slurm task (\(task), `syspect probe --check` of \(spec)) ended \(state)"
                + (output.isEmpty ? " (log \(log))" : ": \(output)")
                + "; nothing was submitted: the nodes need syspect, the spec folder at the same paths (a shared filesystem) "
                + "and the database reachable (docs/cluster.md)"
        case .firstTaskNeverEnded(let spec, let task, let reason, let seconds):
            return "the first Slurm task (\(task), `syspect probe --check` of \(spec)) did not end within \(Int(seconds)) s"
                + (reason.isEmpty ? "" : " (squeue: \(reason))") + "; cancelled, nothing submitted: check that the partition has a free node (sinfo)"
        }
    }
}

/// How the Slurm executor submits (`syspect explore --executor slurm`, docs/cluster.md).
public struct SlurmExecutorOptions: Sendable {
    public var partition: String
    /// Tasks submitted and not finished at once, across every spec of the call.
    public var maxTasks: Int
    /// The syspect executable, at the same path on every node.
    public var syspect: String
    /// The store as the nodes open it (the tasks' `SYSPECT_DB`).
    public var database: String
    /// `--work-dir` on the nodes (nil: their default).
    public var workDirectory: String?
    /// Batch scripts and task output (`%A_%a.out`), on a filesystem the nodes share.
    public var logDirectory: String
    /// Seconds between reads of the stored outcomes, and between squeue calls.
    public var pollInterval = 0.25
    public var queueInterval = 2.0
    /// Seconds the executor waits for more requests before it submits an array.
    public var gatherDelay = 0.2
    /// Seconds the first task may take, queue wait included.
    public var firstTaskTimeout = 300.0
    /// Re-submissions of one index whose task was lost (cancelled, timed out, node failure).
    public var maxLost = 3
    /// Extra `#SBATCH` options (e.g. `--time=30:00`).
    public var sbatchOptions: [String] = []

    public init(partition: String, maxTasks: Int, syspect: String, database: String, workDirectory: String?, logDirectory: String) {
        self.partition = partition
        self.maxTasks = maxTasks
        self.syspect = syspect
        self.database = database
        self.workDirectory = workDirectory
        self.logDirectory = logDirectory
    }
}

/// What the executor submitted (printed at the end; the benchmark reads it).
public struct SlurmExecutorStatistics: Sendable {
    public var arrays = 0
    public var tasks = 0
    public var resubmitted = 0
    /// Planned probes of an earlier session used: still running, or finished and not collected.
    public var adopted = 0
    public var sbatchSeconds = 0.0
    /// Seconds from the first task's submission until squeue showed it finished.
    public var firstTaskSeconds = 0.0
}

/// Runs probes as Slurm job-array tasks for one or more explorers (one `SlurmProbeRunner` per
/// spec, all sharing `maxTasks`). Each request becomes a planned probe in the store (index →
/// `ProbeTask`), requests arriving together go in one array (`syspect probe SPEC --index I`),
/// and a monitor thread follows the outcomes the tasks store, squeue for tasks that ended
/// without one (lost: re-submitted under the same index; ended: the probe's `error`), and on
/// resume adopts the previous session's planned probes: a stored outcome not yet collected is
/// used, a task still pending or running is waited for, never submitted twice.
public final class SlurmExecutor: @unchecked Sendable {
    public let options: SlurmExecutorOptions
    public let client: SlurmClient
    let store: any ResultStore & PlannedProbeStore

    private let condition = NSCondition()
    private var waiting: [Ticket] = []
    private var running: [Ticket] = []
    /// Per exploration: the previous sessions' planned probes not collected (loaded on first use).
    private var uncollected: [String: [PlannedProbe]] = [:]
    private var monitorStarted = false
    private var lastQueueCheck = Date.distantPast
    private var failingSince: Date?
    private var stats = SlurmExecutorStatistics()

    final class Ticket {
        let key: String
        let specPath: String
        let specHash: String
        let app: String
        let task: ProbeTask
        let arrived = Date()
        var planned: PlannedProbe?
        var job: Int?
        var submittedAt: Date?
        var lost = 0
        var result: ProbeRun?

        init(key: String, specPath: String, specHash: String, app: String, task: ProbeTask) {
            (self.key, self.specPath, self.specHash, self.app, self.task) = (key, specPath, specHash, app, task)
        }

        var index: Int? { planned?.index }
    }

    public init(options: SlurmExecutorOptions, store: any ResultStore & PlannedProbeStore, client: SlurmClient = SlurmClient()) {
        self.options = options
        self.store = store
        var client = client
        client.environment["SYSPECT_DB"] = options.database
        self.client = client
    }

    public var statistics: SlurmExecutorStatistics {
        condition.lock()
        defer { condition.unlock() }
        return stats
    }

    // MARK: - Before submitting

    /// Checks Slurm, the partition and, with one task per spec, that a node runs syspect with the
    /// same spec and reaches the database. Nothing else is submitted before this passed.
    public func prepare(specs: [(spec: AppSpec, path: String)]) throws {
        do throws(SlurmError) {
            _ = try client.locate("sbatch")
            _ = try client.locate("squeue")
            try client.checkPartition(options.partition)
        } catch { throw SlurmExecutorError.slurm(error) }
        let started = Date()
        var checks: [(String, Int)] = []
        for (spec, path) in specs {
            let array = SlurmArray(
                name: "syspect-check-\(spec.name)", partition: options.partition, indices: [0], maxRunning: nil,
                command: [options.syspect, "probe", Self.absolute(path), "--check", "--spec-hash", Explorer.specHash(spec)],
                outputDirectory: options.logDirectory, options: options.sbatchOptions)
            do throws(SlurmError) { checks.append((path, try client.submit(array, scriptFolder: options.logDirectory))) } catch {
                throw SlurmExecutorError.slurm(error)
            }
        }
        for (path, job) in checks {
            let task = SlurmTaskID(job: job, index: 0)
            let ended: [SlurmTaskID: SlurmTaskStatus]
            do throws(SlurmError) {
                ended = try client.waitForCompletion(job: job, interval: 0.2, timeout: options.firstTaskTimeout)
            } catch {
                let reason = (try? client.queue(job: job))?.first?.reason ?? ""
                try? client.cancel(SlurmTaskID(job: job))
                if case .waitTimedOut = error {
                    throw SlurmExecutorError.firstTaskNeverEnded(spec: path, task: task, reason: reason, seconds: options.firstTaskTimeout)
                }
                throw SlurmExecutorError.slurm(error)
            }
            let state = ended[task]?.state ?? .failed
            if state != .completed {
                let log = logPath(task)
                throw SlurmExecutorError.firstTaskFailed(spec: path, task: task, state: state, output: Self.lastLine(of: log), log: log)
            }
        }
        condition.lock()
        stats.firstTaskSeconds = Date().timeIntervalSince(started)
        condition.unlock()
    }

    /// The runner of one spec's explorer; `local` carries the settings (timeouts, fake values…)
    /// the explorer changes as it goes, passed to the node with each request.
    public func runner(for spec: AppSpec, path: String, local: ProbeRunner) -> SlurmProbeRunner {
        SlurmProbeRunner(executor: self, spec: spec, path: Self.absolute(path), local: local)
    }

    // MARK: - Running a request

    /// Blocks until the request's planned probe has an outcome (or cannot get one: `.error`).
    func execute(_ task: ProbeTask, spec: AppSpec, path: String) -> ProbeRun {
        let ticket = Ticket(key: Explorer.key(for: spec), specPath: path, specHash: Explorer.specHash(spec),
                            app: spec.name, task: task)
        condition.lock()
        waiting.append(ticket)
        if !monitorStarted {
            monitorStarted = true
            let thread = Thread { [self] in monitor() }
            thread.stackSize = 1 << 20
            thread.start()
        }
        condition.broadcast()
        while ticket.result == nil { condition.wait() }
        condition.unlock()
        return ticket.result!
    }

    private func finish(_ ticket: Ticket, _ run: ProbeRun) {
        condition.lock()
        ticket.result = run
        running.removeAll { $0 === ticket }
        waiting.removeAll { $0 === ticket }
        condition.broadcast()
        condition.unlock()
    }

    private func failure(_ ticket: Ticket, _ reason: String) -> ProbeRun {
        ProbeRun(outcome: .error, reason: reason, directory: ticket.index.map { logPath(SlurmTaskID(job: ticket.job ?? 0, index: $0)) } ?? "")
    }

    // MARK: - The monitor thread

    private func monitor() {
        while true {
            condition.lock()
            while waiting.isEmpty && running.isEmpty { condition.wait() }
            _ = condition.wait(until: Date().addingTimeInterval(options.pollInterval))
            condition.unlock()
            do {
                try admit()
                try collect()
                if Date().timeIntervalSince(lastQueueCheck) >= options.queueInterval {
                    lastQueueCheck = Date()
                    try followQueue()
                }
                failingSince = nil
            } catch {
                // Slurm or the store not answering: keep trying for a minute, then the probes in
                // flight end as errors (the explorer retries or stops, naming this reason).
                let since = failingSince ?? Date()
                failingSince = since
                if Date().timeIntervalSince(since) > 60 {
                    condition.lock()
                    let all = running + waiting
                    condition.unlock()
                    for ticket in all { finish(ticket, failure(ticket, "the Slurm executor cannot follow its tasks: \(error)")) }
                    failingSince = nil
                }
            }
        }
    }

    /// Plans, adopts and submits waiting requests, up to `maxTasks` in flight.
    private func admit() throws {
        condition.lock()
        let free = options.maxTasks - running.count
        let oldest = waiting.first?.arrived ?? Date()
        let ready = !waiting.isEmpty && free > 0
            && (waiting.count >= free || Date().timeIntervalSince(oldest) >= options.gatherDelay)
        let taken = ready ? Array(waiting.prefix(free)) : []
        waiting.removeFirst(taken.count)
        running += taken
        condition.unlock()
        guard !taken.isEmpty else { return }
        for (key, tickets) in Dictionary(grouping: taken, by: \.key).sorted(by: { $0.key < $1.key }) {
            do { try admit(tickets, key: key) } catch {
                for ticket in tickets where ticket.job == nil && ticket.result == nil {
                    finish(ticket, failure(ticket, "cannot plan probe \(ticket.task.request) in the database: \(error)"))
                }
            }
        }
    }

    private func admit(_ tickets: [Ticket], key: String) throws {
        var submit: [Ticket] = []
        var fresh: [Ticket] = []
        var queues: [Int: [Int: SlurmTaskStatus]] = [:]
        if uncollected[key] == nil { uncollected[key] = try store.plannedProbes(exploration: key, indices: nil).filter { $0.collectedAt == nil } }
        for ticket in tickets {
            guard let match = uncollected[key]?.firstIndex(where: {
                $0.policy == ticket.task.request.policy.key && $0.replica == ticket.task.request.replica && $0.census == ticket.task.census
            }) else { fresh.append(ticket); continue }
            let planned = uncollected[key]!.remove(at: match)
            ticket.planned = planned
            if let text = planned.run, planned.outcome != nil {
                try store.markCollected(exploration: key, indices: [planned.index])
                condition.lock()
                stats.adopted += 1
                condition.unlock()
                finish(ticket, (try? StoredProbeRun.decode(text)) ?? failure(ticket, "the stored outcome of probe \(planned.index) cannot be read"))
                continue
            }
            if let job = planned.job {
                if queues[job] == nil { queues[job] = Dictionary((try? client.queue(job: job))?.compactMap { s in s.task.index.map { ($0, s) } } ?? []) { $1 } }
                if let status = queues[job]?[planned.index], !status.state.isFinal {
                    ticket.job = job
                    ticket.submittedAt = Date()
                    condition.lock()
                    stats.adopted += 1
                    condition.unlock()
                    continue  // adopted: still pending or running
                }
            }
            submit.append(ticket)
        }
        if !fresh.isEmpty {
            let planned = try store.plan(fresh.map(\.task.planEntry), exploration: key)
            for (ticket, probe) in zip(fresh, planned) { ticket.planned = probe }
            submit += fresh
        }
        try self.submit(submit, key: key)
    }

    /// One array for these tickets (all of one exploration, all planned).
    private func submit(_ tickets: [Ticket], key: String) throws {
        guard let first = tickets.first else { return }
        let indices = tickets.compactMap(\.index)
        var command = [options.syspect, "probe", first.specPath, "--index", SlurmArray.indexToken, "--spec-hash", first.specHash]
        if let work = options.workDirectory { command += ["--work-dir", work] }
        let array = SlurmArray(name: "syspect-\(first.app)", partition: options.partition, indices: indices, maxRunning: options.maxTasks,
                               command: command, outputDirectory: options.logDirectory, options: options.sbatchOptions)
        let started = Date()
        var job: Int?
        var lastError: SlurmError?
        for attempt in 0..<3 where job == nil {
            // A busy controller may refuse one sbatch ("Socket timed out"): try again before giving up.
            if attempt > 0 { Thread.sleep(forTimeInterval: Double(attempt)) }
            do throws(SlurmError) { job = try client.submit(array, scriptFolder: options.logDirectory) } catch {
                lastError = error
                if case .badArray = error { break }
            }
        }
        guard let job else {
            for ticket in tickets { finish(ticket, failure(ticket, "cannot submit probe \(ticket.index ?? -1) to Slurm: \(lastError.map { "\($0)" } ?? "")")) }
            return
        }
        let seconds = Date().timeIntervalSince(started)
        for ticket in tickets {
            ticket.job = job
            ticket.submittedAt = Date()
        }
        condition.lock()
        stats.arrays += 1
        stats.tasks += indices.count
        stats.sbatchSeconds += seconds
        condition.unlock()
        try store.markSubmitted(exploration: key, indices: indices, job: job)
    }

    /// Hands over the outcomes the tasks stored.
    private func collect() throws {
        condition.lock()
        let inFlight = running.filter { $0.job != nil && $0.result == nil }
        condition.unlock()
        for (key, tickets) in Dictionary(grouping: inFlight, by: \.key) {
            let stored = try store.plannedProbes(exploration: key, indices: tickets.compactMap(\.index)).filter { $0.outcome != nil }
            guard !stored.isEmpty else { continue }
            try store.markCollected(exploration: key, indices: stored.map(\.index))
            let byIndex = Dictionary(stored.map { ($0.index, $0) }) { $1 }
            for ticket in tickets {
                guard let index = ticket.index, let probe = byIndex[index] else { continue }
                finish(ticket, (try? StoredProbeRun.decode(probe.run ?? "")) ?? failure(ticket, "the stored outcome of probe \(index) cannot be read"))
            }
        }
    }

    /// Tasks that ended without storing an outcome: lost ones are submitted again (same index),
    /// the others end their probe as an `error` with the task's last output line.
    private func followQueue() throws {
        condition.lock()
        let inFlight = running.filter { $0.job != nil && $0.result == nil }
        condition.unlock()
        var resubmit: [String: [Ticket]] = [:]
        for (job, tickets) in Dictionary(grouping: inFlight, by: { $0.job! }) {
            let listed = Dictionary(try client.queue(job: job).compactMap { s in s.task.index.map { ($0, s) } }) { $1 }
            var finished: [Int: SlurmTaskStatus]?
            for ticket in tickets {
                guard let index = ticket.index else { continue }
                var status = listed[index]
                if status == nil, Date().timeIntervalSince(ticket.submittedAt ?? Date()) > 30 {
                    // Gone from squeue (MinJobAge passed): how it ended, from sacct or the jobcomp log.
                    if finished == nil {
                        finished = Dictionary(((try? client.finishedTasks(job: job)) ?? nil)?.compactMap { s in s.task.index.map { ($0, s) } } ?? []) { $1 }
                    }
                    status = finished?[index] ?? SlurmTaskStatus(task: SlurmTaskID(job: job, index: index), state: SlurmState("VANISHED"))
                }
                guard let status, status.state.isFinal || status.state.name == "VANISHED" else { continue }
                // The task stores its outcome before it exits: read once more now that it has.
                if let probe = try store.plannedProbes(exploration: ticket.key, indices: [index]).first, probe.outcome != nil { continue }
                let task = SlurmTaskID(job: job, index: index)
                if status.state.isLost || status.state.name == "VANISHED" {
                    ticket.lost += 1
                    if ticket.lost > options.maxLost {
                        finish(ticket, failure(ticket, "Slurm task \(task) was lost \(ticket.lost) times (last: \(status.state))"))
                    } else {
                        resubmit[ticket.key, default: []].append(ticket)
                    }
                } else {
                    let line = Self.lastLine(of: logPath(task))
                    finish(ticket, failure(ticket, "Slurm task \(task) ended \(status.state) without storing an outcome"
                        + (line.isEmpty ? " (log \(logPath(task)))" : ": \(line)")))
                }
            }
        }
        for (key, tickets) in resubmit {
            condition.lock()
            stats.resubmitted += tickets.count
            condition.unlock()
            try submit(tickets, key: key)
        }
    }

    // MARK: - Helpers

    func logPath(_ task: SlurmTaskID) -> String {
        "\(options.logDirectory)/\(task.job)_\(task.index ?? 0).out"
    }

    static func lastLine(of path: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(whereSeparator: \.isNewline).last.map { String($0.prefix(400)) } ?? ""
    }

    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}

/// The `ProbeRunning` of one spec explored through a `SlurmExecutor`: each `run` is one planned
/// probe run by a Slurm task; the settings the explorer changes go to the node with it.
public struct SlurmProbeRunner: ProbeRunning {
    let executor: SlurmExecutor
    let spec: AppSpec
    /// The spec file's absolute path (the same on every node).
    let path: String
    /// The settings (a `ProbeRunner` never run here).
    public private(set) var local: ProbeRunner

    init(executor: SlurmExecutor, spec: AppSpec, path: String, local: ProbeRunner) {
        (self.executor, self.spec, self.path, self.local) = (executor, spec, path, local)
    }

    public func run(_ request: ProbeRequest, census: Bool) -> ProbeRun {
        executor.execute(ProbeTask(request, census: census, runner: local), spec: spec, path: path)
    }

    private func with(_ change: (ProbeRunner) -> any ProbeRunning) -> any ProbeRunning {
        var copy = self
        if let changed = change(local) as? ProbeRunner { copy.local = changed }
        return copy
    }

    public func withTimeouts(ready: Double, run: Double) -> any ProbeRunning { with { $0.withTimeouts(ready: ready, run: run) } }
    public func withFakeValues(_ values: [Int: FakeValueRule]) -> any ProbeRunning { with { $0.withFakeValues(values) } }
    public func withSuiteCriterion(_ criterion: SuiteCriterion) -> any ProbeRunning { with { $0.withSuiteCriterion(criterion) } }
}
