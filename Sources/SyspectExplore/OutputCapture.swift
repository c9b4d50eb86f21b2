import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a child's output pipe on its own thread into a file capped at `cap` bytes (the rest is
/// counted, not kept) and remembers the last few KiB for error messages and the metric line.
final class OutputCapture: @unchecked Sendable {
    /// The end the child writes to (handed to `SpawnedProcess`, which closes it here).
    let writeEnd: Int32
    private let readEnd: Int32
    private let path: String
    private let cap: Int
    private let lock = NSLock()
    private var tailBuffer: [UInt8] = []
    private var stopRequested = false
    private let finished = DispatchSemaphore(value: 0)
    private static let tailSize = 8 * 1024

    init(path: String, cap: Int) throws {
        (readEnd, writeEnd) = try closeOnExecPipe()
        self.path = path
        self.cap = cap
    }

    func start() {
        let fd = readEnd
        let thread = Thread { [self] in
            self.pump(fd)
            self.finished.signal()
        }
        thread.start()
    }

    /// Waits for end of file, at most `timeout` seconds (a background child of the script may
    /// still hold the pipe open; it dies with the probe's PID namespace), then stops reading.
    func finish(timeout: Double) {
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            lock.withLock { stopRequested = true }
            finished.wait()
        }
        close(readEnd)
    }

    /// The last bytes read, as text.
    var tail: String {
        lock.withLock { String(decoding: tailBuffer, as: UTF8.self) }
    }

    private func pump(_ fd: Int32) {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let out = FileHandle(forWritingAtPath: path)
        defer { try? out?.close() }
        var written = 0
        var dropped = 0
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            if lock.withLock({ stopRequested }) { break }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 100)
            if ready == 0 { continue }
            if ready < 0 { if errno == EINTR { continue } else { break } }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            let chunk = buffer[0..<n]
            let room = max(0, cap - written)
            if room > 0 {
                out?.write(Data(chunk.prefix(room)))
                written += min(room, n)
            }
            dropped += n - min(room, n)
            lock.withLock {
                tailBuffer.append(contentsOf: chunk)
                if tailBuffer.count > Self.tailSize { tailBuffer.removeFirst(tailBuffer.count - Self.tailSize) }
            }
        }
        if dropped > 0 {
            out?.write(Data("\n[syspect: \(dropped) more bytes not kept (cap \(cap) bytes)]\n".utf8))
        }
    }
}

/// Log files written by the application itself (its stdout/stderr): kept under a cap.
enum LogCap {
    /// While a probe runs: a log past `4 × cap` is emptied (the application keeps writing at its
    /// offset; the hole costs no disk space).
    static func enforceWhileRunning(_ path: String, cap: Int) {
        if fileSize(path) > 4 * cap { truncate(path, 0) }
    }

    /// After a probe: keep only the last `cap` bytes.
    static func trim(_ path: String, cap: Int) {
        let size = fileSize(path)
        guard size > cap, let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        try? handle.seek(toOffset: UInt64(size - cap))
        let tail = (try? handle.readToEnd()) ?? Data()
        let note = Data("[syspect: first \(size - cap) bytes not kept]\n".utf8)
        try? (note + tail).write(to: URL(fileURLWithPath: path))
    }

    /// Last `bytes` of a file as text ("" when missing).
    static func tail(_ path: String, bytes: Int = 4096) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        let size = fileSize(path)
        try? handle.seek(toOffset: UInt64(max(0, size - bytes)))
        return String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
    }

    static func fileSize(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : 0
    }
}

/// The metric a test script printed: its last non-empty stdout line, when that is a number.
public func parseMetric(_ output: String) -> Double? {
    let last = output.split(whereSeparator: \.isNewline).last { !$0.allSatisfy(\.isWhitespace) }
    guard let line = last?.trimmingCharacters(in: .whitespaces), let value = Double(line), value.isFinite else {
        return nil
    }
    return value
}
