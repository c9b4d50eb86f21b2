import Foundation
import SyspectCore
import SyspectReport
import SyspectStore

/// The downloads of one workload: JSON, CSV, an OCI seccomp profile, the loupedb layout as a tar.
public enum SiteExports {
    public static func download(
        _ m: SyspectCore.Measurement, format: ExportFormat, detail: () throws(SiteError) -> WorkloadDetail
    ) throws(SiteError) -> Download {
        let base = safeFileName("\(m.app)-\(m.workload)")
        switch format {
        case .json:
            return Download(data: try SiteJSON.encode(try detail()), contentType: "application/json", fileName: base + ".json")
        case .csv:
            return Download(data: Data(csv(m).utf8), contentType: "text/csv; charset=utf-8", fileName: base + ".csv")
        case .seccomp:
            let made = SeccompProfile.make(for: [ReportedRun(measurement: m)])
            do {
                return Download(data: try made.profile.jsonData(), contentType: "application/json", fileName: base + "-seccomp.json")
            } catch {
                throw SiteError(.internalServerError, "could not encode the seccomp profile: \(error)")
            }
        case .loupedb:
            return Download(data: loupedbTar(m), contentType: "application/x-tar", fileName: base + "-loupedb.tar")
        }
    }

    /// "number,name,verdict" per traced call, then the static set's size when known.
    public static func csv(_ m: SyspectCore.Measurement) -> String {
        var out = "# \(m.app) / \(m.workload) (\(m.kind.rawValue)), source \(m.source)\n"
        if SourceKind(source: m.source) == .loupedb { out += "# data: Loupe (ASPLOS'24) loupedb, CC BY 4.0\n" }
        out += "number,name,verdict,static_binary\n"
        for n in m.traced {
            let inStatic = m.staticBinary.map { $0.contains(n) ? "Y" : "N" } ?? ""
            out += "\(n),\(SyscallTable.displayName(of: n)),\(m.verdicts[n]!.rawValue),\(inStatic)\n"
        }
        return out
    }

    /// The loupedb run folder of `m` (`LoupedbWriter.folder`) with dyn.csv and the static CSVs,
    /// and a README naming the data's origin, as a POSIX (ustar) tar.
    public static func loupedbTar(_ m: SyspectCore.Measurement) -> Data {
        let folder = LoupedbWriter.folder(of: m)
        var files: [(String, String)] = [("\(folder)/data/dyn.csv", LoupedbWriter.dynCSV(m))]
        if let s = m.staticBinary { files.append(("\(folder)/data/static_binary.csv", LoupedbWriter.staticCSV(s))) }
        if let s = m.staticSources { files.append(("\(folder)/data/static_sources.csv", LoupedbWriter.staticCSV(s))) }
        var readme = """
            # \(m.app) / \(m.workload) in the loupedb layout

            Served by `syspect serve` (source \(m.source)). Read it with Loupe's tools or
            `syspect db import-loupedb DIR` after `tar -xf`.

            """
        if SourceKind(source: m.source) == .loupedb {
            readme += "\n" + BundledLoupedb.attribution + "\n"
        }
        files.append(("README.md", readme))
        return Tar.archive(files.map { (path: $0.0, contents: Data($0.1.utf8)) })
    }

    /// A file name of letters, digits and `._-+` only.
    public static func safeFileName(_ s: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+")
        let cleaned = String(s.map { allowed.contains($0) ? $0 : "_" })
        return cleaned.isEmpty ? "_" : cleaned
    }
}

/// A minimal POSIX ustar writer (regular files only, mode 0644, mtime 0).
public enum Tar {
    public static func archive(_ files: [(path: String, contents: Data)]) -> Data {
        var out = Data()
        for file in files {
            out.append(header(path: file.path, size: file.contents.count))
            out.append(file.contents)
            let pad = (512 - file.contents.count % 512) % 512
            out.append(Data(count: pad))
        }
        out.append(Data(count: 1024))
        return out
    }

    /// One 512-byte header. Paths over 100 bytes are split into ustar's prefix (155) and name (100).
    static func header(path: String, size: Int) -> Data {
        var h = [UInt8](repeating: 0, count: 512)
        var name = Array(path.utf8), prefix: [UInt8] = []
        if name.count > 100, let cut = name.prefix(155).lastIndex(of: UInt8(ascii: "/")), name.count - cut - 1 <= 100 {
            prefix = Array(name[..<cut])
            name = Array(name[(cut + 1)...])
        }
        func put(_ bytes: [UInt8], at offset: Int, width: Int) {
            for (i, b) in bytes.prefix(width).enumerated() { h[offset + i] = b }
        }
        func octal(_ value: Int, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
        }
        put(name, at: 0, width: 100)
        put(octal(0o644, width: 8), at: 100, width: 8)
        put(octal(0, width: 8), at: 108, width: 8)
        put(octal(0, width: 8), at: 116, width: 8)
        put(octal(size, width: 12), at: 124, width: 12)
        put(octal(0, width: 12), at: 136, width: 12)
        put(Array(repeating: UInt8(ascii: " "), count: 8), at: 148, width: 8)
        h[156] = UInt8(ascii: "0")
        put(Array("ustar".utf8) + [0], at: 257, width: 6)
        put(Array("00".utf8), at: 263, width: 2)
        put(prefix, at: 345, width: 155)
        let sum = h.reduce(0) { $0 + Int($1) }
        put(octal(sum, width: 7) + [UInt8(ascii: " ")], at: 148, width: 8)
        return Data(h)
    }
}

/// The site's JSON: sorted keys, ISO 8601 dates, slashes unescaped.
public enum SiteJSON {
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return e
    }

    public static func encode<T: Encodable>(_ value: T) throws(SiteError) -> Data {
        do { return try encoder().encode(value) } catch {
            throw SiteError(.internalServerError, "could not encode the answer: \(error)")
        }
    }
}
