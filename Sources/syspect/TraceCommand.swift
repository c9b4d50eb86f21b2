import ArgumentParser
import Dispatch
import Foundation
import SyspectTrace

/// `syspect trace`: run a command under seccomp + ptrace and print the census of the system
/// calls its target binaries made.
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Run a command and count the system calls of its target binaries.",
        discussion: """
            Follows every thread, fork, vfork, clone and exec of COMMAND. Without --target every \
            process counts. The report goes to standard error (like strace -c), or to --output \
            (`-` for standard output).

            Exit status: the command's own; 128+N when signal N ended it; 124 after --timeout; \
            130 when interrupted (SIGINT), 143 (SIGTERM); 127 command not found; 126 command not \
            executable; 125 syspect could not trace (ptrace, seccomp or namespaces not permitted, \
            output not writable); 64 usage error.
            """)

    @Option(name: .customLong("target"), help: ArgumentHelp(
        "A binary whose calls count: real path or basename (repeatable; default: every process).",
        valueName: "BINARY"))
    var targets: [String] = []

    @Flag(help: "Print the report as JSON (schema: docs/trace-json.md).")
    var json = false

    @Option(help: ArgumentHelp("Write the report to FILE (`-`: standard output).", valueName: "FILE"))
    var output: String?

    @Option(help: ArgumentHelp("Kill the whole tree after SECONDS.", valueName: "SECONDS"))
    var timeout: Double?

    @Flag(help: "Count calls only, not failures (ptrace: one stop per call instead of two; ebpf: no sys_exit program).")
    var noFailures = false

    @Option(help: ArgumentHelp(
        "How to count: ebpf (in the kernel: only exec, i386 and x32 calls stop at the tracer), ptrace (every call stops), or auto (ebpf when the kernel and privileges allow it, else ptrace with a notice).",
        valueName: "METHOD"))
    var censusMethod: CensusMethodChoice = .auto

    @Flag(help: "Also count sub-features (ioctl requests, fcntl commands, flag bits, ...) and pseudo-files (/proc, /sys, /dev paths) of the targets (docs/features.md).")
    var features = false

    @Flag(help: "Run the command in fresh network, mount (/tmp, /proc), pid, IPC and UTS namespaces.")
    var sandbox = false

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The command to trace, after `--`.", valueName: "COMMAND"))
    var command: [String] = []

    /// Exit statuses of syspect itself (the others are the traced command's).
    enum Status {
        static let usage: Int32 = 64
        static let cannotTrace: Int32 = 125
        static let notExecutable: Int32 = 126
        static let notFound: Int32 = 127
        static let timedOut: Int32 = 124
    }

    mutating func validate() throws {
        if command.first == "--" { command.removeFirst() }
        guard !command.isEmpty else { throw ValidationError("no command given: put the command to trace after `--`") }
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be a positive number of seconds, not \(timeout)") }
        if targets.contains(where: \.isEmpty) { throw ValidationError("--target needs a binary name or path") }
    }

    func run() throws {
        var options = LaunchOptions(
            arguments: command, targets: targets, countFailures: !noFailures,
            sandbox: sandbox ? Sandbox() : nil, timeout: timeout, censusMethod: censusMethod)
        options.featureCensus = features
        let signals = SignalForwarder()
        let traced: TracedProcess
        do {
            traced = try Tracer.launch(options)
        } catch let error as TraceError {
            throw fail(error.description, status: Self.status(for: error))
        }
        signals.onSignal { traced.kill() }
        let result = traced.wait()
        if let notice = result.censusNotice { warn("syspect: notice: \(notice)") }
        if let notice = result.censusOverflow?.notice { warn("syspect: notice: \(notice)") }
        if let loss = result.censusOverflow?.warning { warn("syspect: warning: \(loss)") }

        for missing in result.targetsNeverRun {
            warn("warning: target '\(missing)' never ran (no executed program matched it)")
        }
        do {
            try write(report(for: result))
        } catch {
            throw fail("cannot write the report to '\(output ?? "")': \(error.localizedDescription)", status: Status.cannotTrace)
        }
        if let signal = signals.received { throw ExitCode(128 + signal) }
        if result.timedOut {
            warn("syspect: --timeout \(timeout!) s expired: killed the whole tree")
            throw ExitCode(Status.timedOut)
        }
        if result.shellStatus != 0 { throw ExitCode(result.shellStatus) }
    }

    private func report(for result: TraceResult) throws -> Data {
        if json {
            var data = try TraceReport(command: command, targets: targets, result: result).jsonData()
            data.append(0x0A)
            return data
        }
        let featureTables = features ? "\n" + FeatureCensusTable.render(result) : ""
        return Data((CensusTable.render(result) + featureTables).utf8)
    }

    private func write(_ data: Data) throws {
        switch output {
        case nil: FileHandle.standardError.write(data)
        case "-": FileHandle.standardOutput.write(data)
        case let path?: try data.write(to: URL(fileURLWithPath: path))
        }
    }

    static func status(for error: TraceError) -> Int32 {
        switch error {
        case .programNotFound: return Status.notFound
        case .programNotExecutable: return Status.notExecutable
        case .emptyCommand: return Status.usage
        default: return Status.cannotTrace
        }
    }

    private func fail(_ message: String, status: Int32) -> ExitCode {
        warn("syspect: \(message)")
        return ExitCode(status)
    }

    private func warn(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}

extension CensusMethodChoice: ExpressibleByArgument {}

/// Turns SIGINT / SIGTERM into a callback (the tracer then kills the whole tree), remembering
/// which signal came.
final class SignalForwarder: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var signal: Int32?
    private var action: (@Sendable () -> Void)?

    init() {
        for sig in [SIGINT, SIGTERM] {
            Foundation.signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in self?.fire(sig) }
            source.resume()
            sources.append(source)
        }
    }

    func onSignal(_ action: @escaping @Sendable () -> Void) {
        lock.lock()
        self.action = action
        let pending = signal
        lock.unlock()
        if pending != nil { action() }
    }

    private func fire(_ sig: Int32) {
        lock.lock()
        if signal == nil { signal = sig }
        let action = self.action
        lock.unlock()
        action?()
    }

    var received: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return signal
    }
}
