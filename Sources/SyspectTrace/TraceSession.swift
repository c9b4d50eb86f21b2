import CSyspect
import Foundation
import SyspectCore

/// One process (thread group) of the traced tree.
final class ProcessState {
    let pid: Int32
    var exe: String
    var isTarget: Bool
    var execCount = 0
    /// A target the full eBPF target map could not take: the tracer counts its calls itself, at
    /// syscall-entry stops (its threads resume with PTRACE_SYSCALL), until it ends or execs.
    var countedByTracer = false

    init(pid: Int32, exe: String, isTarget: Bool) {
        self.pid = pid
        self.exe = exe
        self.isTarget = isTarget
    }
}

/// One thread of the traced tree.
final class ThreadState {
    var process: ProcessState
    /// A counted call whose exit stop is awaited (PTRACE_SYSCALL was used to resume it).
    var pendingArch: Arch?
    var pendingNumber = 0
    /// execve/execveat this thread entered while its process was not a target: counted when the
    /// exec succeeds into a target (the call that started a target binary belongs to it).
    var uncountedExec: Int?
    /// The decoder (`TraceSession.features`) asked for this call's exit stop.
    var decodePending = false

    init(process: ProcessState) { self.process = process }
}

/// A decoder of trapped calls (the sub-feature and pseudo-file census), called on the tracer
/// thread for the x86-64 calls in `LaunchOptions.decodeNumbers` that target processes make
/// (and that run: interposed calls are not decoded).
protocol CallDecoder: AnyObject {
    /// At the call's seccomp stop (arguments in `info.args`). Returns true to see its result
    /// at `observeExit`.
    func observe(tid: Int32, info: csy_syscall_info) -> Bool
    /// At the exit stop of a call `observe` returned true for (`info.rval`, `info.is_error`).
    func observeExit(tid: Int32, info: csy_syscall_info)
}

/// The state of one trace. The loop (`run`) and everything it touches belong to the tracer
/// thread; only the fields under `lock` are shared with other threads.
final class TraceSession: @unchecked Sendable {
    private let plan: LaunchPlan
    private var rootPid: Int32 = 0
    private var rootExeced = false
    private var errorFD: Int32 = -1
    private var handshake: LaunchHandshake?
    private var threads: [Int32: ThreadState] = [:]
    private var processes: [Int32: ProcessState] = [:]
    private var census = CensusCounter()
    private var interposed: [Int: Int] = [:]
    private var targetsSeen: Set<String> = []
    private var targetValuesMatched: Set<String> = []
    private var processCount = 0
    /// Target processes the full eBPF target map refused (`ProcessState.countedByTracer`).
    private var processesCountedByTracer = 0
    private var exitCode: Int32?
    private var termSignal: Int32?
    /// The signal the sandbox's init was killed for (see `NamespaceInitSignals`).
    private var fatalSignal: Int32?
    private var started = Date()
    private var killedProcesses: Set<Int32> = []
    private let countFailures: Bool
    /// Flat copy of the policy for the hot path: number → replacement.
    private let replacementTable: [Int64?]
    /// Sub-features, pseudo-files and argument-dependent fakes (issue 5); nil: none.
    private let interposer: ArgumentInterposer?
    /// The in-kernel census (eBPF) counting the x86-64 calls; nil: the tracer counts them.
    private let kernel: KernelCensus?
    /// Tests only: an eBPF census counting beside the census of the same run.
    private let shadow: KernelCensus?
    /// The shadow census's entries (x86-64, execve/execveat excluded), once the trace is over.
    private(set) var shadowEntries: [CensusEntry]?
    /// Decodes the calls of `LaunchOptions.decodeNumbers` (nil: none).
    var features: (any CallDecoder)?
    /// Flat copy of `LaunchOptions.decodeNumbers` for the hot path.
    private let decodeTable: [Bool]

    // Shared with other threads.
    private let lock = NSCondition()
    /// Live processes of the tree → pidfd (or -1): signals never reach a process that merely
    /// reused the pid of one that ended.
    private var livePids: [Int32: Int32] = [:]
    private var killRequested = false
    private var timedOut = false
    private(set) var onExit: (@Sendable (TraceResult) -> Void)?
    private(set) var onCommandExit: (@Sendable (Int32?, Int32?) -> Void)?
    private var result: TraceResult?
    private var timer: DispatchWorkItem?

