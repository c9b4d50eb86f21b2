import CSyspect
import Foundation
import SyspectCore

/// Launches commands under seccomp + ptrace. Every launch gets its own dedicated tracer thread
/// (ptrace belongs to the thread that attached), so several launches may run in parallel.
public enum Tracer {
    /// Starts `options.arguments` traced and returns once it has executed (or throws why it
    /// could not). The trace goes on in the background; `wait()` for its result.
    public static func launch(_ options: LaunchOptions) throws -> TracedProcess {
        var options = options
        if options.featureCensus { options.decodeNumbers.formUnion(FeatureCensus.numbers) }
        let plan = try LaunchPlan(options)
        let session = TraceSession(plan: plan)
        if options.featureCensus { session.features = FeatureCensus(countFailures: options.countFailures) }
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
    /// How the census counts (nil: no census).
    let censusMethod: CensusMethod?
    /// The loaded eBPF census when `censusMethod` is `.ebpf` (the session closes it).
    let kernelCensus: KernelCensus?
    /// Why `auto` fell back to ptrace.
    let censusNotice: String?
    /// Tests only (`LaunchOptions.shadowKernelCensus`): an eBPF census beside the run's.
    let shadowCensus: KernelCensus?

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
        cloneFlags = Self.cloneFlags(options.sandbox)
        (censusMethod, kernelCensus, censusNotice) = try Self.census(options)
        filter = Self.filter(options, replacements, censusMethod)
        shadowCensus = options.shadowKernelCensus && censusMethod != nil
            ? try? KernelCensus(countFailures: options.countFailures) : nil
    }

    /// Resolves `options.censusMethod`: loads the eBPF census when asked (or for `auto`, when
    /// it can), else the ptrace census.
    static func census(_ options: LaunchOptions) throws -> (CensusMethod?, KernelCensus?, String?) {
        guard options.census else { return (nil, nil, nil) }
        if options.censusMethod == .ptrace { return (.ptrace, nil, nil) }
        let capacity = options.kernelCensusCapacity ?? .testOverrides(ProcessInfo.processInfo.environment)
        do {
            return (.ebpf, try KernelCensus(countFailures: options.countFailures, capacity: capacity), nil)
        } catch {
            if options.censusMethod == .ebpf { throw TraceError.kernelCensusUnavailable(error.description) }
            return (.ptrace, nil, "eBPF census unavailable (\(error.description)): counting with ptrace, slower")
        }
    }

    /// ptrace census: trap everything (the tracer counts and applies the policy). eBPF census:
    /// trap what the tracer counts (exec, i386, x32, numbers beyond the programs' table) or
    /// interposes (a call the kernel skips is never counted by eBPF). No census: trap only what
    /// the policy needs, and let the kernel apply what it can. `decodeNumbers` are trapped in
    /// every case.
    static func filter(_ options: LaunchOptions, _ replacements: [Int: Int64], _ census: CensusMethod?) -> SeccompFilter {
        let trace = FilterAction.trace(data: 0)
        if census == .ptrace { return SeccompFilter(x86_64Default: trace, i386Default: trace, x32Default: trace) }
        var rules = replacements.keys.sorted().map { n -> FilterRule in
            let value = replacements[n]!
            let inKernel = census == nil && options.interposition.inKernel && !execNumbers.contains(n)
                && value <= 0 && value >= -4095
            return FilterRule(number: n, action: inKernel ? .errno(UInt16(-value)) : trace)
        }
        rules = ArgumentInterposer.filterRules(options.interposition, kernelMayApply: census == nil) + rules
        let traced = (census == .ebpf ? execNumbers : []).union(options.decodeNumbers)
        rules += traced.subtracting(replacements.keys).sorted().map { FilterRule(number: $0, action: trace) }
        let other: FilterAction = census == .ebpf ? trace : .allow
        var filter = SeccompFilter(rules: rules, i386Default: other, x32Default: other)
        if census == .ebpf { (filter.highNumberStart, filter.highNumberAction) = (KernelCensus.maxNumber, trace) }
        return filter
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
