import SyspectCore

/// What to do to the target processes' system calls during one run (a probe's policy).
///
/// Numbers are x86-64 system call numbers. i386 and x32 calls are never interposed: they are
/// counted under their own `Arch`.
public struct Interposition: Sendable, Hashable, Codable {
    /// Calls that return `-ENOSYS` without running.
    public var stub: Set<Int> = []
    /// Calls that return this value (usually 0) without running.
    public var fake: [Int: Int64] = [:]
    /// true: stub and fake-with-0 are applied by the kernel (`SECCOMP_RET_ERRNO`) to the whole
    /// process tree at ≈ native speed; fake values other than 0 and `execve`/`execveat` still go
    /// through the tracer. false: the filter traps them (`SECCOMP_RET_TRACE`) and the tracer
    /// applies them only in processes whose executable matches `LaunchOptions.targets`.
    ///
    /// Calls applied in the kernel are not counted in `TraceResult.interposed` unless the census
    /// is on (then every call is trapped anyway and the tracer applies the policy itself).
    public var inKernel: Bool = true
    /// Whole calls faked with an argument-dependent or non-zero value (`FakeValues`), applied by
    /// the tracer; a number here must not be in `stub` or `fake`.
    public var fakeRules: [Int: FakeValueRule] = [:]
    /// Sub-features stubbed or faked while the rest of their call runs (issue 5): in the kernel
    /// when the match is on register arguments and `inKernel`, through the tracer otherwise.
    public var features: [FeatureInterposition] = []
    /// Pseudo-file paths (normalised, see `PseudoFileUse`) whose calls fail with the mode's errno.
    public var files: [String: FileMode] = [:]

    public init(stub: Set<Int> = [], fake: [Int: Int64] = [:], inKernel: Bool = true) {
        self.stub = stub
        self.fake = fake
        self.inKernel = inKernel
    }

    /// No call is interposed.
    public var isEmpty: Bool { stub.isEmpty && fake.isEmpty && fakeRules.isEmpty && features.isEmpty && files.isEmpty }

    /// The value `number` returns instead of running, or nil when it runs normally.
    /// A call in both `stub` and `fake` is stubbed.
    public func replacement(for number: Int) -> Int64? {
        if stub.contains(number) { return -Int64(ENOSYSValue) }
        return fake[number]
    }
}

/// ENOSYS on Linux (all architectures syspect handles).
let ENOSYSValue: Int32 = 38

/// A fresh world for one run: each part is a new Linux namespace of the launched command.
public struct Sandbox: Sendable, Hashable, Codable {
    /// New network namespace with only the loopback interface, brought up.
    public var network = true
    /// New mount namespace: mounts made private, a tmpfs on /tmp, a fresh /proc when `pid`.
    /// The working directory and output files are opened before /tmp is replaced.
    public var mount = true
    /// New PID namespace: the launched command is its pid 1; when it ends, the kernel kills
    /// every other process in the namespace (double-forked daemons included).
    public var pid = true
    /// New System V IPC namespace.
    public var ipc = true
    /// New hostname namespace.
    public var uts = true

    public init(network: Bool = true, mount: Bool = true, pid: Bool = true, ipc: Bool = true, uts: Bool = true) {
        self.network = network
        self.mount = mount
        self.pid = pid
        self.ipc = ipc
        self.uts = uts
    }
}

/// How to launch and trace one command.
public struct LaunchOptions: Sendable {
    /// argv; argv[0] is resolved through PATH (of `environment` when given).
    public var arguments: [String]
    /// nil: inherit syspect's environment.
    public var environment: [String: String]? = nil
    /// nil: inherit.
    public var workingDirectory: String? = nil
    /// nil: inherit; otherwise the file is created or truncated.
    public var stdoutPath: String? = nil
    public var stderrPath: String? = nil
    /// Target executables: a real path or a basename. Empty: every process is a target.
    public var targets: [String] = []
    /// Count every call of the target processes (every call is trapped). false: only what the
    /// interposition needs is trapped.
    public var census = true
    /// Count failed calls (-errno results) too. Costs a second stop per call (the call's exit);
    /// false counts calls only, at half the cost.
    public var countFailures = true
    public var interposition = Interposition()
    /// x86-64 calls the filter also traps so that a decoder of the trace (the sub-feature and
    /// pseudo-file census) sees their arguments at their seccomp stop (`TraceSession.features`).
    public var decodeNumbers: Set<Int> = []
    /// How the census counts: in the kernel (eBPF), with ptrace stops, or eBPF when available.
    public var censusMethod: CensusMethodChoice = .auto
    /// Also count sub-features and pseudo-files (`TraceResult.features`, `.pseudoFiles`): the
    /// calls `FeatureCensus.numbers` are trapped and decoded at their seccomp stop.
    public var featureCensus = false
    /// Tests only: also load an eBPF census (default capacities) beside the run's census, so
    /// that two countings of one run can be compared (`TraceSession.shadowEntries`): beside
    /// ptrace, or beside an eBPF census whose small `kernelCensusCapacity` overflows.
    var shadowKernelCensus = false
    /// Tests only: the eBPF census's map sizes (nil: `SYSPECT_TEST_EBPF_TARGETS` /
    /// `SYSPECT_TEST_EBPF_FAILURES` of syspect's own environment, else the defaults), so that a
    /// test fills them with a few processes.
    var kernelCensusCapacity: KernelCensus.Capacity? = nil
    /// nil: run in syspect's own namespaces.
    public var sandbox: Sandbox? = nil
    /// Seconds; then the whole tree is killed and `TraceResult.timedOut` is set.
    public var timeout: Double? = nil

    public init(
        arguments: [String], environment: [String: String]? = nil, workingDirectory: String? = nil,
        stdoutPath: String? = nil, stderrPath: String? = nil, targets: [String] = [], census: Bool = true,
        countFailures: Bool = true, interposition: Interposition = Interposition(), sandbox: Sandbox? = nil,
        timeout: Double? = nil, decodeNumbers: Set<Int> = [], censusMethod: CensusMethodChoice = .auto
    ) {
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
        self.targets = targets
        self.census = census
        self.countFailures = countFailures
        self.interposition = interposition
        self.sandbox = sandbox
        self.timeout = timeout
        self.decodeNumbers = decodeNumbers
        self.censusMethod = censusMethod
    }
}

/// `LaunchOptions.censusMethod`.
public enum CensusMethodChoice: String, Sendable, Hashable, Codable, CaseIterable {
    /// eBPF when the kernel and privileges allow it, otherwise ptrace (with a notice).
    case auto
    /// eBPF, or the launch fails (`TraceError.kernelCensusUnavailable`).
    case ebpf
    /// Every counted call stops at the tracer (and once more at its exit for failures).
    case ptrace
}

/// How a census was counted (`TraceResult.censusMethod`).
public enum CensusMethod: String, Sendable, Hashable, Codable {
    /// eBPF programs on the raw tracepoints sys_enter/sys_exit count x86-64 calls in the kernel;
    /// the tracer stops only at execve/execveat, interposed, decoded, i386 and x32 calls.
    case ebpf
    /// Every call of the traced tree stops at the tracer (seccomp `RET_TRACE`).
    case ptrace
}
