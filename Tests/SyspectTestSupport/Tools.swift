import Foundation

/// The first of `names` that is an executable: an absolute path as given, else a program in PATH.
public func which(_ names: String...) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for name in names {
        if name.hasPrefix("/") { if FileManager.default.isExecutableFile(atPath: name) { return name } else { continue } }
        for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
    }
    return nil
}

/// `artifacts/<name>` under the repository root (git-ignored), created empty-or-existing: where
/// tests keep what a person may want to look at (screenshots, rendered pages).
public func artifactsFolder(_ name: String) throws -> String {
    let path = RepositoryData.root + "/artifacts/" + name
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
