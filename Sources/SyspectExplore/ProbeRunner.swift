import Foundation
import SyspectCore
import SyspectTrace
#if canImport(Glibc)
import Glibc
#endif

/// What one probe produced.
public struct ProbeRun: Sendable {
    public var outcome: ProbeOutcome
    /// Why it passed or failed, e.g. "test script exited 1", "application died (SIGSEGV) before
    /// the script ended".
    public var reason: String
    /// The test script's exit status (or the command's, when it is the workload).
    public var exitStatus: Int32?
    public var durationSeconds: Double
    public var metric: Double?
    public var startedAt: Date
    /// Census of the target binaries (baseline probes only).
    public var census: [CensusEntry]
    /// Targets that never ran (baseline probes only; a spec mistake).
    public var targetsNeverRun: [String]
    /// Sub-feature and pseudo-file census of the target binaries (baseline probes only).
    public var features: [FeatureUse] = []
    public var pseudoFiles: [PseudoFileUse] = []
    /// The probe's own folder (working directory and logs).
    public var directory: String
    /// The end of the workload's output (script stdout+stderr, or the command's), for messages.
    public var outputTail: String
    /// Seconds from launch until the ready port accepted a connection (servers with `ready.port`).
    public var readySeconds: Double?
    /// Resource use of the application tree while the workload ran (`ResourceSampler`).
    public var resources: ResourceUsage?
    /// A suite's test cases (`AppSpec.suite`), and the must-pass ones that did not pass.
    public var suiteResults: SuiteResults?
    public var brokenCases: [String] = []
    /// A suite's waits between two finished test cases (`SuiteWatcher`): the baseline's set the
    /// adaptive stall limits.
    public var suiteProgress: SuiteProgress?
    /// A full eBPF census map in this probe's census (baseline probes only; nil: none was full).
    public var censusOverflow: CensusOverflow?

    public init(
        outcome: ProbeOutcome, reason: String, exitStatus: Int32? = nil, durationSeconds: Double = 0,
        metric: Double? = nil, startedAt: Date = Date(), census: [CensusEntry] = [],
        targetsNeverRun: [String] = [], directory: String = "", outputTail: String = ""
    ) {
        self.outcome = outcome
        self.reason = reason
        self.exitStatus = exitStatus
        self.durationSeconds = durationSeconds
        self.metric = metric
        self.startedAt = startedAt
        self.census = census
        self.targetsNeverRun = targetsNeverRun
        self.directory = directory
        self.outputTail = outputTail
    }
}

/// Runs one probe. The real implementation is `ProbeRunner`; the scheduler only needs this.
public protocol ProbeRunning: Sendable {
    /// Runs `request` (with a census when `census`); never throws: a launch problem is an
    /// `.error` outcome with its reason.
    func run(_ request: ProbeRequest, census: Bool) -> ProbeRun
    /// The same, stopping early (an `.error` run that the scheduler drops) once `cancellation`
    /// is cancelled; runners that cannot stop a probe run it to its end.
    func run(_ request: ProbeRequest, census: Bool, cancellation: ProbeCancellation) -> ProbeRun
    /// The same runner with shorter timeouts (the adaptive strategy shortens the spec's
    /// `timeouts` once the baseline showed how long a passing run takes). `ProbeRunner` also
    /// drops the stop grace: the outcome is decided when the script ends, and only census
    /// probes (the baseline, which runs before) need the shutdown calls.
    func withTimeouts(ready: Double, run: Double) -> any ProbeRunning
    /// The same runner faking these calls with these values instead of 0 (plausible fakes that
    /// passed, for the final run and culprit search).
    func withFakeValues(_ values: [Int: FakeValueRule]) -> any ProbeRunning
    /// The same runner judging a suite test case by test case (`SuiteCriterion`, docs/suites.md).
    func withSuiteCriterion(_ criterion: SuiteCriterion) -> any ProbeRunning
}

