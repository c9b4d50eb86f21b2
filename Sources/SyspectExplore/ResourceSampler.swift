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
/// Cost: one sample reads 3 small files and one directory per process; the sampler's own CPU
/// time is measured (`ResourceUsage.samplerCPUSeconds`), ≈ 0.1 ms per process per sample here.
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
        for pid in tree(root: root) {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { continue }
            sample.processes += 1
            sample.rssBytes += kilobytes("VmRSS:", in: status) * 1024
            sample.maxHWMBytes = max(sample.maxHWMBytes, kilobytes("VmHWM:", in: status) * 1024)
            sample.fds += entries(of: "/proc/\(pid)/fd")
            sample.cpuSeconds += cpuSeconds(pid)
        }
        return sample
    }

    /// `root` and its descendants (processes; threads are covered by their process's files).
    static func tree(root: Int32) -> [Int32] {
        var result: [Int32] = []
        var pending = [root]
        var seen = Set<Int32>()
        while let pid = pending.popLast() {
            guard seen.insert(pid).inserted else { continue }
            result.append(pid)
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            for task in tasks {
                guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8) else { continue }
                pending += text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
        }
        return result
    }

    /// A "Key:   123 kB" line of /proc/PID/status, in kB (0 when absent, e.g. a zombie).
    static func kilobytes(_ key: String, in status: String) -> Int {
        guard let range = status.range(of: "\n" + key) else { return 0 }
        let rest = status[range.upperBound...].prefix { $0 != "\n" }
        return Int(rest.split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? 0
    }

    /// Entries of a directory without "." and "..", 0 when unreadable.
    static func entries(of path: String) -> Int {
        guard let dir = opendir(path) else { return 0 }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let isDot = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                bytes[0] == UInt8(ascii: ".") && (bytes[1] == 0 || (bytes[1] == UInt8(ascii: ".") && bytes[2] == 0))
            }
            if !isDot { count += 1 }
        }
        return count
    }

    /// utime + stime + cutime + cstime of /proc/PID/stat (fields 14–17), in seconds.
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        // After "pid (comm)": field 3 (state) is the first; fields 14–17 are at offsets 11–14.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 14 else { return 0 }
        let ticks = fields[11...14].compactMap { Double($0) }.reduce(0, +)
        return ticks / Self.ticks
    }

    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
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
