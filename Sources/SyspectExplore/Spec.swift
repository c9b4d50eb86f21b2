import Foundation
import SyspectCore
import Yams

/// When the test script may start: once a TCP port accepts connections, or after a fixed delay.
public enum Readiness: Sendable, Hashable, Codable {
    /// Wait until 127.0.0.1:`port` (inside the probe's network namespace) accepts a connection.
    case port(Int)
    /// Wait this many seconds.
    case delay(Double)
}

/// Which direction of the test script's metric is better.
public enum MetricDirection: String, Sendable, Hashable, Codable {
    case higher
    case lower
}

/// An application spec file (see docs/explore.md): one application,
/// one workload, how to start it, how to exercise it and when it passed.
public struct AppSpec: Sendable, Hashable {
    public var name: String
    public var workload: String
    public var kind: WorkloadKind
    /// The command line; `command[0]` resolved against the spec's directory when it contains a "/".
    public var command: [String]
    /// Binaries whose system calls are analysed (real path or basename).
    public var targets: [String]
    /// Absolute path of the test script, or nil when the command itself is the workload.
    public var script: String?
    public var ready: Readiness?
    public var readyTimeout: Double
    public var runTimeout: Double
    public var replicas: Int
    public var environment: [String: String]
    public var metricDirection: MetricDirection
    /// What the test script's metric is, e.g. "requests/s" (`metric.name`; for display).
    public var metricName: String?
    /// The directory holding the spec file (relative paths are resolved against it).
    public var directory: String
    /// The spec file's text (stored with the exploration so a result can be reproduced).
    public var text: String
    /// A test suite judged test case by test case: where its results are (`results:`, or
    /// written by `DebianSuite.prepare`; docs/suites.md). nil: the exit status is the verdict.
    public var suite: SuiteSettings? = nil
    /// The Debian package whose test suite is the workload (`debian:`); `DebianSuite.prepare`
    /// makes the spec runnable.
    public var debian: DebianSource? = nil

    public init(
        name: String, workload: String, kind: WorkloadKind, command: [String], targets: [String],
        script: String? = nil, ready: Readiness? = nil, readyTimeout: Double = 10,
        runTimeout: Double = 60, replicas: Int = 3, environment: [String: String] = [:],
        metricDirection: MetricDirection = .higher, directory: String, text: String = "",
        metricName: String? = nil
    ) {
        self.name = name
        self.workload = workload
        self.kind = kind
        self.command = command
        self.targets = targets
        self.script = script
        self.ready = ready
        self.readyTimeout = readyTimeout
        self.runTimeout = runTimeout
        self.replicas = replicas
        self.environment = environment
        self.metricDirection = metricDirection
        self.metricName = metricName
        self.directory = directory
        self.text = text
    }

    /// True when the only target is the launched command itself: whole-syscall stub/fake can then
    /// run in the kernel (seccomp `RET_ERRNO`) without the tracer.
    public var targetIsCommand: Bool {
        guard targets.count == 1, let first = command.first else { return false }
        let target = targets[0]
        if target == first || target == (first as NSString).lastPathComponent { return true }
        guard let a = resolveExecutable(first), let b = resolveExecutable(target) else { return false }
        return a == b
    }
}

/// A problem with a spec file; `description` is the one-line message the CLI prints.
public struct SpecError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    /// 1-based line of the offending key or value, when known.
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

extension AppSpec {
    /// Reads and validates the spec file at `path`.
    public static func load(path: String) throws(SpecError) -> AppSpec {
        let url = URL(fileURLWithPath: path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SpecError(file: path, line: nil, message: "cannot read the spec file (it does not exist, is a folder or is not readable); check the path")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SpecError(file: path, line: firstInvalidUTF8Line(data), message: "not UTF-8 text; save the spec file as UTF-8")
        }
        return try parse(text: text, file: path, directory: url.deletingLastPathComponent().path)
    }

    /// The 1-based line of the first byte sequence that is not UTF-8 (nil: all valid).
    static func firstInvalidUTF8Line(_ data: Data) -> Int? {
        var bytes = data.makeIterator()
        var decoder = UTF8()
        var line = 1
        while true {
            switch decoder.decode(&bytes) {
            case .scalarValue(let scalar): if scalar == "\n" { line += 1 }
            case .emptyInput: return nil
            case .error: return line
            }
        }
    }