extension ProbeRunning {
    public func run(_ request: ProbeRequest, census: Bool, cancellation: ProbeCancellation) -> ProbeRun {
        run(request, census: census)
    }
    public func withTimeouts(ready: Double, run: Double) -> any ProbeRunning { self }
    public func withFakeValues(_ values: [Int: FakeValueRule]) -> any ProbeRunning { self }
}

/// Runs probes for real: each in a fresh sandbox (network, mount with a private /tmp, PID, IPC
/// and UTS namespaces), the application launched under the tracer with the probe's policy, the
/// test script run inside the same namespaces, the whole tree killed at the end.
public struct ProbeRunner: ProbeRunning {
    public var spec: AppSpec
    /// Folder holding one sub-folder per probe (must not be under /tmp: the sandbox replaces it).
    public var workDirectory: String
    /// Bytes kept of each log (application stdout/stderr, script stdout/stderr).
    public var logCap: Int
    /// Seconds a server gets to stop after SIGTERM (when it catches SIGTERM) before SIGKILL.
    public var stopGrace: Double
    /// How often the running probe is checked (application alive, script done, logs).
    public var pollInterval: Double = 0.02
    /// Baseline probes also count sub-features and pseudo-files (`FeatureProbePlan`).
    public var featureCensus = true
    /// Calls whose fake uses a table value instead of 0 (`withFakeValues`).
    public var fakeValues: [Int: FakeValueRule] = [:]
    /// A suite's must-pass test cases, once the baseline found them (`withSuiteCriterion`).
    public var suiteCriterion: SuiteCriterion?

    public init(spec: AppSpec, workDirectory: String, logCap: Int = 64 * 1024, stopGrace: Double = 2) {
        self.spec = spec
        self.workDirectory = workDirectory
        self.logCap = logCap
        self.stopGrace = stopGrace
    }