    init(plan: LaunchPlan) {
        self.plan = plan
        countFailures = plan.options.census && plan.options.countFailures
        var table = [Int64?](repeating: nil, count: 1024)
        for (n, v) in plan.replacements where n >= 0 && n < table.count { table[n] = v }
        replacementTable = table
        interposer = ArgumentInterposer(plan.options.interposition)
        kernel = plan.kernelCensus
        shadow = plan.shadowCensus
        var decode = [Bool](repeating: false, count: 1024)
        for n in plan.options.decodeNumbers where n >= 0 && n < decode.count { decode[n] = true }
        decodeTable = decode
    }

    // MARK: shared API

    var finalResult: TraceResult? {
        lock.lock()
        defer { lock.unlock() }
        return result
    }

    func waitForResult() -> TraceResult {
        lock.lock()
        defer { lock.unlock() }
        while result == nil { lock.wait() }
        return result!
    }

    func setOnExit(_ callback: (@Sendable (TraceResult) -> Void)?) {
        lock.lock()
        let done = result
        if done == nil { onExit = callback }
        lock.unlock()
        if let done, let callback { callback(done) }
    }

    func setOnCommandExit(_ callback: (@Sendable (Int32?, Int32?) -> Void)?) {
        lock.lock()
        let ended = rootEnded
        let status = (exitCode, termSignal)
        if !ended { onCommandExit = callback }
        lock.unlock()
        if ended, let callback { callback(status.0, status.1) }
    }
    private var rootEnded = false

