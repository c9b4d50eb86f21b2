import Foundation

// Pure Slurm vocabulary: what sbatch, squeue, sacct and the jobcomp/filetxt log print, parsed into
// values, and the job-array script syspect submits. No process is run here (SlurmClient does).
// docs/cluster.md describes the formats and which of them a cluster without slurmdbd has.

/// One Slurm job, or one task of a job array (`123_4`: array job 123, index 4).
public struct SlurmTaskID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The job id (for an array task: the array's job id, `%A`).
    public var job: Int
    /// The array index (`%a`), nil for a plain job.
    public var index: Int?

    public init(job: Int, index: Int? = nil) {
        self.job = job
        self.index = index
    }

    /// `123` or `123_4`; nil for anything else (a step such as `123_4.batch`, a range `123_[1-3]`).
    public init?(parsing text: Substring) {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count <= 2, let job = Int(parts[0]), job > 0 else { return nil }
        if parts.count == 2 {
            guard let index = Int(parts[1]), index >= 0 else { return nil }
            self.init(job: job, index: index)
        } else {
            self.init(job: job)
        }
    }

    public var description: String { index.map { "\(job)_\($0)" } ?? "\(job)" }

    public static func < (a: SlurmTaskID, b: SlurmTaskID) -> Bool {
        (a.job, a.index ?? -1) < (b.job, b.index ?? -1)
    }
}

/// A job state as Slurm names it (squeue `%T`, sacct `State`, squeue --json `job_state`).
public struct SlurmState: Sendable, Hashable, CustomStringConvertible {
    /// Upper case, without sacct's "by UID" suffix (`CANCELLED by 0` → `CANCELLED`).
    public var name: String

    public init(_ text: some StringProtocol) {
        name = String(text.split(separator: " ").first ?? "").uppercased()
    }

    public static let pending = SlurmState("PENDING")
    public static let running = SlurmState("RUNNING")
    public static let completing = SlurmState("COMPLETING")
    public static let completed = SlurmState("COMPLETED")
    public static let failed = SlurmState("FAILED")
    public static let cancelled = SlurmState("CANCELLED")
    public static let timeout = SlurmState("TIMEOUT")
    public static let nodeFail = SlurmState("NODE_FAIL")

    /// States in which the task will not run (again) by itself.
    static let finalStates: Set<String> = [
        "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY",
        "BOOT_FAIL", "DEADLINE", "REVOKED", "SPECIAL_EXIT",
    ]

    /// The task ended (successfully or not): nothing more will happen unless it is re-submitted.
    public var isFinal: Bool { Self.finalStates.contains(name) }
    /// The task ended without running its program to the end (a probe to re-submit).
    public var isLost: Bool { isFinal && self != .completed && self != .failed }
    public var description: String { name }
}

/// What one line (or JSON entry) says about one task.
public struct SlurmTaskStatus: Sendable, Hashable {
    public var task: SlurmTaskID
    public var state: SlurmState
    /// squeue's reason (`%r`, e.g. `JobArrayTaskLimit`, `NonZeroExitCode`), when given.
    public var reason: String?
    /// The program's exit status, when the source gives one (sacct `ExitCode` 3:0 → 3).
    public var exitStatus: Int?
    /// The signal that ended it (sacct `ExitCode` 0:9 → 9), when nonzero.
    public var signal: Int?

    public init(task: SlurmTaskID, state: SlurmState, reason: String? = nil, exitStatus: Int? = nil, signal: Int? = nil) {
        self.task = task
        self.state = state
        self.reason = reason
        self.exitStatus = exitStatus
        self.signal = signal
    }
}

/// A line of Slurm output that does not have the expected shape.
public struct SlurmParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var source: String
    public var line: Int
    public var text: String
    public var problem: String
    public var description: String { "\(source) line \(line): \(problem): '\(text)'" }
}

public enum SlurmOutput {
    /// `sbatch --parsable`: `JOBID` or `JOBID;CLUSTER` (the last line; sbatch may warn before it).
    public static func submittedJob(_ text: String) throws(SlurmParseError) -> Int {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let last = lines.last else {
            throw SlurmParseError(source: "sbatch --parsable", line: 1, text: "", problem: "no job id printed")
        }
        guard let id = Int(last.split(separator: ";", maxSplits: 1)[0]), id > 0 else {
            throw SlurmParseError(source: "sbatch --parsable", line: lines.count, text: last, problem: "not a job id")
        }
        return id
    }

