import Foundation
import SyspectCore

/// What one traced run produced.
public struct TraceResult: Sendable, Codable, Hashable {
    /// Exit status of the launched command, when it exited.
    public var exitCode: Int32?
    /// Signal that ended the launched command, when one did.
    public var termSignal: Int32?
    /// The timeout expired and the tree was killed.
    public var timedOut: Bool
    /// `TracedProcess.kill()` ended the tree (Ctrl-C, a probe runner's decision, a timeout).
    public var killed: Bool
    /// Target processes only, sorted by calls (descending), then arch and number.
    /// i386 and x32 entries carry their own `Arch` and number.
    public var census: [CensusEntry]
    /// Real executable paths of the processes that matched a target, sorted.
    public var targetsSeen: [String]
    /// `LaunchOptions.targets` values that never matched an executed program (a warning).
    public var targetsNeverRun: [String]
    /// x86-64 syscall → times the tracer stubbed or faked it.
    public var interposed: [Int: Int]
    /// Wall time from launch until the whole tree was gone.
    public var durationSeconds: Double
    /// Processes (not threads) seen, the launched one included.
    public var processCount: Int
    /// The census counted failures (`LaunchOptions.countFailures`).
    public var failuresCounted: Bool
    /// How the census counted (nil: no census, or a schema 1 document).
    public var censusMethod: CensusMethod?
    /// Why `LaunchOptions.censusMethod` `auto` fell back to ptrace (one line), when it did.
    public var censusNotice: String?
    /// What the eBPF census's maps could not hold (nil: they held everything, or the ptrace
    /// census counted): processes the tracer counted instead, failures counted without errno.
    public var censusOverflow: CensusOverflow?
    /// Sub-features the targets used (`LaunchOptions.featureCensus`), sorted; absent in
    /// documents written before it: empty.
    @EmptyIfAbsent public var features: [FeatureUse] = []
    /// Pseudo-files the targets named (`LaunchOptions.featureCensus`), sorted by path.
    @EmptyIfAbsent public var pseudoFiles: [PseudoFileUse] = []

    public init(
        exitCode: Int32? = nil, termSignal: Int32? = nil, timedOut: Bool = false, killed: Bool = false,
        census: [CensusEntry] = [], targetsSeen: [String] = [], targetsNeverRun: [String] = [],
        interposed: [Int: Int] = [:], durationSeconds: Double = 0, processCount: Int = 0,
        failuresCounted: Bool = true, censusMethod: CensusMethod? = nil, censusNotice: String? = nil,
        censusOverflow: CensusOverflow? = nil
    ) {
        self.exitCode = exitCode
        self.termSignal = termSignal
        self.timedOut = timedOut
        self.killed = killed
        self.census = census
        self.targetsSeen = targetsSeen
        self.targetsNeverRun = targetsNeverRun
        self.interposed = interposed
        self.durationSeconds = durationSeconds
        self.processCount = processCount
        self.failuresCounted = failuresCounted
        self.censusMethod = censusMethod
        self.censusNotice = censusNotice
        self.censusOverflow = censusOverflow
    }

    /// strace-like exit status: the command's own, 128 + signal when a signal ended it.
    public var shellStatus: Int32 {
        if let exitCode { return exitCode }
        if let termSignal { return 128 + termSignal }
        return 1
    }
}

/// A full map of the eBPF census in one trace (`TraceResult.censusOverflow`). A full target map
/// costs speed, never counts; a full failure map costs the errno of the failures it refused.
public struct CensusOverflow: Sendable, Codable, Hashable {
    /// Target processes the full target map could not take: the tracer counted their calls at
    /// ptrace stops instead (the census stays exact; those processes run slower).
    public var processesCountedByPtrace: Int
    /// Live target processes the target map holds.
    public var targetCapacity: Int
    /// Failed calls whose (number, errno) pair the full failure map could not take: counted in
    /// their entry's `failures`, under the errno name `unrecorded` (their errno is lost).
    public var failuresWithoutErrno: Int
    /// (number, errno) pairs the failure map holds.
    public var failureCapacity: Int

    public init(processesCountedByPtrace: Int, targetCapacity: Int, failuresWithoutErrno: Int, failureCapacity: Int) {
        self.processesCountedByPtrace = processesCountedByPtrace
        self.targetCapacity = targetCapacity
        self.failuresWithoutErrno = failuresWithoutErrno
        self.failureCapacity = failureCapacity
    }

