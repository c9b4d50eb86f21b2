import Foundation

/// Data the tests read from the repository itself (never from outside it: a user's clone has
/// nothing beside it).
public enum RepositoryData {
    /// The repository root (two levels above this file's folder).
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The Loupe project's published measurements, copied into `data/loupedb` (CC BY 4.0, see its
    /// PROVENANCE.md). `$SYSPECT_LOUPEDB` points the tests at another copy.
    public static let loupedb: String = {
        if let dir = ProcessInfo.processInfo.environment["SYSPECT_LOUPEDB"], !dir.isEmpty { return dir }
        return root + "/data/loupedb"
    }()
}