    /// The `squeue` format whose lines `queueLines` reads: `squeue -h -t all -o '%i|%T|%r'`.
    public static let queueFormat = "%i|%T|%r"

    /// `squeue -h -o '%i|%T|%r'` lines. A pending array prints its remaining tasks on one line
    /// (`123_[2-5,7%2]`): that line becomes one status per index.
    public static func queueLines(_ text: String) throws(SlurmParseError) -> [SlurmTaskStatus] {
        var result: [SlurmTaskStatus] = []
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() where !line.allSatisfy(\.isWhitespace) {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false)
            let fail = { (problem: String) in
                SlurmParseError(source: "squeue -o '\(queueFormat)'", line: number + 1, text: String(line), problem: problem)
            }
            guard fields.count == 3 else { throw fail("expected 3 fields separated by '|'") }
            let id = fields[0].trimmingCharacters(in: .whitespaces)
            let state = SlurmState(fields[1].trimmingCharacters(in: .whitespaces))
            let reason = fields[2].trimmingCharacters(in: .whitespaces)
            guard !state.name.isEmpty else { throw fail("no state") }
            guard let tasks = tasks(of: id) else { throw fail("not a job id (123, 123_4 or 123_[1-3])") }
            for task in tasks {
                result.append(SlurmTaskStatus(task: task, state: state, reason: reason.isEmpty || reason == "None" ? nil : reason))
            }
        }
        return result
    }

    /// `123` → [123]; `123_4` → [123_4]; `123_[1-2]` → [123_1, 123_2]; nil for anything else.
    private static func tasks(of id: String) -> [SlurmTaskID]? {
        if let task = SlurmTaskID(parsing: Substring(id)) { return [task] }
        guard let (job, indices) = arrayRange(id) else { return nil }
        return indices.map { SlurmTaskID(job: job, index: $0) }
    }

    /// `123_[1-3,5%2]` → (123, [1, 2, 3, 5]); nil when not of that shape.
    static func arrayRange(_ id: String) -> (Int, [Int])? {
        guard let open = id.firstIndex(of: "["), id.hasSuffix("]"),
              id[..<open].hasSuffix("_"), let job = Int(id[..<id.index(before: open)]) else { return nil }
        var body = id[id.index(after: open)..<id.index(before: id.endIndex)]
        if let percent = body.firstIndex(of: "%") { body = body[..<percent] }
        guard let indices = SlurmArray.indices(parsing: body) else { return nil }
        return (job, indices)
    }

    /// `sacct -n -P -o JobID,State,ExitCode` lines (`123_4|COMPLETED|0:0`, `123_5|CANCELLED by 0|0:15`).
    /// Job steps (`123_4.batch`, `123_4.extern`) are left out: the allocation's line is the task's.
    /// Pending ranges (`123_[5-7]`) become one status per index.
    public static func accountingLines(_ text: String) throws(SlurmParseError) -> [SlurmTaskStatus] {
        var result: [SlurmTaskStatus] = []
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() where !line.allSatisfy(\.isWhitespace) {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false)
            let fail = { (problem: String) in
                SlurmParseError(source: "sacct -P -o JobID,State,ExitCode", line: number + 1, text: String(line), problem: problem)
            }
            guard fields.count == 3 else { throw fail("expected 3 fields separated by '|'") }
            let id = fields[0].trimmingCharacters(in: .whitespaces)
            if id.contains(".") { continue }
            let state = SlurmState(fields[1].trimmingCharacters(in: .whitespaces))
            guard !state.name.isEmpty else { throw fail("no state") }
            let (status, signal) = try exitCode(fields[2].trimmingCharacters(in: .whitespaces), fail)
            guard let tasks = tasks(of: id) else { throw fail("not a job id (123, 123_4 or 123_[1-3])") }
            for task in tasks {
                result.append(SlurmTaskStatus(task: task, state: state, exitStatus: status, signal: signal == 0 ? nil : signal))
            }
        }
        return result
    }

    /// `3:0` → (3, 0): exit status, then signal.
    private static func exitCode(_ text: String, _ fail: (String) -> SlurmParseError) throws(SlurmParseError) -> (Int, Int) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let status = Int(parts[0]), let signal = Int(parts[1]) else {
            throw fail("exit code is not STATUS:SIGNAL")
        }
        return (status, signal)
    }

    /// `squeue --json` (openapi v0.0.38 of Slurm 22.05: `job_state` a string, `array_task_id` an
    /// integer or null; Slurm 23.11+: `job_state` a list, numbers as `{"set":…,"number":…}`).
    /// A pending array's remaining tasks (`array_task_string` `2-3%2`) become one status per index.
    public static func queueJSON(_ data: Data) throws(SlurmParseError) -> [SlurmTaskStatus] {
        let document: QueueDocument
        do { document = try JSONDecoder().decode(QueueDocument.self, from: data) } catch {
            throw SlurmParseError(source: "squeue --json", line: 1, text: String(decoding: data.prefix(80), as: UTF8.self), problem: "not squeue's JSON (\(error))")
        }
        var result: [SlurmTaskStatus] = []
        for job in document.jobs {
            let state = SlurmState(job.job_state.value)
            let reason = job.state_reason.flatMap { $0 == "None" || $0.isEmpty ? nil : $0 }
            let arrayJob = job.array_job_id?.value ?? 0
            if arrayJob == 0 {
                result.append(SlurmTaskStatus(task: SlurmTaskID(job: job.job_id), state: state, reason: reason))
            } else if let index = job.array_task_id?.value {
                result.append(SlurmTaskStatus(task: SlurmTaskID(job: arrayJob, index: index), state: state, reason: reason))
            } else if let pending = job.array_task_string, !pending.isEmpty {
                let body = pending.split(separator: "%", maxSplits: 1)[0]
                guard let indices = SlurmArray.indices(parsing: body) else {
                    throw SlurmParseError(source: "squeue --json", line: 1, text: pending, problem: "array_task_string is not a list of ranges")
                }
                for index in indices {
                    result.append(SlurmTaskStatus(task: SlurmTaskID(job: arrayJob, index: index), state: state, reason: reason))
                }
            }
        }
        return result
    }

    /// The jobcomp/filetxt log (`JobCompLoc`): one line per finished job or array task,
    /// `JobId=7 … JobState=CANCELLED … ArrayJobId=4 ArrayTaskId=2 … ExitCode=0:0`. On a cluster
    /// without slurmdbd this is the only lasting record of how a task ended.
    public static func completionLines(_ text: String) throws(SlurmParseError) -> [SlurmTaskStatus] {
        var result: [SlurmTaskStatus] = []
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() where !line.allSatisfy(\.isWhitespace) {
            var fields: [Substring: Substring] = [:]
            for pair in line.split(separator: " ") {
                guard let equals = pair.firstIndex(of: "=") else { continue }
                fields[pair[..<equals]] = pair[pair.index(after: equals)...]
            }
            let fail = { (problem: String) in
                SlurmParseError(source: "jobcomp/filetxt", line: number + 1, text: String(line.prefix(120)), problem: problem)
            }
            guard let jobText = fields["JobId"], let job = Int(jobText) else { throw fail("no JobId=") }
            guard let stateText = fields["JobState"], !stateText.isEmpty else { throw fail("no JobState=") }
            let task: SlurmTaskID
            if let arrayJob = fields["ArrayJobId"].flatMap({ Int($0) }), let index = fields["ArrayTaskId"].flatMap({ Int($0) }) {
                task = SlurmTaskID(job: arrayJob, index: index)
            } else {
                task = SlurmTaskID(job: job)
            }
            var status: Int?, signal: Int?
            if let code = fields["ExitCode"] {
                let (s, g) = try exitCode(String(code), fail)
                status = s
                signal = g == 0 ? nil : g
            }
            result.append(SlurmTaskStatus(task: task, state: SlurmState(stateText), exitStatus: status, signal: signal))
        }
        return result
    }

    private struct QueueDocument: Decodable {
        var jobs: [Job]
    }

    private struct Job: Decodable {
        var job_id: Int
        var array_job_id: Number?
        var array_task_id: Number?
        var array_task_string: String?
        var job_state: States
        var state_reason: String?
    }

    /// An integer, or Slurm 23.11's `{"set": true, "infinite": false, "number": 4}` (nil when unset).
    private struct Number: Decodable {
        var value: Int?
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { value = nil; return }
            if let number = try? container.decode(Int.self) { value = number; return }
            struct Boxed: Decodable { var set: Bool?; var number: Int? }
            let boxed = try container.decode(Boxed.self)
            value = boxed.set == false ? nil : boxed.number
        }
    }

    /// A state string, or Slurm 23.11's list (`["CANCELLED"]`; the first is the base state).
    private struct States: Decodable {
        var value: String
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let one = try? container.decode(String.self) { value = one; return }
            value = try container.decode([String].self).first ?? ""
        }
    }
}