    /// The loss, in one line (nil: nothing was lost).
    public var warning: String? {
        guard failuresWithoutErrno > 0 else { return nil }
        return "the eBPF census's failure map was full (\(failureCapacity) (number, errno) pairs): "
            + "\(failuresWithoutErrno) failed calls are counted without their errno (listed as \"unrecorded\"); "
            + "--census-method ptrace records every errno"
    }

    /// The slower path, in one line (nil: not taken).
    public var notice: String? {
        guard processesCountedByPtrace > 0 else { return nil }
        return "the eBPF census's target map was full (\(targetCapacity) live processes): "
            + "\(processesCountedByPtrace) target processes were counted with ptrace stops instead (exact, slower)"
    }
}

/// The `syspect trace --json` document (see docs/trace-json.md). Versioned: readers check
/// `schemaVersion` and refuse versions they do not know.
public struct TraceReport: Sendable, Codable, Hashable {
    /// Version of this JSON schema.
    /// Adding a field is not a version change (docs/trace-json.md): `censusMethod`,
    /// `censusNotice` and `censusOverflow` came later in version 1 and decode as nil from
    /// documents without them.
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    /// The traced command line.
    public var command: [String]
    /// The `--target` values given (empty: every process counted).
    public var targets: [String]
    public var result: TraceResult

    public init(command: [String], targets: [String], result: TraceResult) {
        self.schemaVersion = Self.currentSchemaVersion
        self.command = command
        self.targets = targets
        self.result = result
    }

    /// Pretty, key-sorted JSON.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// Decodes a report, refusing schema versions this build does not know.
    public static func decode(_ data: Data) throws -> TraceReport {
        struct Version: Decodable { var schemaVersion: Int }
        let version = try JSONDecoder().decode(Version.self, from: data).schemaVersion
        guard version == currentSchemaVersion else { throw TraceError.unsupportedSchema(version) }
        return try JSONDecoder().decode(TraceReport.self, from: data)
    }
}

/// Why a trace could not run. A failing system call of the traced program is data, never this.
public enum TraceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No program was given.
    case emptyCommand
    /// argv[0] not found (in PATH, or at the given path).
    case programNotFound(String)
    /// argv[0] exists but cannot be executed (permission, directory, bad format).
    case programNotExecutable(String, errno: Int32)
    /// PTRACE_SEIZE refused (container without CAP_SYS_PTRACE, Yama ptrace_scope, …).
    case ptraceNotPermitted(errno: Int32)
    /// The seccomp filter could not be installed.
    case seccompUnavailable(errno: Int32)
    /// A namespace of the sandbox could not be created or set up.
    case namespaceNotPermitted(step: String, errno: Int32)
    /// The working directory or an output file could not be used.
    case fileSetup(step: String, errno: Int32)
    /// Any other system failure of syspect itself.
    case system(step: String, errno: Int32)
    /// A trace JSON document of an unknown schema version.
    case unsupportedSchema(Int)
    /// `CensusMethodChoice.ebpf` was asked for and the kernel census cannot run (the reason).
    case kernelCensusUnavailable(String)

    public var description: String {
        switch self {
        case .emptyCommand:
            return "no command given: put the command to trace after `--`"
        case .programNotFound(let name):
            return "command not found: '\(name)': check the name, or give a path"
        case .programNotExecutable(let path, let e):
            return "cannot execute '\(path)': \(Self.text(e)): check its permissions and format"
        case .ptraceNotPermitted(let e):
            return "ptrace is not permitted (\(Self.text(e))): run as root, or give the container CAP_SYS_PTRACE (docker run --cap-add SYS_PTRACE), or set kernel.yama.ptrace_scope to 0 or 1"
        case .seccompUnavailable(let e):
            return "cannot install the seccomp filter (\(Self.text(e))): the kernel needs CONFIG_SECCOMP_FILTER; in a container, allow seccomp (docker run --security-opt seccomp=unconfined)"
        case .namespaceNotPermitted(let step, let e):
            return "cannot create the sandbox (\(step): \(Self.text(e))): run as root, or allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1), or trace without a sandbox"
        case .fileSetup(let step, let e):
            return "cannot \(step): \(Self.text(e))"
        case .system(let step, let e):
            return "\(step) failed: \(Self.text(e))"
        case .unsupportedSchema(let v):
            return "trace JSON schema version \(v) is not supported (this syspect reads version \(TraceReport.currentSchemaVersion)): use a matching syspect"
        case .kernelCensusUnavailable(let reason):
            return "the eBPF census cannot run (\(reason)): run as root or with CAP_BPF and CAP_PERFMON, or use --census-method ptrace"
        }
    }

    private static func text(_ e: Int32) -> String { String(cString: strerror(e)) }
}
