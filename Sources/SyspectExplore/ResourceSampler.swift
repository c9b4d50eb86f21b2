import Foundation
import SyspectCore
#if canImport(Glibc)
import Glibc
#endif

/// Samples, from /proc, the resource use of a running process tree (the launched command of a
/// probe and every descendant: the server, its workers and their threads) on a background
/// thread, every `interval` seconds, until `stop()`.
///
/// What is counted (docs/impact.md):
/// - the tree is re-walked at every sample from the root through `/proc/PID/task/*/children`;
///   the test script and its load generator are not in it (they are started by `nsenter`, a
///   child of syspect, not of the application);
/// - memory: Σ `VmRSS` of the live processes at each sample, the peak over samples; and the
///   largest `VmHWM` (a single process's own peak resident size, which the kernel tracks
///   between samples);
/// - file descriptors: Σ entries of `/proc/PID/fd` at each sample, the peak over samples;
/// - CPU: Σ over the live processes of `utime + stime + cutime + cstime` (all their threads,
///   plus their reaped children) — the root is the PID namespace's init, which reaps orphans,
///   so exited processes stay counted through their reaper; the largest total over samples
///   (normally the last one, taken when the workload ends). CPU spent by a process whose parent
///   ignores SIGCHLD (auto-reaped) after the last sample it was seen in is lost;
/// - wall time: from `start()` to `stop()`.
///
/// Cost: one sample reads 3 small files and two directories per process (`ProcReader`: one
/// open and read each); the sampler's own CPU time is measured (`ResourceUsage.samplerCPUSeconds`).
public final class ResourceSampler: @unchecked Sendable {
    /// Seconds between samples (default 25 ms).
    public let interval: Double
    private let root: Int32
    private let lock = NSLock()
    private var stopRequested = false
    private var usage = ResourceUsage()
    private var started = Date()
    private let done = DispatchSemaphore(value: 0)
    private var running = false
    private static let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))

    public init(root: Int32, interval: Double = 0.025) {
        self.root = root
        self.interval = interval
    }

    /// Starts sampling (one sample at once, then every `interval`).
    public func start() {
        started = Date()
        running = true
        let thread = Thread { [self] in
            let cpuStart = Self.threadCPUSeconds()
            while true {
                let sample = Self.sample(root: root)
                let stop = lock.withLock {
                    usage.add(sample)
                    usage.samplerCPUSeconds = Self.threadCPUSeconds() - cpuStart
                    return stopRequested
                }
                if stop { break }
                Thread.sleep(forTimeInterval: interval)
            }
            done.signal()
        }
        thread.name = "syspect-resources"
        thread.start()
    }

    /// Takes a last sample, stops the thread and returns the figures.
    public func stop() -> ResourceUsage {
        guard running else { return usage }
        lock.withLock { stopRequested = true }
        done.wait()
        running = false
        return lock.withLock {
            usage.wallSeconds = Date().timeIntervalSince(started)
            return usage
        }
    }

    // MARK: - One sample

    /// The tree's figures at one instant.
    struct Sample {
        var rssBytes = 0
        var maxHWMBytes = 0
        var fds = 0
        var cpuSeconds = 0.0
        var processes = 0
    }

    static func sample(root: Int32) -> Sample {
        var sample = Sample()
        var proc = ProcReader()
        for pid in tree(root: root, proc: &proc) {
            guard let (rss, hwm) = proc.read("/proc/\(pid)/status", { (kilobytes(Self.vmRSS, in: $0), kilobytes(Self.vmHWM, in: $0)) })
            else { continue }
            sample.processes += 1
            sample.rssBytes += rss * 1024
            sample.maxHWMBytes = max(sample.maxHWMBytes, hwm * 1024)
            sample.fds += entries(of: "/proc/\(pid)/fd")
            sample.cpuSeconds += proc.read("/proc/\(pid)/stat", cpuSeconds(stat:)) ?? 0
        }
        return sample
    }

    /// `root` and its descendants (processes; threads are covered by their process's files).
    static func tree(root: Int32, proc: inout ProcReader) -> [Int32] {
        var result: [Int32] = []
        var pending = [root]
        var seen = Set<Int32>()
        while let pid = pending.popLast() {
            guard seen.insert(pid).inserted else { continue }
            result.append(pid)
            for task in names(in: "/proc/\(pid)/task") {
                pending += proc.read("/proc/\(pid)/task/\(task)/children") { numbers(in: $0) } ?? []
            }
        }
        return result
    }

    static let vmRSS = statusKey("VmRSS:"), vmHWM = statusKey("VmHWM:")
    /// The bytes that start a line of /proc/PID/status holding `key`.
    static func statusKey(_ key: String) -> [UInt8] { Array(("\n" + key).utf8) }

    /// The value of a "Key:   123 kB" line of /proc/PID/status (`needle`: `statusKey`), in kB
    /// (0 when absent, e.g. a zombie).
    static func kilobytes(_ needle: [UInt8], in status: UnsafeBufferPointer<UInt8>) -> Int {
        guard status.count >= needle.count else { return 0 }
        for start in 0...(status.count - needle.count) where status[start] == needle[0] {
            guard (1..<needle.count).allSatisfy({ status[start + $0] == needle[$0] }) else { continue }
            return numbers(in: UnsafeBufferPointer(rebasing: status[(start + needle.count)...]), limit: 1).first.map(Int.init) ?? 0
        }
        return 0
    }

    /// utime + stime + cutime + cstime of /proc/PID/stat (fields 14–17), in seconds.
    static func cpuSeconds(stat: UnsafeBufferPointer<UInt8>) -> Double {
        // After "pid (comm)" (comm may hold spaces and parentheses): field 3 (state) is the
        // first; fields 14–17 are the 12th to 15th.
        guard let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return 0 }
        var field = 0, value = 0, total = 0, inField = false
        for byte in stat[(close + 1)...] {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") {
                if inField && (12...15).contains(field) { total += value }
                if inField && field == 15 { break }
                inField = false
                continue
            }
            if !inField { (inField, field, value) = (true, field + 1, 0) }
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") { value = value * 10 + Int(byte - UInt8(ascii: "0")) }
        }
        return Double(total) / Self.ticks
    }

    /// The unsigned decimal numbers in `bytes` (separated by anything else), at most `limit`.
    static func numbers(in bytes: UnsafeBufferPointer<UInt8>, limit: Int = .max) -> [Int32] {
        var result: [Int32] = []
        var value: Int32 = 0, inNumber = false
        for byte in bytes {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                value = value &* 10 &+ Int32(byte - UInt8(ascii: "0"))
                inNumber = true
            } else if inNumber {
                result.append(value)
                if result.count == limit { return result }
                (value, inNumber) = (0, false)
            }
        }
        if inNumber { result.append(value) }
        return result
    }

    /// Names in a directory without "." and "..", none when unreadable.
    static func names(in path: String) -> [String] {
        var result: [String] = []
        forEachDirectoryEntry(path) { name, _ in result.append(String(cString: name)) }
        return result
    }

    /// Entries of a directory without "." and "..", 0 when unreadable.
    static func entries(of path: String) -> Int {
        var count = 0
        forEachDirectoryEntry(path) { _, _ in count += 1 }
        return count
    }

    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// Reads small /proc files with one open and one read into a buffer it keeps: the sampler reads
/// hundreds a second per probe, and Foundation's `String(contentsOfFile:)` cost it several
/// times the CPU.
struct ProcReader {
    private var buffer = [UInt8](repeating: 0, count: 16 * 1024)

    /// `parse` of the file's bytes (its first 16 KiB), nil when it cannot be opened.
    mutating func read<T>(_ path: String, _ parse: (UnsafeBufferPointer<UInt8>) -> T) -> T? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return buffer.withUnsafeMutableBufferPointer { buffer -> T? in
            var count = 0
            while count < buffer.count {
                let n = Glibc.read(fd, buffer.baseAddress! + count, buffer.count - count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                count += n
            }
            return parse(UnsafeBufferPointer(rebasing: buffer[..<count]))
        }
    }
}

extension ResourceUsage {
    mutating func add(_ sample: ResourceSampler.Sample) {
        samples += 1
        guard sample.processes > 0 else { return }
        peakRSSBytes = max(peakRSSBytes, sample.rssBytes)
        peakHWMBytes = max(peakHWMBytes, sample.maxHWMBytes)
        peakFDs = max(peakFDs, sample.fds)
        cpuSeconds = max(cpuSeconds, sample.cpuSeconds)
        peakProcesses = max(peakProcesses, sample.processes)
    }
}
