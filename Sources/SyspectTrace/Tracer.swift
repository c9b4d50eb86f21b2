import CSyspect
import Foundation
import SyspectCore

/// Launches commands under seccomp + ptrace. Every launch gets its own dedicated tracer thread
/// (ptrace belongs to the thread that attached), so several launches may run in parallel.
public enum Tracer {
    /// Starts `options.arguments` traced and returns once it has executed (or throws why it
    /// could not). The trace goes on in the background; `wait()` for its result.
    public static func launch(_ options: LaunchOptions) throws -> TracedProcess {
        let plan = try LaunchPlan(options)
        let session = TraceSession(plan: plan)
        let handshake = LaunchHandshake()
        let thread = Thread { session.run(handshake: handshake) }
        thread.name = "syspect-tracer"
        thread.start()
        let pid = try handshake.wait()
        let process = TracedProcess(pid: pid, session: session)
        if let timeout = options.timeout { session.armTimeout(timeout) }
        return process
    }

    /// `launch` then `wait`.
    public static func run(_ options: LaunchOptions) throws -> TraceResult {
        try launch(options).wait()
    }
}

/// A traced command tree, running or finished.
public final class TracedProcess: @unchecked Sendable {
    /// Global pid of the launched command (in a sandbox: the pid namespace's init, so
    /// `nsenter -t pid` enters the sandbox).
    public let pid: Int32
    let session: TraceSession

    init(pid: Int32, session: TraceSession) {
        self.pid = pid
        self.session = session
    }

    /// Some process of the tree is still alive.
    public var isRunning: Bool { session.finalResult == nil }

    /// Blocks until the whole tree is gone; returns the result.
    public func wait() -> TraceResult { session.waitForResult() }

    /// SIGKILLs the whole tree (the pid namespace's init, and every known process), then the
    /// tracer drains until no tracee is left. Returns at once; `wait()` for the result.
    public func kill() { session.requestKill(timedOut: false) }

    /// Called once, on the tracer thread, when the whole tree is gone (immediately when set
    /// after that).
    public var onExit: (@Sendable (TraceResult) -> Void)? {
        get { session.onExit }
        set { session.setOnExit(newValue) }
    }

    /// Called once, on the tracer thread, when the launched command itself ends (exit code,
    /// terminating signal): a probe learns early that its server died.
    public var onCommandExit: (@Sendable (Int32?, Int32?) -> Void)? {
        get { session.onCommandExit }
        set { session.setOnCommandExit(newValue) }
    }
}

/// Lets `launch` wait for the tracer thread to report the first exec (or why it failed).
final class LaunchHandshake: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private var outcome: Result<Int32, TraceError>?

    func finish(_ result: Result<Int32, TraceError>) {
        guard outcome == nil else { return }
        outcome = result
        semaphore.signal()
    }

    func wait() throws -> Int32 {
        semaphore.wait()
        return try outcome!.get()
    }
}

/// Everything derived from `LaunchOptions` before the fork: resolved program, filter, policy.
struct LaunchPlan: @unchecked Sendable {
    let options: LaunchOptions
    let program: String
    let environment: [String]
    let filter: SeccompFilter
    let matcher: TargetMatcher
    /// x86-64 number → value the tracer makes it return (stub: -ENOSYS), for trapped calls.
    let replacements: [Int: Int64]
    let cloneFlags: Int32

    static let execNumbers: Set<Int> = [59, 322]  // execve, execveat

    init(_ options: LaunchOptions) throws {
        guard let argv0 = options.arguments.first else { throw TraceError.emptyCommand }
        let env = options.environment ?? ProcessInfo.processInfo.environment
        self.options = options
        program = try ProgramPaths.resolve(argv0, path: env["PATH"])
        environment = env.map { "\($0.key)=\($0.value)" }.sorted()
        matcher = TargetMatcher(options.targets, path: env["PATH"])
        var replacements: [Int: Int64] = [:]
        for n in options.interposition.fake.keys { replacements[n] = options.interposition.fake[n] }
        for n in options.interposition.stub { replacements[n] = -Int64(ENOSYSValue) }
        self.replacements = replacements
        filter = Self.filter(options, replacements)
        cloneFlags = Self.cloneFlags(options.sandbox)
    }

    /// Census: trap everything (the tracer counts and applies the policy). Otherwise trap only
    /// what the policy needs, and let the kernel apply what it can.
    static func filter(_ options: LaunchOptions, _ replacements: [Int: Int64]) -> SeccompFilter {
        let trace = FilterAction.trace(data: 0)
        if options.census { return SeccompFilter(x86_64Default: trace, i386Default: trace, x32Default: trace) }
        let rules = replacements.keys.sorted().map { n -> FilterRule in
            let value = replacements[n]!
            let inKernel = options.interposition.inKernel && !execNumbers.contains(n) && value <= 0 && value >= -4095
            return FilterRule(number: n, action: inKernel ? .errno(UInt16(-value)) : trace)
        }
        return SeccompFilter(rules: rules)
    }

    static func cloneFlags(_ sandbox: Sandbox?) -> Int32 {
        guard let sandbox else { return 0 }
        var flags: Int32 = 0
        if sandbox.network { flags |= 0x4000_0000 }  // CLONE_NEWNET
        if sandbox.mount { flags |= 0x0002_0000 }  // CLONE_NEWNS
        if sandbox.pid { flags |= 0x2000_0000 }  // CLONE_NEWPID
        if sandbox.ipc { flags |= 0x0800_0000 }  // CLONE_NEWIPC
        if sandbox.uts { flags |= 0x0400_0000 }  // CLONE_NEWUTS
        if flags != 0 && geteuid() != 0 { flags |= 0x1000_0000 }  // CLONE_NEWUSER, caller mapped to root
        return flags
    }

    var usesPidNamespace: Bool { cloneFlags & 0x2000_0000 != 0 }
}