    /// Parses spec text; `file` names it in errors, `directory` resolves relative paths.
    public static func parse(text: String, file: String, directory: String) throws(SpecError) -> AppSpec {
        var reader = SpecReader(file: file)
        return try reader.read(text: text, directory: directory)
    }
}

/// Walks the YAML node tree by hand so that every error can name the key and its line.
private struct SpecReader {
    let file: String

    init(file: String) { self.file = file }

    static let topKeys: Set<String> = [
        "name", "workload", "command", "targets", "script", "ready", "timeouts", "replicas",
        "environment", "metric", "debian", "results",
    ]

    func fail(_ node: Node?, _ message: String) -> SpecError {
        SpecError(file: file, line: node?.mark?.line, message: message)
    }

    mutating func read(text: String, directory: String) throws(SpecError) -> AppSpec {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw fail(nil, "the spec file is empty; it needs at least name, workload and command")
            }
            root = node
        } catch let error as SpecError {
            throw error
        } catch let error as YamlError {
            throw yamlError(error)
        } catch {
            throw fail(nil, "not valid YAML (\(InputText.escaped("\(error)"))); check the file's syntax")
        }
        // A `debian:` spec gets its name, workload, command and targets from the package (Suite/).
        let (top, debian) = try SuiteSpecReader.debianDefaults(try mapping(root, "the spec file", allowed: Self.topKeys), file: file)

        let name = try requiredString(top, "name", parent: root)
        guard let workloadNode = top["workload"] else {
            throw fail(root, "missing required field `workload` (with `name` and `kind`)")
        }
        let workload = try mapping(workloadNode, "workload", allowed: ["name", "kind"])
        let workloadName = try requiredString(workload, "name", parent: workloadNode, prefix: "workload.")
        let kindNode = workload["kind"]
        guard let kindNode else {
            throw fail(workloadNode, "missing required field `workload.kind` (health, benchmark or suite)")
        }
        guard let kindText = kindNode.scalar?.string, let kind = WorkloadKind(rawValue: kindText) else {
            throw fail(kindNode, "`workload.kind` must be health, benchmark or suite")
        }

        guard let commandNode = top["command"] else {
            throw fail(root, "missing required field `command` (the command line that starts the application)")
        }
        let command = try stringList(commandNode, "command")
        guard !command.isEmpty, !command[0].isEmpty else {
            throw fail(commandNode, "`command` must not be empty")
        }
        let resolvedCommand = [resolvePath(command[0], directory: directory, onlyIfRelativePath: true)]
            + command.dropFirst()

        var targets = [(command[0] as NSString).lastPathComponent]
        if let node = top["targets"] {
            targets = try stringList(node, "targets")
            guard !targets.isEmpty else { throw fail(node, "`targets` must list at least one binary") }
        }

        var script: String?
        if let node = top["script"] {
            guard let value = node.scalar?.string, !value.isEmpty else {
                throw fail(node, "`script` must be a path to an executable test script")
            }
            let path = resolvePath(value, directory: directory, onlyIfRelativePath: false)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
                throw fail(node, "test script \(InputText.escaped(path, limit: 200)) does not exist; fix `script` (paths are relative to the spec file)")
            }
            guard FileManager.default.isExecutableFile(atPath: path) else {
                let shown = InputText.escaped(path, limit: 200)
                throw fail(node, "test script \(shown) is not executable; run: chmod +x \(shown)")
            }
            script = path
        }

        var ready: Readiness?
        if let node = top["ready"] {
            ready = try readiness(node)
            if script == nil {
                throw fail(node, "`ready` only makes sense with `script`; remove it or add a test script")
            }
        }

        var readyTimeout = 10.0
        var runTimeout = 60.0
        if let node = top["timeouts"] {
            let timeouts = try mapping(node, "timeouts", allowed: ["ready", "run"])
            if let n = timeouts["ready"] { readyTimeout = try positiveNumber(n, "timeouts.ready") }
            if let n = timeouts["run"] { runTimeout = try positiveNumber(n, "timeouts.run") }
        }

        var replicas = 3
        if let node = top["replicas"] {
            guard let value = node.scalar.flatMap({ Int($0.string) }), (1...100).contains(value) else {
                throw fail(node, "`replicas` must be a whole number from 1 to 100")
            }
            replicas = value
        }

        var environment: [String: String] = [:]
        if let node = top["environment"] {
            guard case .mapping(let map) = node else {
                throw fail(node, "`environment` must be a mapping of NAME: value")
            }
            for (key, value) in map {
                guard let k = key.scalar?.string, !k.isEmpty, let v = value.scalar?.string else {
                    throw fail(key, "`environment` entries must be NAME: value (strings)")
                }
                environment[k] = v
            }
        }

        var direction = MetricDirection.higher
        var metricName: String?
        if let node = top["metric"] {
            let metric = try mapping(node, "metric", allowed: ["better", "name"])
            if let n = metric["name"] {
                guard let v = n.scalar?.string, !v.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw fail(n, "`metric.name` must be a non-empty string saying what the number is, e.g. requests/s")
                }
                metricName = v
            }
            if let n = metric["better"] {
                guard let v = n.scalar?.string, let d = MetricDirection(rawValue: v) else {
                    throw fail(n, "`metric.better` must be higher or lower")
                }
                direction = d
            }
        }

        var spec = AppSpec(
            name: name, workload: workloadName, kind: kind, command: resolvedCommand, targets: targets,
            script: script, ready: ready, readyTimeout: readyTimeout, runTimeout: runTimeout,
            replicas: replicas, environment: environment, metricDirection: direction,
            directory: directory, text: text, metricName: metricName)
        spec.debian = debian
        spec.suite = try SuiteSpecReader.results(top["results"], kind: kind, hasScript: script != nil, file: file)
        return spec
    }

    // MARK: - Node helpers

    /// A mapping's entries by key; unknown keys are errors naming the key, its line and the allowed keys.
    func mapping(_ node: Node, _ what: String, allowed: Set<String>) throws(SpecError) -> [String: Node] {
        guard case .mapping(let map) = node else {
            throw fail(node, "\(what) must be a mapping of key: value")
        }
        var result: [String: Node] = [:]
        for (key, value) in map {
            guard let k = key.scalar?.string else { throw fail(key, "keys in \(what) must be plain words") }
            guard allowed.contains(k) else {
                let hint = suggestion(for: k, among: allowed).map { "; did you mean `\($0)`?" } ?? ""
                let list = allowed.sorted().joined(separator: ", ")
                throw fail(key, "unknown key `\(InputText.escaped(k))` in \(what)\(hint) (allowed: \(list))")
            }
            guard result[k] == nil else { throw fail(key, "key `\(InputText.escaped(k))` appears twice in \(what); remove one") }
            result[k] = value
        }
        return result
    }

    func requiredString(_ map: [String: Node], _ key: String, parent: Node, prefix: String = "") throws(SpecError) -> String {
        guard let node = map[key] else {
            throw fail(parent, "missing required field `\(prefix)\(key)`")
        }
        guard let value = node.scalar?.string, !value.isEmpty else {
            throw fail(node, "`\(prefix)\(key)` must be a non-empty string")
        }
        return value
    }

    func stringList(_ node: Node, _ what: String) throws(SpecError) -> [String] {
        switch node {
        case .sequence(let seq):
            var result: [String] = []
            for item in seq {
                guard let s = item.scalar?.string else {
                    throw fail(item, "`\(what)` must be a list of strings")
                }
                result.append(s)
            }
            return result
        case .scalar(let s):
            // A single word is accepted as a one-element list; no shell splitting is done.
            return [s.string]
        default:
            throw fail(node, "`\(what)` must be a list of strings, e.g. [redis-server, --port, \"6379\"]")
        }
    }

    func readiness(_ node: Node) throws(SpecError) -> Readiness {
        let map = try mapping(node, "ready", allowed: ["port", "delay"])
        switch (map["port"], map["delay"]) {
        case (let p?, nil):
            guard let port = p.scalar.flatMap({ Int($0.string) }), (1...65535).contains(port) else {
                throw fail(p, "`ready.port` must be a TCP port number (1-65535)")
            }
            return .port(port)
        case (nil, let d?):
            return .delay(try nonNegativeNumber(d, "ready.delay"))
        case (.some, .some):
            throw fail(node, "`ready` takes either `port` or `delay`, not both")
        case (nil, nil):
            throw fail(node, "`ready` needs `port: N` or `delay: SECONDS`")
        }
    }

    func positiveNumber(_ node: Node, _ what: String) throws(SpecError) -> Double {
        let v = try nonNegativeNumber(node, what)
        guard v > 0 else { throw fail(node, "`\(what)` must be a number of seconds greater than 0") }
        return v
    }

    func nonNegativeNumber(_ node: Node, _ what: String) throws(SpecError) -> Double {
        guard let v = node.scalar.flatMap({ Double($0.string) }), v >= 0, v.isFinite else {
            throw fail(node, "`\(what)` must be a number of seconds")
        }
        return v
    }

    /// One line for any Yams error (its own description spans lines: it quotes the YAML).
    func yamlError(_ error: YamlError) -> SpecError {
        let fix = "; check the indentation and quoting there"
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            if problem.hasPrefix("Maximum nesting level") {  // libyaml's limit (1000) names its C API
                return SpecError(file: file, line: mark.line, message: "not valid YAML: nested over 1000 levels deep; a spec needs 3 at most: close the brackets or fix the indentation")
            }
            return SpecError(file: file, line: mark.line, message: "not valid YAML: \(InputText.escaped(problem, limit: 120))\(fix)")
        case .reader(let problem, let offset, _, let yaml):
            // `offset` counts Characters; "\r\n" is one, like libyaml's line break.
            let line = offset.map { offset in 1 + yaml.prefix(offset).filter(\.isNewline).count }
            return SpecError(file: file, line: line, message: "not valid YAML text: \(InputText.escaped(problem, limit: 120)); remove or replace that character")
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams lists every occurrence (non-scalar keys as "<uncovertable>"): name three.
            var names: [String] = []
            for key in duplicates.sorted() where !names.contains(key) { names.append(key) }
            let shown = names.prefix(3).map { $0 == "<uncovertable>" ? "a non-scalar key" : "`\(InputText.escaped($0, limit: 40))`" }
            let message = names.count == 1
                ? "key \(shown[0]) appears twice; remove one"
                : "keys \(shown.joined(separator: ", "))\(names.count > 3 ? " and \(names.count - 3) more" : "") appear twice; keep one of each"
            return SpecError(file: file, line: context.mark.line > 0 ? context.mark.line : nil, message: message)
        default:
            return SpecError(file: file, line: nil, message: "not valid YAML (\(InputText.escaped("\(error)"))); check the file's syntax")
        }
    }
}

/// The allowed key closest to a misspelled one (edit distance ≤ 2), for "did you mean".
func suggestion(for key: String, among allowed: Set<String>) -> String? {
    let scored = allowed.map { ($0, editDistance(key.lowercased(), $0)) }.filter { $0.1 <= 2 }
    return scored.min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}

/// Resolves a spec path against the spec's directory. A command word without "/" is left alone
/// (looked up in PATH at launch) when `onlyIfRelativePath`.
func resolvePath(_ value: String, directory: String, onlyIfRelativePath: Bool) -> String {
    if value.hasPrefix("/") { return value }
    if onlyIfRelativePath && !value.contains("/") { return value }
    return URL(fileURLWithPath: directory).appendingPathComponent(value).standardizedFileURL.path
}

/// The real path of an executable name or path (PATH lookup for bare names), or nil.
func resolveExecutable(_ name: String) -> String? {
    if name.contains("/") {
        return URL(fileURLWithPath: name).resolvingSymlinksInPath().path
    }
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for dir in path.split(separator: ":") {
        let candidate = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) {
            return URL(fileURLWithPath: candidate).resolvingSymlinksInPath().path
        }
    }
    return nil
}
