import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Calls `body` with each entry of the directory at `path` ("." and ".." left out): its name
/// and its `d_type` (`DT_DIR`, `DT_UNKNOWN`, …), straight from readdir. Nothing when the
/// directory cannot be opened. The resource sampler and the suite scan list directories many
/// times a second: no Foundation enumerator, no stat per entry.
func forEachDirectoryEntry(_ path: String, _ body: (_ name: UnsafePointer<CChar>, _ type: UInt8) -> Void) {
    guard let dir = opendir(path) else { return }
    defer { closedir(dir) }
    while let entry = readdir(dir) {
        let type = entry.pointee.d_type
        withUnsafeBytes(of: entry.pointee.d_name) { raw in
            let name = raw.bindMemory(to: CChar.self)
            let isDot = name[0] == 46 && (name[1] == 0 || (name[1] == 46 && name[2] == 0))
            if !isDot { body(name.baseAddress!, type) }
        }
    }
}

/// A file's size and modification time (one `stat`): a file whose stamp did not change need
/// not be read again.
struct FileStamp: Equatable {
    var size: UInt64
    var modified: Double

    init(size: UInt64, modified: Double) {
        self.size = size
        self.modified = modified
    }

    /// nil when `path` does not exist.
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        self.init(size: UInt64(info.st_size), modified: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
    }
}
