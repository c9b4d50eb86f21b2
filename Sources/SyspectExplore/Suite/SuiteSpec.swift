import Foundation
import SyspectCore
import Yams

/// A spec's `debian:` section: the Debian source package whose own test suite is the workload
/// (docs/suites.md). `DebianSuite.prepare` turns such a spec into a runnable one.
public struct DebianSource: Sendable, Hashable, Codable {
    /// A source or binary package name (`apt-get source` accepts both).
    public var package: String
    /// The target executables (basenames or paths in the build tree); nil: found after the build.
    public var binaries: [String]?

    public init(package: String, binaries: [String]? = nil) {
        self.package = package
        self.binaries = binaries
    }

    /// The spec text of `syspect explore --debian PACKAGE [--binaries LIST]` (stored with the
    /// exploration; the same options resume the same exploration).
    public var specText: String {
        var text = "name: \(package)\ndebian:\n  package: \(package)\n"
        if let binaries { text += "  binaries: [\(binaries.joined(separator: ", "))]\n" }
        return text
    }
}

/// The spec keys of suites, read by `SpecReader` (Spec.swift) through these two functions.
enum SuiteSpecReader {
    /// Keys a `debian:` spec may not have: syspect writes them from the package.
    static let replacedByDebian = ["command", "targets", "script", "ready", "results", "metric"]

    /// With a `debian:` section: `top` completed with what the package gives (name = the
    /// package, workload `suite-debian-tests` of kind suite: loupedb tells a workload's kind by
    /// the `suite` prefix; a placeholder command and targets until `DebianSuite.prepare`), and
    /// the section. Without one: `top` as it is and nil.
    static func debianDefaults(_ top: [String: Node], file: String) throws(SpecError) -> ([String: Node], DebianSource?) {
        guard let node = top["debian"] else { return (top, nil) }
        func fail(_ node: Node?, _ message: String) -> SpecError { SpecError(file: file, line: node?.mark?.line, message: message) }
        guard case .mapping(let map) = node else {
            throw fail(node, "`debian` must be a mapping with `package` (and optionally `binaries`)")
        }
        var package: String?, binaries: [String]?
        for (key, value) in map {
            switch key.scalar?.string {
            case "package":
                guard let v = value.scalar?.string, isPackageName(v) else {
                    throw fail(value, "`debian.package` must be a Debian package name (lower case letters, digits, + - .), e.g. hello")
                }
                package = v
            case "binaries":
                let list: [String]
                switch value {
                case .sequence(let items): list = items.compactMap { $0.scalar?.string }.filter { !$0.isEmpty }
                case .scalar(let s): list = s.string.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                default: list = []
                }
                guard !list.isEmpty else { throw fail(value, "`debian.binaries` must list at least one executable, e.g. [hello]") }
                binaries = list
            default:
                throw fail(key, "unknown key `\(InputText.escaped(key.scalar?.string ?? "?"))` in debian (allowed: binaries, package)")
            }
        }
        guard let package else { throw fail(node, "missing required field `debian.package` (the source package, e.g. hello)") }
        for key in replacedByDebian {
            if let given = top[key] {
                throw fail(given, "`\(key)` cannot be set with `debian`: syspect runs the package's own test suite (remove `\(key)`)")
            }
        }
        var completed = top
        completed["name"] = top["name"] ?? Node(package)
        completed["workload"] = top["workload"] ?? Node([(Node("name"), Node("suite-debian-tests")), (Node("kind"), Node("suite"))])
        completed["command"] = Node([Node("dh_auto_test")])
        completed["targets"] = Node((binaries ?? [package]).map { Node($0) })
        // A whole suite takes longer than a health check (adaptive shortens it after the baseline).
        completed["timeouts"] = top["timeouts"] ?? Node([(Node("run"), Node("600"))])
        completed["debian"] = nil
        return (completed, DebianSource(package: package, binaries: binaries))
    }

    /// A hand-written suite's `results:` section: where its result files are
    /// (`directory`, default the probe folder) and its output (`output`, default the command's
    /// standard output). Only for `workload.kind: suite` without a test script.
    static func results(_ node: Node?, kind: WorkloadKind, hasScript: Bool, file: String) throws(SpecError) -> SuiteSettings? {
        guard let node else { return nil }
        func fail(_ node: Node?, _ message: String) -> SpecError { SpecError(file: file, line: node?.mark?.line, message: message) }
        guard kind == .suite, !hasScript else {
            throw fail(node, "`results` is for a test suite that is the command (workload.kind: suite, no `script`)")
        }
        guard case .mapping(let map) = node else {
            throw fail(node, "`results` must be a mapping with `directory` and/or `output`")
        }
        var settings = SuiteSettings(resultsDirectory: "${SYSPECT_PROBE_DIR}")
        for (key, value) in map {
            guard let v = value.scalar?.string, !v.isEmpty else {
                throw fail(value, "`results.\(key.scalar?.string ?? "?")` must be a path (may start with ${SYSPECT_PROBE_DIR})")
            }
            switch key.scalar?.string {
            case "directory": settings.resultsDirectory = v
            case "output": settings.outputFile = v
            default:
                throw fail(key, "unknown key `\(InputText.escaped(key.scalar?.string ?? "?"))` in results (allowed: directory, output)")
            }
        }
        return settings
    }

    static func isPackageName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count >= 2,
              CharacterSet.lowercaseLetters.contains(first) || CharacterSet.decimalDigits.contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0) }
    }
}
