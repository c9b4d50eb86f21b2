import Foundation
import SyspectCore
#if canImport(Glibc)
import Glibc
#endif

/// The run locks of an SQLite database (`SQLDatabase.tryLock`): one small file per lock beside
/// the database, `<db>-lock-<hash of the name>`, locked whole with an open-file-description lock
/// (`F_OFD_SETLK`). Such a lock belongs to the open file, not to the process: it excludes another
/// store of the same process too, and the kernel drops it when the file is closed or the process
/// dies, so a killed explore never leaves a stale lock. The holder writes "pid N on host H" into
/// the file for the refused one to quote, and removes the file when it gives the lock back.
final class FileLocks: @unchecked Sendable {
    private let databasePath: String
    private let mutex = NSLock()
    /// Lock name → the open, locked file.
    private var held: [String: Int32] = [:]

    /// Linux `F_OFD_SETLK` (not exported by the Glibc module).
    private static let ofdSetLock: Int32 = 37

    init(databasePath: String) { self.databasePath = databasePath }

    deinit {
        for name in Array(held.keys) { unlock(name) }
    }

    func path(of name: String) -> String {
        databasePath + "-lock-" + stableHash(name)
    }

    /// nil when taken; else who holds it.
    func tryLock(_ name: String) throws -> String? {
        try mutex.withLock {
            if held[name] != nil { return Self.holder }
            let path = path(of: name)
            // A holder that is giving the lock back removes the file between our open and our
            // lock: then the locked file is no longer the one at `path`, and we try again.
            for _ in 0..<20 {
                let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw StoreError.cannotOpen(path: path, reason: Self.errorText(errno)) }
                var request = flock()
                request.l_type = Int16(F_WRLCK)
                request.l_whence = Int16(SEEK_SET)
                if fcntl(fd, Self.ofdSetLock, &request) != 0 {
                    let error = errno
                    let text = Self.contents(fd)
                    close(fd)
                    guard error == EAGAIN || error == EACCES else {
                        throw StoreError.cannotOpen(path: path, reason: "cannot lock: " + Self.errorText(error))
                    }
                    return text.isEmpty ? "another process (lock file \(path))" : text
                }
                var opened = stat(), current = stat()
                guard fstat(fd, &opened) == 0, stat(path, &current) == 0,
                      opened.st_ino == current.st_ino, opened.st_dev == current.st_dev
                else {
                    close(fd)
                    continue
                }
                let text = Array(Self.holder.utf8)
                _ = ftruncate(fd, 0)
                _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
                held[name] = fd
                return nil
            }
            throw StoreError.cannotOpen(path: path, reason: "its lock file keeps being replaced")
        }
    }

    func unlock(_ name: String) {
        mutex.withLock {
            guard let fd = held.removeValue(forKey: name) else { return }
            // Removed while still locked, then closed (which drops the lock): see `tryLock`.
            unlink(path(of: name))
            close(fd)
        }
    }

    /// "pid N on host H": what this process writes into a lock it holds.
    static let holder = "pid \(getpid()) on host \(ProcessInfo.processInfo.hostName)"

    private static func contents(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return "" }
        return String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }
}
