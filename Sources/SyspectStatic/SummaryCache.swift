import Foundation
import SyspectCore

/// Where per-object summaries are kept between analyses (issue 13, Must 5).
///
/// For the integration side: `StaticAnalyzer` calls `summary(for:)` with the object's key before
/// disassembling it and `store(_:for:)` after; any store can implement this protocol (e.g. the
/// SQLite results store, keyed by `ObjectKey.id`) and be passed as `StaticAnalyzer(cache:)`.
/// A summary whose `version` differs from `StaticAnalysis.analyserVersion` must be ignored
/// (`StaticAnalyzer` checks it as well). Implementations must be safe to call from one thread at
/// a time; errors are swallowed (a cache miss only costs time).
public protocol ObjectSummaryCache: Sendable {
    func summary(for key: ObjectKey) -> ObjectSummary?
    func store(_ summary: ObjectSummary, for key: ObjectKey)
}

/// What identifies one object's contents: its build-id and file size (`strip` keeps the
/// build-id but not the symbols the summary is made from), or without a build-id the path, size
/// and modification time; always with the analyser version.
public struct ObjectKey: Sendable, Hashable, Codable {
    public var buildID: String
    public var path: String
    public var size: Int
    public var modificationTime: Int
    public var version: Int

    public init(buildID: String, path: String, size: Int, modificationTime: Int, version: Int = StaticAnalysis.analyserVersion) {
        self.buildID = buildID
        self.path = path
        self.size = size
        self.modificationTime = modificationTime
        self.version = version
    }

    /// A file-name-safe identifier: "v2-<build-id>-<size>" or "v2-path-<hash of path,size,mtime>".
    public var id: String {
        if !buildID.isEmpty { return "v\(version)-\(buildID)-\(size)" }
        return "v\(version)-path-" + String(fnv1a64("\(path)\u{0}\(size)\u{0}\(modificationTime)"), radix: 16)
    }
}

/// The default cache: one JSON file per object under `$XDG_CACHE_HOME/syspect/static/`
/// (`~/.cache/syspect/static/` without XDG_CACHE_HOME), named by `ObjectKey.id`.
public struct FileSummaryCache: ObjectSummaryCache {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/syspect/static" }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + "/.cache/syspect/static"
    }

    private func file(_ key: ObjectKey) -> URL { URL(fileURLWithPath: directory).appendingPathComponent(key.id + ".json") }

    public func summary(for key: ObjectKey) -> ObjectSummary? {
        guard let data = try? Data(contentsOf: file(key)),
              let s = try? JSONDecoder().decode(ObjectSummary.self, from: data),
              s.version == key.version, s.buildID == key.buildID, s.fileSize == key.size else { return nil }
        if key.buildID.isEmpty && (s.path != key.path || s.fileSize != key.size || s.modificationTime != key.modificationTime) { return nil }
        return s
    }

    public func store(_ summary: ObjectSummary, for key: ObjectKey) {
        guard (try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)) != nil,
              let data = try? JSONEncoder().encode(summary) else { return }
        let target = file(key)
        let temp = target.deletingLastPathComponent().appendingPathComponent(".\(key.id).\(getpid()).tmp")
        guard (try? data.write(to: temp)) != nil else { return }
        if rename(temp.path, target.path) != 0 { try? FileManager.default.removeItem(at: temp) }
    }
}
