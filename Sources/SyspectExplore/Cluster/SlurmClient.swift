import Foundation

/// Why a Slurm command did not give what syspect needs, each with the fix in its message.
public enum SlurmError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `program` (sbatch, squeue, …) is not on PATH.
    case notInstalled(program: String)
    /// `sinfo -h -p P` lists nothing; `available` are the partitions it does list.
    case noSuchPartition(String, available: [String])
    /// The command ran and failed (exit status, its stderr's last line).
    case commandFailed(command: String, status: Int32, message: String)
    /// The command did not finish within its bound (a controller that does not answer).
    case commandTimedOut(command: String, seconds: Double)
    /// Its output does not have the expected shape.
    case unexpectedOutput(SlurmParseError)
    /// The array's script is not valid (SlurmArray.problem).
    case badArray(String)
    /// Tasks still not finished after `seconds`.
    case waitTimedOut(job: Int, unfinished: [SlurmTaskID], seconds: Double)

    public var description: String {
        switch self {
        case .notInstalled(let program):
            return "no '\(program)' on PATH: install Slurm's client commands (Debian: apt-get install slurm-client) or use --executor local"
        case .noSuchPartition(let name, let available):
            return "Slurm has no partition '\(name)'" + (available.isEmpty ? " (sinfo lists none: is slurmctld running?)" : "; pass one of: \(available.joined(separator: ", "))")
        case .commandFailed(let command, let status, let message):
            return "\(command) failed (exit \(status))" + (message.isEmpty ? "" : ": \(message)")
        case .commandTimedOut(let command, let seconds):
            return "\(command) did not answer within \(Int(seconds)) s: is slurmctld running and reachable (scontrol ping)?"
        case .unexpectedOutput(let error):
            return "unexpected Slurm output: \(error)"
        case .badArray(let problem):
            return "cannot submit the job array: \(problem)"
        case .waitTimedOut(let job, let unfinished, let seconds):
            return "job \(job): \(unfinished.count) task(s) not finished after \(Int(seconds)) s (\(unfinished.prefix(5).map(\.description).joined(separator: ", "))): see squeue -j \(job)"
        }
    }
}

/// Runs Slurm's client commands (sbatch, squeue, sacct, scancel, sinfo) found on PATH. Every
/// command has a time bound; nothing is retried here (the coordinator decides).
public struct SlurmClient: Sendable {
    /// Seconds one command may take.
    public var commandTimeout: Double
    /// PATH to look the programs up in (default: this process's PATH).
    public var searchPath: String
    /// Variables added to the commands' environment (sbatch passes its environment on to the
    /// job: the executor gives the tasks `SYSPECT_DB` this way, never in a script or a command line).
    public var environment: [String: String] = [:]

    public init(commandTimeout: Double = 30, searchPath: String? = nil) {
        self.commandTimeout = commandTimeout
        self.searchPath = searchPath ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    }