    /// The folder of one probe: `<workDirectory>/<policy>-r<replica>` (long policies hashed).
    public func directory(for request: ProbeRequest) -> String {
        var name = request.policy.key.replacingOccurrences(of: ":", with: "_").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: ";", with: "_").replacingOccurrences(of: "=", with: "-")
        if name.count > 80 { name = "set-" + stableHash(request.policy.key) }
        return "\(workDirectory)/\(name)-r\(request.replica)"
    }

    public func withFakeValues(_ values: [Int: FakeValueRule]) -> any ProbeRunning {
        var copy = self
        copy.fakeValues = values
        return copy
    }

    public func withTimeouts(ready: Double, run: Double) -> any ProbeRunning {
        var copy = self
        copy.spec.readyTimeout = ready
        copy.spec.runTimeout = run
        copy.stopGrace = 0
        return copy
    }

    public func run(_ request: ProbeRequest, census: Bool) -> ProbeRun {
        run(request, census: census, cancellation: ProbeCancellation())
    }

    public func run(_ request: ProbeRequest, census: Bool, cancellation: ProbeCancellation) -> ProbeRun {
        let started = Date()
        let dir = directory(for: request)
        var run = ProbeRun(outcome: .error, reason: "", startedAt: started, directory: dir)
        defer {
            trimLogs(dir)
            if run.outcome == .pass { removeData(dir) }
        }
        do {
            try? FileManager.default.removeItem(atPath: dir)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            run.reason = "cannot create the probe folder \(dir): \(error.localizedDescription)"
            return run
        }
        let process: TracedProcess
        do {
            process = try Tracer.launch(launchOptions(request.policy, census: census, directory: dir))
        } catch {
            run.reason = "cannot launch \(spec.command[0]): \(error)"
            run.durationSeconds = Date().timeIntervalSince(started)
            return run
        }
        let sampler = ResourceSampler(root: process.pid)
        sampler.start()
        if let script = spec.script {
            runWithScript(script, process: process, directory: dir, into: &run, sampler: sampler, cancellation: cancellation)
        } else {
            runCommandAsWorkload(process: process, directory: dir, into: &run, cancellation: cancellation)
        }
        if cancellation.isCancelled {
            // Nothing of a cancelled probe is kept: not journaled, and its folder goes.
            (run.outcome, run.reason) = (.error, "cancelled: its outcome was no longer needed")
            try? FileManager.default.removeItem(atPath: dir)
        }
        run.resources = sampler.stop()  // (already stopped when the test script ended)
        run.durationSeconds = Date().timeIntervalSince(started)
        return run
    }

    // MARK: - Launch

    /// syspect's environment, the spec's `environment` (placeholders expanded) and
    /// `SYSPECT_PROBE_DIR` / `SYSPECT_SPEC_DIR`: what the application and the script see.
    func environment(directory: String) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment.merge(spec.environment.mapValues { expand($0, directory: directory) }) { $1 }
        environment["SYSPECT_PROBE_DIR"] = directory
        environment["SYSPECT_SPEC_DIR"] = spec.directory
        return environment
    }

    /// Replaces the literal placeholders `${SYSPECT_PROBE_DIR}` and `${SYSPECT_SPEC_DIR}` (no
    /// other shell syntax) in a command word or environment value.
    func expand(_ text: String, directory: String) -> String {
        text.replacingOccurrences(of: "${SYSPECT_PROBE_DIR}", with: directory)
            .replacingOccurrences(of: "${SYSPECT_SPEC_DIR}", with: spec.directory)
    }

    func launchOptions(_ policy: ProbePolicy, census: Bool, directory: String) -> LaunchOptions {
        let environment = environment(directory: directory)
        let interposition = policy.interposition(inKernel: spec.targetIsCommand, fakeValues: fakeValues)
        let budget = (spec.script == nil ? 0 : spec.readyTimeout + stopGrace + 5) + spec.runTimeout
        var options = LaunchOptions(
            arguments: spec.command.map { expand($0, directory: directory) }, environment: environment, workingDirectory: directory,
            stdoutPath: "\(directory)/app.stdout", stderrPath: "\(directory)/app.stderr",
            targets: spec.targets, census: census, interposition: interposition,
            sandbox: Sandbox(), timeout: budget)
        options.featureCensus = census && featureCensus
        return options
    }

    // MARK: - The command is the workload

    func runCommandAsWorkload(process: TracedProcess, directory: String, into run: inout ProbeRun,
                              cancellation: ProbeCancellation) {
        let deadline = Date().addingTimeInterval(spec.runTimeout)
        let suite = suiteWatcher(directory: directory)  // test case by test case (Suite/)
        while process.isRunning && Date() < deadline && !cancellation.isCancelled {
            LogCap.enforceWhileRunning("\(directory)/app.stdout", cap: logCap)
            LogCap.enforceWhileRunning("\(directory)/app.stderr", cap: logCap)
            if suite?.mustStop() == true { break }  // a must-pass test case failed
            Thread.sleep(forTimeInterval: 0.05)
        }
        let timedOut = process.isRunning && suite?.stoppedEarly != true && !cancellation.isCancelled
        if process.isRunning { process.kill() }
        let result = process.wait()
        fill(&run, from: result)
        let output = LogCap.tail("\(directory)/app.stdout")
        run.outputTail = output + LogCap.tail("\(directory)/app.stderr")
        run.exitStatus = result.exitCode ?? result.termSignal.map { 128 + $0 }
        if timedOut || result.timedOut {
            run.outcome = .fail
            run.reason = "the command did not finish within \(format(spec.runTimeout)) s"
        } else if result.exitCode == 0 {
            run.outcome = .pass
            run.reason = "the command exited 0"
            run.metric = parseMetric(output)
        } else {
            run.outcome = .fail
            run.reason = "the command \(ending(result))"
        }
        suite?.judge(&run, timedOut: timedOut || result.timedOut)
        run.suiteProgress = suite?.progress
    }

    // MARK: - A server and its test script

    func runWithScript(_ script: String, process: TracedProcess, directory: String, into run: inout ProbeRun,
                       sampler: ResourceSampler? = nil, cancellation: ProbeCancellation) {
        let launched = Date()
        if let failure = waitUntilReady(process, directory: directory) {
            stop(process)
            let result = process.wait()
            fill(&run, from: result)
            run.outcome = .fail
            run.reason = failure
            run.outputTail = LogCap.tail("\(directory)/app.stderr") + LogCap.tail("\(directory)/app.stdout")
            return
        }
        let stdout: OutputCapture, stderr: OutputCapture, child: SpawnedProcess
        do {
            stdout = try OutputCapture(path: "\(directory)/script.stdout", cap: logCap)
            stderr = try OutputCapture(path: "\(directory)/script.stderr", cap: logCap)
            child = try SpawnedProcess(
                path: "/usr/bin/nsenter",
                arguments: Namespaces.nsenterArguments(pid: process.pid, workingDirectory: directory) + [script],
                environment: environment(directory: directory), stdout: stdout.writeEnd, stderr: stderr.writeEnd)
        } catch {
            stop(process)
            fill(&run, from: process.wait())
            run.outcome = .error
            run.reason = "cannot start the test script \(script): \(error.localizedDescription)"
            return
        }
        stdout.start()
        stderr.start()
        if case .port = spec.ready { run.readySeconds = Date().timeIntervalSince(launched) }

        let verdict = watchScript(child, process: process, directory: directory, cancellation: cancellation)
        _ = sampler?.stop()  // resources while the workload ran, not while the application stops
        stop(process)  // ends the PID namespace: the script's whole tree dies with it
        let result = process.wait()
        let status = child.exitStatus
        stdout.finish(timeout: 2)
        stderr.finish(timeout: 2)
        fill(&run, from: result)
        run.outputTail = stdout.tail + stderr.tail
        switch verdict {
        case .scriptEnded:
            run.exitStatus = status
            if status == 0 {
                run.outcome = .pass
                run.reason = "the test script exited 0"
                run.metric = parseMetric(stdout.tail)
            } else {
                run.outcome = .fail
                run.reason = "the test script exited \(status)"
            }
        case .applicationDied:
            run.outcome = .fail
            run.reason = "the application \(ending(result)) before the test script ended"
            run.outputTail = LogCap.tail("\(directory)/app.stderr") + run.outputTail
        case .portClosed(let port):
            run.outcome = .fail
            run.reason = "port \(port) stopped accepting connections while the test script ran"
        case .timedOut:
            run.outcome = .fail
            run.reason = "the test script did not finish within \(format(spec.runTimeout)) s"
        case .cancelled:
            break  // (`run` marks it)
        }
    }

    enum ScriptEnd { case scriptEnded, applicationDied, portClosed(Int), timedOut, cancelled }

    /// Waits for readiness; returns a failure reason, or nil when ready.
    func waitUntilReady(_ process: TracedProcess, directory: String) -> String? {
        let deadline = Date().addingTimeInterval(spec.readyTimeout)
        switch spec.ready {
        case .port(let port):
            while Date() < deadline {
                guard process.isRunning else { return "the application exited before port \(port) opened" }
                if Namespaces.portAccepts(pid: process.pid, port: port) { return nil }
                Thread.sleep(forTimeInterval: pollInterval)
            }
            return "port \(port) never opened within \(format(spec.readyTimeout)) s (timeouts.ready)"
        case .delay(let seconds):
            let until = Date().addingTimeInterval(seconds)
            while Date() < until {
                guard process.isRunning else { return "the application exited during the ready delay" }
                Thread.sleep(forTimeInterval: min(pollInterval, seconds))
            }
            return process.isRunning ? nil : "the application exited during the ready delay"
        case nil:
            return process.isRunning ? nil : "the application exited at once"
        }
    }

    /// Watches the running script: ends as soon as the script ends, the application dies, the
    /// port stops accepting (twice in a row), the run timeout expires or the probe is cancelled.
    func watchScript(_ child: SpawnedProcess, process: TracedProcess, directory: String,
                     cancellation: ProbeCancellation) -> ScriptEnd {
        let deadline = Date().addingTimeInterval(spec.runTimeout)
        var nextPortCheck = Date().addingTimeInterval(0.5)
        var nextLogCheck = Date().addingTimeInterval(1)
        var portMisses = 0
        while true {
            if !child.isRunning {
                // A server that died just before the script noticed still fails the probe. When
                // the server (the PID namespace's init) dies, the kernel SIGKILLs the script too,
                // often before the tracer has reaped the whole tree: a script killed by a signal
                // waits up to 1 s for the server's death to be seen.
                if child.exitStatus > 128 {
                    let until = Date().addingTimeInterval(1)
                    while process.isRunning && Date() < until { Thread.sleep(forTimeInterval: 0.01) }
                }
                return process.isRunning ? .scriptEnded : .applicationDied
            }
            if !process.isRunning { return .applicationDied }
            if cancellation.isCancelled { return .cancelled }
            let now = Date()
            if now >= deadline { return .timedOut }
            if case .port(let port) = spec.ready, now >= nextPortCheck {
                nextPortCheck = now.addingTimeInterval(0.5)
                portMisses = Namespaces.portAccepts(pid: process.pid, port: port) ? 0 : portMisses + 1
                if portMisses >= 2 && child.isRunning && process.isRunning { return .portClosed(port) }
            }
            if now >= nextLogCheck {
                nextLogCheck = now.addingTimeInterval(1)
                LogCap.enforceWhileRunning("\(directory)/app.stdout", cap: logCap)
                LogCap.enforceWhileRunning("\(directory)/app.stderr", cap: logCap)
            }
            Thread.sleep(forTimeInterval: pollInterval)
        }
    }

    /// Stops the application: SIGTERM first when it catches SIGTERM (so shutdown calls run and
    /// are counted), SIGKILL of the whole tree after `stopGrace` or at once otherwise.
    func stop(_ process: TracedProcess) {
        guard process.isRunning else { return }
        if catchesSIGTERM(process.pid) {
            kill(process.pid, SIGTERM)
            let until = Date().addingTimeInterval(stopGrace)
            while process.isRunning && Date() < until { Thread.sleep(forTimeInterval: 0.01) }
        }
        if process.isRunning { process.kill() }
    }

    /// Whether `pid` has a SIGTERM handler (the init of a PID namespace ignores signals it does
    /// not catch, so SIGTERM would only waste the grace period).
    func catchesSIGTERM(_ pid: Int32) -> Bool { ProcStatus.catches(SIGTERM, pid: pid) }

    func fill(_ run: inout ProbeRun, from result: TraceResult) {
        run.census = result.census
        run.targetsNeverRun = result.targetsNeverRun
        (run.features, run.pseudoFiles) = (result.features, result.pseudoFiles)
        run.censusOverflow = result.censusOverflow
    }

    /// After a passing probe only its logs are kept: the application's own files (a database,
    /// a document root…) would otherwise pile up over hundreds of probes. Failing probes keep
    /// everything for inspection.
    func removeData(_ dir: String) {
        let logs: Set<String> = ["app.stdout", "app.stderr", "script.stdout", "script.stderr"]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where !logs.contains(name) {
            try? FileManager.default.removeItem(atPath: "\(dir)/\(name)")
        }
    }

    func trimLogs(_ dir: String) {
        for name in ["app.stdout", "app.stderr"] { LogCap.trim("\(dir)/\(name)", cap: logCap) }
    }

    func ending(_ result: TraceResult) -> String {
        if let signal = result.termSignal { return "was killed by \(signalName(signal))" }
        if let code = result.exitCode { return "exited \(code)" }
        return "ended"
    }
}

func signalName(_ signal: Int32) -> String {
    let names: [Int32: String] = [
        SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGKILL: "SIGKILL", SIGTERM: "SIGTERM",
        SIGBUS: "SIGBUS", SIGILL: "SIGILL", SIGFPE: "SIGFPE", SIGPIPE: "SIGPIPE", SIGSYS: "SIGSYS",
        SIGINT: "SIGINT", SIGHUP: "SIGHUP",
    ]
    return names[signal] ?? "signal \(signal)"
}

func format(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds)
}