/// The job-array script syspect submits: one array task per probe index.
public struct SlurmArray: Sendable, Hashable {
    /// The job name (`--job-name`), e.g. `syspect-redis`.
    public var name: String
    public var partition: String
    /// The probe indices, one array task each (`$SLURM_ARRAY_TASK_ID` is the index).
    public var indices: [Int]
    /// At most this many tasks at once (`%M`, from --slurm-max-tasks); nil: as many as fit.
    public var maxRunning: Int?
    /// The program and its arguments; `SlurmArray.indexToken` in an argument stands for the task's index.
    public var command: [String]
    /// A folder on the nodes for each task's output (`%A_%a.out`).
    public var outputDirectory: String
    /// Extra `#SBATCH` options (e.g. `--time=10:00`), one per entry.
    public var options: [String] = []

    public static let indexToken = "{index}"

    public init(name: String, partition: String, indices: [Int], maxRunning: Int? = nil, command: [String], outputDirectory: String, options: [String] = []) {
        self.name = name
        self.partition = partition
        self.indices = indices
        self.maxRunning = maxRunning
        self.command = command
        self.outputDirectory = outputDirectory
        self.options = options
    }

    /// What is wrong with it, or nil.
    public var problem: String? {
        if indices.isEmpty { return "no probe index to submit" }
        if let bad = indices.first(where: { $0 < 0 }) { return "probe index \(bad) is negative" }
        if Set(indices).count != indices.count { return "a probe index is listed twice" }
        if let m = maxRunning, m < 1 { return "--slurm-max-tasks must be at least 1 (got \(m))" }
        if command.isEmpty { return "no command for the array tasks" }
        if partition.isEmpty || partition.contains(where: { $0.isWhitespace }) { return "partition '\(partition)' is not a name" }
        return nil
    }