    /// The full path of `program` on `searchPath`.
    public func locate(_ program: String) throws(SlurmError) -> String {
        for folder in searchPath.split(separator: ":") {
            let path = "\(folder)/\(program)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw .notInstalled(program: program)
    }

    /// Checks that the partition exists (`sinfo -h -p P` lists it).
    public func checkPartition(_ partition: String) throws(SlurmError) {
        let listed = try run("sinfo", ["-h", "-p", partition, "-o", "%P"])
        if listed.split(whereSeparator: \.isNewline).contains(where: { !$0.isEmpty }) { return }
        let all = try run("sinfo", ["-h", "-o", "%P"])
        let names = all.split(whereSeparator: \.isNewline).map { String($0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "*"))) }
        throw .noSuchPartition(partition, available: Array(Set(names.filter { !$0.isEmpty })).sorted())
    }

    /// Writes the array's script into `folder` (kept there for debugging) and submits it;
    /// returns the array's job id.
    public func submit(_ array: SlurmArray, scriptFolder folder: String) throws(SlurmError) -> Int {
        if let problem = array.problem { throw .badArray(problem) }
        let path = "\(folder)/\(array.name)-\(UUID().uuidString.prefix(8)).sbatch"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: array.outputDirectory, withIntermediateDirectories: true)
            try array.script.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw .badArray("cannot write the script \(path) or the output folder \(array.outputDirectory): \(error.localizedDescription)")
        }
        let out = try run("sbatch", ["--parsable", path])
        do { return try SlurmOutput.submittedJob(out) } catch { throw .unexpectedOutput(error) }
    }

    /// What squeue knows of the job's tasks (finished ones for MinJobAge seconds after they end).
    public func queue(job: Int) throws(SlurmError) -> [SlurmTaskStatus] {
        let out = try run("squeue", ["-h", "-t", "all", "-j", String(job), "-o", SlurmOutput.queueFormat])
        do { return try SlurmOutput.queueLines(out) } catch { throw .unexpectedOutput(error) }
    }

    /// sacct's record of the job's tasks; nil when the cluster keeps no accounting (no slurmdbd:
    /// "Slurm accounting storage is disabled").
    public func accounting(job: Int) throws(SlurmError) -> [SlurmTaskStatus]? {
        let out: String
        do { out = try run("sacct", ["-n", "-P", "-X", "-j", String(job), "-o", "JobID,State,ExitCode"]) } catch {
            if case .commandFailed(_, _, let message) = error, message.contains("accounting storage is disabled") { return nil }
            throw error
        }
        do { return try SlurmOutput.accountingLines(out) } catch { throw .unexpectedOutput(error) }
    }

    /// How the job's finished tasks ended, with exit statuses: from sacct when the cluster keeps
    /// accounting, else from the jobcomp/filetxt log named by `scontrol show config` (what
    /// scripts/start-slurm configures); nil when neither exists.
    public func finishedTasks(job: Int) throws(SlurmError) -> [SlurmTaskStatus]? {
        if let accounted = try accounting(job: job) { return accounted }
        let config = try run("scontrol", ["show", "config"])
        var settings: [String: String] = [:]
        for line in config.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { settings[parts[0]] = parts[1] }
        }
        guard settings["JobCompType"] == "jobcomp/filetxt", let log = settings["JobCompLoc"],
              let text = try? String(contentsOfFile: log, encoding: .utf8) else { return nil }
        let lines: [SlurmTaskStatus]
        do { lines = try SlurmOutput.completionLines(text).filter { $0.task.job == job } } catch { throw .unexpectedOutput(error) }
        // A requeued task has several lines: the last one is how it ended.
        var last: [SlurmTaskID: Int] = [:]
        for (position, status) in lines.enumerated() { last[status.task] = position }
        return lines.enumerated().filter { last[$0.element.task] == $0.offset }.map(\.element)
    }

    /// Cancels one task (`scancel 123_4`) or a whole job.
    public func cancel(_ task: SlurmTaskID) throws(SlurmError) {
        _ = try run("scancel", [task.description])
    }

    /// Polls squeue every `interval` seconds until every task of `job` is in a final state (at
    /// most `timeout` seconds); returns the last status of each, by task.
    public func waitForCompletion(job: Int, interval: Double = 0.5, timeout: Double) throws(SlurmError) -> [SlurmTaskID: SlurmTaskStatus] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            var latest: [SlurmTaskID: SlurmTaskStatus] = [:]
            for status in try queue(job: job) { latest[status.task] = status }
            let unfinished = latest.values.filter { !$0.state.isFinal }.map(\.task).sorted()
            if !latest.isEmpty && unfinished.isEmpty { return latest }
            if Date() >= deadline { throw .waitTimedOut(job: job, unfinished: unfinished, seconds: timeout) }
            Thread.sleep(forTimeInterval: interval)
        }
    }

    /// Runs `program` (looked up on PATH) with stdin from /dev/null; returns its stdout. A
    /// nonzero exit is `.commandFailed` with stderr's last line.
    @discardableResult
    public func run(_ program: String, _ arguments: [String]) throws(SlurmError) -> String {
        let path = try locate(program)
        let command = ([program] + arguments).joined(separator: " ")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("syspect-slurm-\(UUID().uuidString.prefix(8))")
        let outURL = folder.appendingPathComponent("out"), errURL = folder.appendingPathComponent("err")
        defer { try? FileManager.default.removeItem(at: folder) }
        let process = Process()
        let finished = DispatchSemaphore(value: 0)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: outURL.path, contents: nil)
            FileManager.default.createFile(atPath: errURL.path, contents: nil)
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
            if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = try FileHandle(forWritingTo: outURL)
            process.standardError = try FileHandle(forWritingTo: errURL)
            process.terminationHandler = { _ in finished.signal() }
            try process.run()
        } catch {
            throw .commandFailed(command: command, status: -1, message: "cannot start: \(error.localizedDescription)")
        }
        if finished.wait(timeout: .now() + commandTimeout) == .timedOut {
            process.terminate()
            _ = finished.wait(timeout: .now() + 5)
            throw .commandTimedOut(command: command, seconds: commandTimeout)
        }
        let out = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            let last = err.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
            throw .commandFailed(command: command, status: process.terminationStatus, message: last)
        }
        return out
    }
}
