import Foundation

/// The committed seed corpus: `Tests/Fuzz/corpus/<target>/` (docs/fuzzing.md).
public enum Corpus {
    /// The files of `paths` (folders: their files, not recursively, dot files skipped), sorted.
    public static func files(_ paths: [String]) throws -> [String] {
        var result: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw CorpusError(description: "\(path) does not exist; give a corpus folder or file")
            }
            if isDirectory.boolValue {
                result += try FileManager.default.contentsOfDirectory(atPath: path)
                    .filter { !$0.hasPrefix(".") }.sorted().map { "\(path)/\($0)" }
            } else {
                result.append(path)
            }
        }
        return result
    }

    /// The contents of `files`.
    public static func load(_ files: [String]) throws -> [[UInt8]] {
        try files.map { file in
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CorpusError(description: "cannot read \(file)")
            }
            return Array(data)
        }
    }
}

public struct CorpusError: Error, CustomStringConvertible {
    public var description: String
}
