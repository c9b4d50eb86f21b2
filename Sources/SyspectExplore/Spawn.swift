import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with posix_spawn, watched with waitpid. (Foundation's `Process`
/// reports termination only once every descendant that inherited its monitoring socket is gone,
/// so a test script leaving a background job would look alive until the probe's namespace dies.)
final class SpawnedProcess: @unchecked Sendable {
    let pid: pid_t
    private let lock = NSLock()
    private var status: Int32?

    /// Starts `path` with `arguments`, `environment`, stdin from /dev/null and stdout/stderr to
    /// the write ends given (closed here after the spawn).
    init(path: String, arguments: [String], environment: [String: String], stdout: Int32, stderr: Int32) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        close(stdout)
        close(stderr)
        guard rc == 0 else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: String(cString: strerror(rc))])
        }
        pid = child
    }

    /// True until the child itself exited (its background children do not matter).
    var isRunning: Bool { poll(block: false) == nil }

    /// Waits for the child; returns its wait status.
    @discardableResult
    func wait() -> Int32 { poll(block: true)! }

    /// Exit status, or 128 + signal.
    var exitStatus: Int32 {
        let s = wait()
        if s & 0x7f == 0 { return (s >> 8) & 0xff }
        return 128 + (s & 0x7f)
    }

    private func poll(block: Bool) -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let status { return status }
        var s: Int32 = 0
        while true {
            let r = waitpid(pid, &s, block ? 0 : WNOHANG)
            if r == pid {
                status = s
                return s
            }
            if r == 0 { return nil }
            if errno == EINTR { continue }
            status = 0x7f00  // unknown (already reaped): treat as exit 127
            return status
        }
    }
}

/// A pipe whose both ends are close-on-exec (so probes spawned at the same time never inherit
/// each other's pipes; `posix_spawn`'s dup2 clears the flag on the child's copy).
func closeOnExecPipe() throws -> (read: Int32, write: Int32) {
    var fds: [Int32] = [-1, -1]
    guard let pipe2 = pipe2Function, pipe2(&fds, O_CLOEXEC) == 0 else {
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: String(cString: strerror(errno))])
    }
    return (fds[0], fds[1])
}

private typealias Pipe2Function = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

/// glibc's pipe2(2), looked up at run time (Swift's Glibc module does not export it).
private let pipe2Function: Pipe2Function? = {
    guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "pipe2") else { return nil }
    return unsafeBitCast(symbol, to: Pipe2Function.self)
}()