    func armTimeout(_ seconds: Double) {
        let item = DispatchWorkItem { [weak self] in self?.requestKill(timedOut: true) }
        lock.lock()
        timer = item
        lock.unlock()
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: item)
    }

    /// SIGKILL the tree: the pid namespace's init (the kernel kills the rest) and every process
    /// known so far; processes not seen yet are killed by the loop at their first stop.
    func requestKill(timedOut: Bool) {
        lock.lock()
        guard result == nil, !killRequested else {
            lock.unlock()
            return
        }
        killRequested = true
        self.timedOut = timedOut
        // Under the lock: the loop closes a pidfd only under it.
        if plan.usesPidNamespace, let rootFD = livePids[rootPid] { Self.signal(rootPid, rootFD, SIGKILL) }
        for (pid, fd) in livePids { Self.signal(pid, fd, SIGKILL) }
        lock.unlock()
    }

    private static func signal(_ pid: Int32, _ pidfd: Int32, _ signal: Int32) {
        if pidfd >= 0 { _ = csy_pidfd_kill(pidfd, signal) } else { _ = csy_kill(pid, signal) }
    }

    private func addLive(_ pid: Int32) {
        let fd = csy_pidfd_open(pid)
        lock.lock()
        livePids[pid] = fd
        lock.unlock()
    }

    private func removeLive(_ pid: Int32) {
        lock.lock()
        if let fd = livePids.removeValue(forKey: pid), fd >= 0 { close(fd) }
        lock.unlock()
    }

    private var isKillRequested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return killRequested
    }

    // MARK: the tracer thread

    func run(handshake: LaunchHandshake) {
        self.handshake = handshake
        do {
            rootPid = try spawn()
        } catch {
            kernel?.close()
            shadow?.close()
            handshake.finish(.failure(error as? TraceError ?? .system(step: "launch", errno: EIO)))
            return
        }
        started = Date()
        addLive(rootPid)
        loop()
        finish()
    }

    private func spawn() throws -> Int32 {
        let options = plan.options
        let filter = plan.filter.isNoOp ? [] : plan.filter.sockFilters()
        var result = csy_launch_result()
        let status: Int32 = withCStrings(options.arguments) { argv in
            withCStrings(plan.environment) { envp in
                filter.withUnsafeBufferPointer { program in
                    withOptionalCString(plan.program) { path in
                        withOptionalCString(options.workingDirectory) { cwd in
                            withOptionalCString(options.stdoutPath) { out in
                                withOptionalCString(options.stderrPath) { err in
                                    var spec = csy_launch_spec()
                                    spec.path = path
                                    spec.argv = argv
                                    spec.envp = envp
                                    spec.cwd = cwd
                                    spec.stdout_path = out
                                    spec.stderr_path = err
                                    spec.filter = program.isEmpty ? nil : program.baseAddress
                                    spec.filter_len = UInt16(program.count)
                                    spec.clone_flags = plan.cloneFlags
                                    spec.map_root = 1
                                    spec.private_tmp = 1
                                    spec.fresh_proc = 1
                                    spec.loopback_up = 1
                                    spec.ptrace_options = Ptrace.options
                                    return csy_launch(&spec, &result)
                                }
                            }
                        }
                    }
                }
            }
        }
        guard status == 0 else { throw launchError(stage: result.stage, errno: result.error) }
        errorFD = result.error_fd
        return result.pid
    }

    private func launchError(stage: Int32, errno e: Int32) -> TraceError {
        switch UInt32(stage) {
        case CSY_STAGE_SEIZE.rawValue:
            return .ptraceNotPermitted(errno: e)
        case CSY_STAGE_CLONE.rawValue where plan.cloneFlags != 0:
            return .namespaceNotPermitted(step: "clone", errno: e)
        case CSY_STAGE_USERNS.rawValue:
            return .namespaceNotPermitted(step: "user namespace mapping", errno: e)
        case CSY_STAGE_MOUNT.rawValue:
            return .namespaceNotPermitted(step: "private mounts", errno: e)
        case CSY_STAGE_NETWORK.rawValue:
            return .namespaceNotPermitted(step: "loopback interface", errno: e)
        case CSY_STAGE_SECCOMP.rawValue:
            return .seccompUnavailable(errno: e)
        case CSY_STAGE_REDIRECT.rawValue:
            return .fileSetup(step: "open the output file", errno: e)
        case CSY_STAGE_CHDIR.rawValue:
            return .fileSetup(step: "change to the working directory '\(plan.options.workingDirectory ?? "")'", errno: e)
        case CSY_STAGE_EXEC.rawValue:
            return e == ENOENT ? .programNotFound(plan.program) : .programNotExecutable(plan.program, errno: e)
        default:
            return .system(step: "launch (stage \(stage))", errno: e)
        }
    }

    /// Reports the launch's outcome once: the root executed, or it failed before.
    private func settleLaunch(executed: Bool) {
        guard let handshake else { return }
        self.handshake = nil
        var stage: Int32 = 0
        var e: Int32 = 0
        let failed = errorFD >= 0 && csy_read_launch_error(errorFD, &stage, &e) == 1
        errorFD = -1
        if failed {
            handshake.finish(.failure(launchError(stage: stage, errno: e)))
        } else if executed {
            handshake.finish(.success(rootPid))
        } else {
            handshake.finish(.failure(.system(step: "launch (the child ended before executing)", errno: ECHILD)))
        }
    }

    private func loop() {
        var status: Int32 = 0
        while true {
            let tid = csy_wait_any(&status)
            if tid < 0 {
                if errno == EINTR { continue }
                break  // ECHILD: no tracee left
            }
            if csy_wifexited(status) != 0 || csy_wifsignaled(status) != 0 {
                ended(tid, status)
                continue
            }
            guard csy_wifstopped(status) != 0 else { continue }
            let thread = threads[tid] ?? register(tid)
            if isKillRequested && !killedProcesses.contains(thread.process.pid) {
                killedProcesses.insert(thread.process.pid)
                _ = csy_kill(thread.process.pid, SIGKILL)
                _ = csy_kill(tid, SIGKILL)
            }
            let signal = csy_wstopsig(status)
            switch csy_wevent(status) {
            case Ptrace.eventSeccomp:
                seccompStop(tid, thread)
            case 0 where signal == (SIGTRAP | 0x80):
                syscallStop(tid, thread)
            case Ptrace.eventExec:
                execStop(tid, thread)
            case Ptrace.eventStop:
                // Group-stop (a stop signal): listen, so the tracee stays stopped without us
                // resuming it; otherwise (a new child's first stop, after SIGCONT): go on.
                if [SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU].contains(signal) {
                    Ptrace.resume(Ptrace.listen, tid)
                } else {
                    Ptrace.resume(Self.request(thread), tid)
                }
            case 0 where plan.usesPidNamespace && thread.process.pid == rootPid
                && NamespaceInitSignals.wouldKill(pid: tid, signal: signal):
                // The namespace's init would die of it untraced, but re-injected it is dropped
                // (a fault would repeat forever): end it as the kernel would have.
                fatalSignal = signal
                _ = csy_kill(rootPid, SIGKILL)
            case 0:
                Ptrace.resume(Self.request(thread), tid, signal: signal)  // a signal for the tracee: re-inject
            default:
                // fork/vfork/clone events: children register lazily.
                Ptrace.resume(Self.request(thread), tid)
            }
        }
    }

    /// First stop of a thread we have not seen (its parent's fork event may still be pending).
    private func register(_ tid: Int32) -> ThreadState {
        let tgid = Self.threadGroup(of: tid) ?? tid
        let process: ProcessState
        if let known = processes[tgid] {
            process = known
        } else {
            let exe = ProgramPaths.readLink("/proc/\(tgid)/exe") ?? ""
            process = ProcessState(pid: tgid, exe: exe, isTarget: isTarget(exe, count: false))
            processes[tgid] = process
            // The launched process counts from its exec on (its set-up calls are syspect's).
            if process.isTarget && (tgid != rootPid || rootExeced) { markTarget(process) }
            processCount += 1
            addLive(tgid)
        }
        let thread = ThreadState(process: process)
        threads[tid] = thread
        return thread
    }

    private static func threadGroup(of tid: Int32) -> Int32? {
        guard let status = try? String(contentsOfFile: "/proc/\(tid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("Tgid:") {
            return Int32(line.dropFirst(5).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// Tells the kernel census whether a process counts (only while it is stopped: its only
    /// thread at its first stop or at an exec). A target the full map refuses is counted by the
    /// tracer instead (`countedByTracer`).
    private func markTarget(_ process: ProcessState) {
        _ = shadow?.setTarget(process.pid, process.isTarget)
        guard let kernel else { return }
        let refused = !kernel.setTarget(process.pid, process.isTarget)
        if refused && !process.countedByTracer { processesCountedByTracer += 1 }
        process.countedByTracer = refused
    }

    /// A process ended: its pid may be reused.
    private func unmarkTarget(_ pid: Int32) {
        _ = kernel?.setTarget(pid, false)
        _ = shadow?.setTarget(pid, false)
    }

    /// How to resume a thread: PTRACE_SYSCALL when its next syscall stop is needed (the exit of
    /// a call whose result is awaited: census failures, decoder; or every call of a process the
    /// tracer counts itself), else PTRACE_CONT (which would drop that stop).
    @inline(__always)
    private static func request(_ thread: ThreadState) -> Int32 {
        thread.pendingArch != nil || thread.decodePending || thread.process.countedByTracer ? Ptrace.syscall : Ptrace.cont
    }

    private func isTarget(_ exe: String, count: Bool) -> Bool {
        let matched = plan.matcher.matches(exe)
        if count && !matched.isEmpty {
            targetsSeen.insert(exe)
            targetValuesMatched.formUnion(matched)
        }
        return !matched.isEmpty
    }

    @inline(__always)
    private func seccompStop(_ tid: Int32, _ thread: ThreadState) {
        var info = csy_syscall_info()
        guard csy_syscall_info(tid, &info) == 0, info.op == Ptrace.syscallInfoSeccomp else {
            Ptrace.resume(Self.request(thread), tid)
            return
        }
        let (arch, number) = Self.classify(info)
        let process = thread.process
        if arch == .x86_64, number >= 0, number < replacementTable.count,
           let value = replacementTable[number] ?? interposer?.replacement(tid: tid, number: number, info: info),
           appliesPolicy(process, number) {
            _ = csy_skip_syscall(tid, value)
            interposed[number, default: 0] += 1
            // The kernel never enters a skipped call: the tracer counts it (at the entry stop
            // already, when it counts the process itself; the exit stop then sees the result).
            if process.isTarget && plan.options.census && !(process.countedByTracer && kernelCounts(arch, number)) {
                census.call(arch, number)
                census.result(arch, number, value)
            }
            Ptrace.resume(Self.request(thread), tid)
            return
        }
        guard process.isTarget else {
            if arch == .x86_64 && LaunchPlan.execNumbers.contains(number) { thread.uncountedExec = number }
            Ptrace.resume(Ptrace.cont, tid)
            return
        }
        var exitStop = false
        if arch == .x86_64, number >= 0, number < decodeTable.count, decodeTable[number], let features {
            thread.decodePending = features.observe(tid: tid, info: info)
            exitStop = thread.decodePending
        }
        if plan.options.census && tracerCounts(arch, number) {
            census.call(arch, number)
            if countFailures {
                thread.pendingArch = arch
                thread.pendingNumber = number
                exitStop = true
            }
        }
        // syscall: stop again at its exit
        Ptrace.resume(exitStop || process.countedByTracer ? Ptrace.syscall : Ptrace.cont, tid)
    }

    /// Whether the tracer counts this call at its seccomp stop: always with the ptrace census;
    /// with the kernel census what the programs leave out (exec calls: the exec into a target
    /// counts for it; i386, x32, numbers beyond the kernel's table).
    @inline(__always)
    private func tracerCounts(_ arch: Arch, _ number: Int) -> Bool { !kernelCounts(arch, number) }

    /// Whether the eBPF programs count this call of a process in their target map.
    @inline(__always)
    private func kernelCounts(_ arch: Arch, _ number: Int) -> Bool {
        kernel != nil && arch == .x86_64 && number >= 0 && number < KernelCensus.maxNumber
            && !LaunchPlan.execNumbers.contains(number)
    }

    /// Whether the tracer applies the policy to this call of this process.
    private func appliesPolicy(_ process: ProcessState, _ number: Int) -> Bool {
        // The launch's own exec goes through even when execve is stubbed or faked.
        if LaunchPlan.execNumbers.contains(number) && process.pid == rootPid && !rootExeced { return false }
        return plan.options.interposition.inKernel || process.isTarget
    }

    private static func classify(_ info: csy_syscall_info) -> (Arch, Int) {
        if info.arch == Arch.i386.auditArch { return (.i386, Int(info.nr)) }
        let nr = Int(truncatingIfNeeded: info.nr)
        if nr >= 0 && nr & SyscallTable.x32Bit != 0 { return (.x32, nr & ~SyscallTable.x32Bit) }
        return (.x86_64, nr)
    }

    /// A syscall stop (the thread was resumed with PTRACE_SYSCALL): the exit of a call whose
    /// result is awaited, or, in a process the tracer counts itself, any call's entry or exit.
    @inline(__always)
    private func syscallStop(_ tid: Int32, _ thread: ThreadState) {
        if thread.pendingArch != nil || thread.decodePending || thread.process.countedByTracer {
            var info = csy_syscall_info()
            let known = csy_syscall_info(tid, &info) == 0
            if known && info.op == Ptrace.syscallInfoEntry {
                if thread.process.countedByTracer { countedEntry(thread, info) }
                Ptrace.resume(Self.request(thread), tid)
                return
            }
            if known && info.op == Ptrace.syscallInfoExit {
                if let arch = thread.pendingArch, info.is_error != 0 { census.result(arch, thread.pendingNumber, info.rval) }
                if thread.decodePending { features?.observeExit(tid: tid, info: info) }
            }
            thread.pendingArch = nil
            thread.decodePending = false
        }
        Ptrace.resume(Self.request(thread), tid)
    }

    /// The entry of a call of a process the tracer counts in place of the full eBPF map
    /// (before its seccomp stop, if the filter traps it): counts what the programs would have
    /// counted, and awaits its exit for the result. The seccomp stop counts the rest.
    private func countedEntry(_ thread: ThreadState, _ info: csy_syscall_info) {
        thread.pendingArch = nil
        let (arch, number) = Self.classify(info)
        guard thread.process.isTarget, plan.options.census, kernelCounts(arch, number) else { return }
        census.call(arch, number)
        if countFailures {
            thread.pendingArch = arch
            thread.pendingNumber = number
        }
    }

    /// exec: reported under the process id even when a non-leader thread executed; that
    /// thread's old id is gone. The executable (and so the target decision) is read again.
    private func execStop(_ pid: Int32, _ thread: ThreadState) {
        let formerTid = Int32(truncatingIfNeeded: Ptrace.eventMessage(pid))
        var current = thread
        if formerTid != pid, let former = threads.removeValue(forKey: formerTid) {
            // The execing thread carries the pending exit stop of execve.
            current.pendingArch = former.pendingArch
            current.pendingNumber = former.pendingNumber
            current.uncountedExec = former.uncountedExec
            current.decodePending = former.decodePending
            current = threads[pid] ?? current
        }
        let process = current.process
        process.exe = ProgramPaths.readLink("/proc/\(pid)/exe") ?? process.exe
        process.isTarget = isTarget(process.exe, count: true)
        markTarget(process)
        if let exec = current.uncountedExec, process.isTarget, plan.options.census {
            census.call(.x86_64, exec)
        }
        current.uncountedExec = nil
        process.execCount += 1
        if pid == rootPid && !rootExeced {
            rootExeced = true
            settleLaunch(executed: true)
        }
        Ptrace.resume(Self.request(current), pid)
    }

    private func ended(_ tid: Int32, _ status: Int32) {
        threads.removeValue(forKey: tid)
        // A traced leader's exit is reported after its other threads': the process is gone.
        if processes.removeValue(forKey: tid) != nil || tid == rootPid {
            removeLive(tid)
            unmarkTarget(tid)
        }
        guard tid == rootPid else { return }
        let code = csy_wifexited(status) != 0 ? csy_wexitstatus(status) : nil
        var signal = csy_wifsignaled(status) != 0 ? csy_wtermsig(status) : nil
        if signal == SIGKILL, let fatalSignal { signal = fatalSignal }
        if !rootExeced { settleLaunch(executed: false) }
        lock.lock()
        exitCode = code
        termSignal = signal
        rootEnded = true
        let callback = onCommandExit
        lock.unlock()
        callback?(code, signal)
    }

    private func finish() {
        if handshake != nil { settleLaunch(executed: false) }
        let values = plan.matcher.values
        var overflow: CensusOverflow?
        if let kernel {
            let withoutErrno = kernel.collect(into: &census)
            if withoutErrno > 0 || processesCountedByTracer > 0 {
                overflow = CensusOverflow(
                    processesCountedByPtrace: processesCountedByTracer, targetCapacity: kernel.targetCapacity,
                    failuresWithoutErrno: withoutErrno, failureCapacity: kernel.failureCapacity)
            }
            kernel.close()
        }
        if let shadow {
            var counted = CensusCounter()
            _ = shadow.collect(into: &counted)
            shadow.close()
            shadowEntries = counted.entries()
        }
        var result = TraceResult(
            exitCode: exitCode, termSignal: termSignal, timedOut: timedOut, killed: killRequested,
            census: census.entries(), targetsSeen: targetsSeen.sorted(),
            targetsNeverRun: plan.matcher.matchesEverything ? [] : values.filter { !targetValuesMatched.contains($0) },
            interposed: interposed, durationSeconds: Date().timeIntervalSince(started),
            processCount: processCount, failuresCounted: countFailures,
            censusMethod: plan.censusMethod, censusNotice: plan.censusNotice, censusOverflow: overflow)
        if let decoded = features as? FeatureCensus { (result.features, result.pseudoFiles) = decoded.results() }
        lock.lock()
        for fd in livePids.values where fd >= 0 { close(fd) }
        livePids.removeAll()
        self.result = result
        timer?.cancel()
        let callback = onExit
        lock.broadcast()
        lock.unlock()
        callback?(result)
    }
}

// MARK: C strings

private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

private func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}