    /// The `--array` value: `0-9%4`, `3,5-7`.
    public var arraySpec: String {
        Self.ranges(indices) + (maxRunning.map { "%\($0)" } ?? "")
    }

    /// The batch script (POSIX sh).
    public var script: String {
        var lines = [
            "#!/bin/sh",
            "#SBATCH --job-name=\(name)",
            "#SBATCH --partition=\(partition)",
            "#SBATCH --array=\(arraySpec)",
            "#SBATCH --ntasks=1",
            "#SBATCH --output=\(outputDirectory)/%A_%a.out",
        ]
        lines += options.map { "#SBATCH \($0)" }
        lines.append("# One array task per probe index; the index is $SLURM_ARRAY_TASK_ID.")
        let words = command.map { word -> String in
            let parts = word.components(separatedBy: Self.indexToken)
            if parts.count == 1 { return slurmShellQuoted(word) }
            return parts.map { $0.isEmpty ? "" : slurmShellQuoted($0) }.joined(separator: "\"$SLURM_ARRAY_TASK_ID\"")
        }
        lines.append("exec " + words.joined(separator: " "))
        return lines.joined(separator: "\n") + "\n"
    }

    /// `[0, 1, 2, 5, 7, 8]` → `0-2,5,7-8` (sorted).
    static func ranges(_ indices: [Int]) -> String {
        var parts: [String] = []
        var sorted = indices.sorted()[...]
        while let first = sorted.popFirst() {
            var last = first
            while let next = sorted.first, next == last + 1 { last = next; sorted = sorted.dropFirst() }
            parts.append(first == last ? "\(first)" : "\(first)-\(last)")
        }
        return parts.joined(separator: ",")
    }

    /// `0-2,5` → [0, 1, 2, 5]; also `1-9:2` steps. nil when not of that shape.
    static func indices(parsing text: Substring) -> [Int]? {
        var result: [Int] = []
        for part in text.split(separator: ",") {
            let stepParts = part.split(separator: ":")
            guard stepParts.count <= 2 else { return nil }
            let step = stepParts.count == 2 ? Int(stepParts[1]) : 1
            let bounds = stepParts[0].split(separator: "-")
            guard let step, step > 0, bounds.count <= 2, let low = Int(bounds[0]) else { return nil }
            let high = bounds.count == 2 ? Int(bounds[1]) : low
            guard let high, high >= low, high - low <= 1_000_000 else { return nil }
            result += stride(from: low, through: high, by: step)
        }
        return result.isEmpty ? nil : result
    }
}

/// `word` as one POSIX shell word (single quotes unless it is plainly safe).
private func slurmShellQuoted(_ word: String) -> String {
    let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,@")
    if !word.isEmpty, word.unicodeScalars.allSatisfy(safe.contains) { return word }
    return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
