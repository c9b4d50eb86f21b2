import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A step of preparing a Debian package's suite that failed: `description` names the step, the
/// problem, the fix and the log.
public struct DebianSuiteError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Step: String, Sendable { case lookUp = "look-up", fetch, buildDependencies = "build-dep", build, tests, targets }
    public var step: Step
    public var message: String
    /// The step's log, when it wrote one.
    public var log: String?

    public init(step: Step, message: String, log: String? = nil) {
        self.step = step
        self.message = message
        self.log = log
    }

    public var description: String {
        "debian \(step.rawValue): \(message)" + (log.map { " (log: \($0))" } ?? "")
    }
}

/// The one apt source line a Debian machine needs for `apt-get source` (docs/suites.md).
public let debianSourceHint = "add a deb-src source, e.g. /etc/apt/sources.list.d/debian-src.sources with "
    + "\"Types: deb-src\", \"URIs: http://deb.debian.org/debian\", \"Suites: bookworm\", \"Components: main\" "
    + "(or the line `deb-src http://deb.debian.org/debian bookworm main` in a .list file), then apt-get update"

/// Turns a `debian:` spec into a runnable suite (docs/suites.md): fetches the source
/// (`apt-get source`), installs its build dependencies (`apt-get build-dep`), builds it once
/// (`debian/rules build` with `DEB_BUILD_OPTIONS=nocheck`, cached in the work directory by
/// package and version), finds the executables the build produced (the targets), and writes the
/// probe command: a script that copies the build tree into the probe's folder, mounts the copy
/// over the original path (the tree's absolute paths stay valid, probes run side by side) and
/// runs what `dh_auto_test` runs there.
public struct DebianSuite {
    /// `<work directory>/debian`: one folder per `<source>_<version>`.
    public var cacheDirectory: String
    /// Progress lines ("fetching hello 2.10-3…").
    public var log: (String) -> Void

    public init(workDirectory: String, log: @escaping (String) -> Void = { _ in }) {
        self.cacheDirectory = URL(fileURLWithPath: workDirectory).standardizedFileURL.path + "/debian"
        self.log = log
    }

    /// The runnable spec of `spec` (which has `debian`); `spec` itself when it has none.
    public func prepare(_ spec: AppSpec) throws(DebianSuiteError) -> AppSpec {
        guard let debian = spec.debian else { return spec }
        if cacheDirectory == "/tmp" || cacheDirectory.hasPrefix("/tmp/") {
            throw DebianSuiteError(step: .fetch, message: "the work directory \(cacheDirectory) is under /tmp, which each probe's "
                + "sandbox replaces; choose another --work-dir")
        }
        let source = try lookUp(debian.package)
        let folder = "\(cacheDirectory)/\(source.name)_\(source.version)"
        let tree = try build(source, folder: folder)
        let testCommand = try Self.testCommand(tree: tree, folder: folder)
        let targets: [String]
        let executables = Self.executables(under: tree)
        if let binaries = debian.binaries {
            targets = binaries
        } else {
            targets = DebianTargets.select(executables)
            guard !targets.isEmpty else {
                throw DebianSuiteError(step: .targets, message: "the build of \(source.name) produced no executable outside "
                    + "its test folders; name the targets with --binaries (or debian.binaries)")
            }
        }
        let script = "\(folder)/syspect-suite.sh"
        do {
            try DebianTargets.wrapper(package: source.name, testCommand: testCommand).write(toFile: script, atomically: true, encoding: .utf8)
        } catch {
            throw DebianSuiteError(step: .tests, message: "cannot write \(script): \(error.localizedDescription)")
        }
        var prepared = spec
        prepared.command = ["/bin/bash", script]
        prepared.targets = targets
        prepared.suite = SuiteSettings(resultsDirectory: "${SYSPECT_PROBE_DIR}/tree", outputFile: "${SYSPECT_PROBE_DIR}/suite.out",
                                       targetsFound: debian.binaries == nil,
                                       targetPaths: DebianTargets.locations(of: targets, among: executables, tree: tree))
        prepared.environment["SYSPECT_SUITE_BUILD"] = tree
        // Keep going after a failing test folder (the baseline's failures must not hide the
        // cases after them); the tests run, whatever the caller's DEB_BUILD_OPTIONS said.
        prepared.environment["MAKEFLAGS"] = prepared.environment["MAKEFLAGS"] ?? "-k"
        prepared.environment["DEB_BUILD_OPTIONS"] = ""
        // The source's version and the targets are part of the exploration: a new version or
        // other targets start a new one.
        prepared.text = spec.text + "\n# prepared by syspect: source \(source.name) \(source.version), test command: "
            + "\(testCommand), targets: \(targets.joined(separator: ", "))\n"
        log("targets: \(targets.joined(separator: ", "))")
        return prepared
    }

    // MARK: - Steps

    func lookUp(_ package: String) throws(DebianSuiteError) -> DebianSourceInfo {
        let result = Self.capture(["apt-cache", "showsrc", package])
        guard let info = DebianSourceInfo.parse(showsrc: result.output, package: package) else {
            throw DebianSuiteError(step: .lookUp, message: "no source package for \(package) in the apt sources; "
                + "check the name, or \(debianSourceHint)")
        }
        return info
    }

    /// The built tree (cached: a `.syspect-built` stamp marks a finished build).
    func build(_ source: DebianSourceInfo, folder: String) throws(DebianSuiteError) -> String {
        let stamp = "\(folder)/.syspect-built"
        if let tree = try? String(contentsOfFile: stamp, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
           FileManager.default.fileExists(atPath: "\(tree)/debian/rules") {
            log("\(source.name) \(source.version): built before (\(tree))")
            return tree
        }
        do {
            try? FileManager.default.removeItem(atPath: folder)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw DebianSuiteError(step: .fetch, message: "cannot create \(folder): \(error.localizedDescription); choose another --work-dir")
        }
        log("fetching the source of \(source.name) \(source.version)…")
        try step(.fetch, ["apt-get", "source", "--only-source", "\(source.name)=\(source.version)"], in: folder,
                 fix: "check the network and the deb-src source (\(debianSourceHint))")
        guard let tree = Self.sourceTree(in: folder) else {
            throw DebianSuiteError(step: .fetch, message: "apt-get source left no unpacked source tree in \(folder)", log: "\(folder)/fetch.log")
        }
        log("installing the build dependencies of \(source.name)…")
        try step(.buildDependencies, ["apt-get", "build-dep", "-y", "--only-source", "\(source.name)=\(source.version)"], in: folder,
                 fix: "apt-get build-dep needs root and the deb-src source")
        log("building \(source.name) (debian/rules build, tests not run)…")
        try step(.build, ["env", "DEB_BUILD_OPTIONS=nocheck", "debian/rules", "build"], in: tree, log: "\(folder)/build.log",
                 fix: "the package does not build on this machine; read the log")
        do { try tree.write(toFile: stamp, atomically: true, encoding: .utf8) } catch {}
        return tree
    }

    /// What `dh_auto_test` runs in `tree` (the package's `override_dh_auto_test` when its
    /// debian/rules has one); an error when it runs nothing.
    static func testCommand(tree: String, folder: String) throws(DebianSuiteError) -> String {
        let rules = (try? String(contentsOfFile: "\(tree)/debian/rules", encoding: .utf8)) ?? ""
        let override = DebianTargets.overridesTests(rules)
        let probe = capture(override ? ["make", "-n", "-f", "debian/rules", "override_dh_auto_test"] : ["dh_auto_test", "--no-act"],
                            in: tree, environment: ["DEB_BUILD_OPTIONS": ""])
        let log = "\(folder)/tests-dry-run.log"
        try? probe.output.write(toFile: log, atomically: true, encoding: .utf8)
        let commands = probe.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("dh_auto_test: warning") }
        guard probe.status == 0, !commands.isEmpty, !commands.allSatisfy({ $0 == "true" || $0 == ":" }) else {
            throw DebianSuiteError(step: .tests, message: "the package has no test suite that dh_auto_test runs "
                + "(debhelper found nothing to run\(override ? ", or debian/rules overrides dh_auto_test with nothing" : ""))", log: log)
        }
        return override ? "debian/rules override_dh_auto_test" : "dh_auto_test"
    }

    /// Runs one step with its output in `<folder>/<step>.log` (or `log`).
    func step(_ step: DebianSuiteError.Step, _ command: [String], in directory: String, log path: String? = nil,
              fix: String) throws(DebianSuiteError) {
        let log = path ?? "\(directory)/\(step.rawValue).log"
        let status = Self.run(command, in: directory, logPath: log)
        guard status == 0 else {
            throw DebianSuiteError(step: step, message: "`\(command.joined(separator: " "))` exited \(status); \(fix)", log: log)
        }
    }

    // MARK: - Processes and files

    static func run(_ command: [String], in directory: String, logPath: String, environment: [String: String] = [:]) -> Int32 {
        FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: logPath) else { return -1 }
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        env["DEBIAN_FRONTEND"] = "noninteractive"
        env.merge(environment) { $1 }
        process.environment = env
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return 127 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func capture(_ command: [String], in directory: String = "/", environment: [String: String] = [:]) -> (status: Int32, output: String) {
        let log = NSTemporaryDirectory() + "syspect-capture-\(getpid())-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let status = run(command, in: directory, logPath: log, environment: environment)
        return (status, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    /// The unpacked source tree `apt-get source` left in `folder` (the one folder with debian/rules).
    static func sourceTree(in folder: String) -> String? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return entries.sorted().map { "\(folder)/\($0)" }.first { FileManager.default.fileExists(atPath: "\($0)/debian/rules") }
    }

    /// Executable ELF programs under `tree` (relative paths), debian/ excluded.
    static func executables(under tree: String) -> [String] {
        var found: [String] = []
        guard let walker = FileManager.default.enumerator(atPath: tree) else { return [] }
        while let item = walker.nextObject() as? String {
            if item == "debian" || item.hasSuffix("/.git") || item == ".git" || item == ".pc" { walker.skipDescendants(); continue }
            let path = "\(tree)/\(item)"
            guard access(path, X_OK) == 0, let handle = FileHandle(forReadingAtPath: path) else { continue }
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue { try? handle.close(); continue }
            let header = (try? handle.read(upToCount: 4096)) ?? Data()
            try? handle.close()
            if DebianTargets.isExecutableELF(header) { found.append(item) }
        }
        return found.sorted()
    }
}

/// A source package as `apt-cache showsrc` describes it (pure).
public struct DebianSourceInfo: Sendable, Hashable {
    public var name: String
    public var version: String

    /// The highest version of the first stanza naming `package` as source or binary.
    public static func parse(showsrc text: String, package: String) -> DebianSourceInfo? {
        var best: DebianSourceInfo?
        for stanza in text.components(separatedBy: "\n\n") {
            var fields: [String: String] = [:]
            for line in stanza.split(separator: "\n") where !line.hasPrefix(" ") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            guard let name = fields["Package"], let version = fields["Version"] else { continue }
            let binaries = (fields["Binary"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard name == package || binaries.contains(package) else { continue }
            let info = DebianSourceInfo(name: name, version: version)
            if best == nil || (best!.name == name && DebianVersion.less(best!.version, version)) { best = info }
        }
        return best
    }
}

/// Debian version order (dpkg's: epoch, upstream, revision; `~` sorts before everything).
enum DebianVersion {
    static func less(_ a: String, _ b: String) -> Bool { compare(a, b) < 0 }

    static func compare(_ a: String, _ b: String) -> Int {
        func split(_ v: String) -> (Int, String, String) {
            var rest = Substring(v)
            var epoch = 0
            if let colon = rest.firstIndex(of: ":"), let e = Int(rest[..<colon]) { epoch = e; rest = rest[rest.index(after: colon)...] }
            if let dash = rest.lastIndex(of: "-") { return (epoch, String(rest[..<dash]), String(rest[rest.index(after: dash)...])) }
            return (epoch, String(rest), "")
        }
        let (ea, ua, ra) = split(a), (eb, ub, rb) = split(b)
        if ea != eb { return ea < eb ? -1 : 1 }
        let u = part(ua, ub)
        return u != 0 ? u : part(ra, rb)
    }

    /// dpkg's verrevcmp.
    static func part(_ a: String, _ b: String) -> Int {
        func order(_ c: Character?) -> Int {
            guard let c else { return 0 }
            if c == "~" { return -1 }
            if c.isNumber { return 0 }
            if c.isLetter { return Int(c.asciiValue ?? 0) }
            return Int(c.asciiValue ?? 0) + 256
        }
        var x = Array(a)[...], y = Array(b)[...]
        while !x.isEmpty || !y.isEmpty {
            while (x.first.map { !$0.isNumber } ?? false) || (y.first.map { !$0.isNumber } ?? false) {
                let ox = order(x.first.flatMap { $0.isNumber ? nil : $0 }), oy = order(y.first.flatMap { $0.isNumber ? nil : $0 })
                if ox != oy { return ox < oy ? -1 : 1 }
                if x.first.map({ !$0.isNumber }) ?? false { x = x.dropFirst() }
                if y.first.map({ !$0.isNumber }) ?? false { y = y.dropFirst() }
            }
            let dx = x.prefix { $0.isNumber }, dy = y.prefix { $0.isNumber }
            x = x.dropFirst(dx.count); y = y.dropFirst(dy.count)
            let nx = Int(String(dx)) ?? 0, ny = Int(String(dy)) ?? 0
            if nx != ny { return nx < ny ? -1 : 1 }
        }
        return 0
    }
}

/// The pure choices of a Debian suite: which executables are targets, the probe script.
public enum DebianTargets {
    /// Folder names of test programs (never targets).
    static let testFolders: Set<String> = ["test", "tests", "t", "testsuite", "testsuites", "unittests", "unit-tests", "check", "checks", "gtest", "fuzz", "fuzzing"]

    /// The targets among the built executables (paths relative to the tree): each program's
    /// basename, the test programs left out (under a test folder, or named test*, *_test,
    /// *-test, *_tests, *-tests), libtool's wrapped `.libs/NAME` as NAME and its `lt-NAME`.
    public static func select(_ executables: [String]) -> [String] {
        var names = Set<String>()
        for path in executables {
            let components = path.split(separator: "/").map(String.init)
            guard let base = components.last else { continue }
            if components.dropLast().contains(where: { testFolders.contains($0.lowercased()) }) { continue }
            let program = base.hasPrefix("lt-") ? String(base.dropFirst(3)) : base
            let lower = program.lowercased()
            if lower.hasPrefix("test") || ["_test", "-test", "_tests", "-tests", "_unittest"].contains(where: lower.hasSuffix) { continue }
            names.insert(program)
            if components.dropLast().last == ".libs" { names.insert("lt-" + program) }
        }
        return names.sorted()
    }

    /// Where each target is in the built tree (name → absolute path), for the static analysis:
    /// the program whose basename is the name (`lt-NAME`: libtool's `.libs/NAME`), the shortest
    /// path when several are; a name the tree does not hold is left out (found through PATH).
    public static func locations(of targets: [String], among executables: [String], tree: String) -> [String: String] {
        var found: [String: String] = [:]
        for target in targets {
            let program = target.hasPrefix("lt-") ? String(target.dropFirst(3)) : target
            let matches = executables.filter { path in
                let components = path.split(separator: "/")
                guard components.last.map(String.init) == program else { return false }
                return program == target || components.dropLast().last == ".libs"
            }
            if let best = matches.min(by: { ($0.count, $0) < ($1.count, $1) }) { found[target] = tree + "/" + best }
        }
        return found
    }

    /// Whether these first bytes of a file are an ELF program (not a shared library): ET_EXEC,
    /// or ET_DYN with a PT_INTERP program header (a position-independent executable).
    public static func isExecutableELF(_ header: Data) -> Bool {
        let b = [UInt8](header)
        guard b.count >= 64, b[0] == 0x7f, b[1] == 0x45, b[2] == 0x4c, b[3] == 0x46, b[4] == 2, b[5] == 1 else { return false }
        func u16(_ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 }
        func u64(_ o: Int) -> Int { (0..<8).reduce(0) { $0 | Int(b[o + $1]) << (8 * $1) } }
        let type = u16(16)
        if type == 2 { return true }
        guard type == 3 else { return false }
        let phoff = u64(32), phentsize = u16(54), phnum = u16(56)
        for i in 0..<phnum {
            let o = phoff + i * phentsize
            guard o + 4 <= b.count else { return false }  // headers beyond the bytes read: not a program we know
            if b[o] == 3 && b[o + 1] == 0 && b[o + 2] == 0 && b[o + 3] == 0 { return true }  // PT_INTERP
        }
        return false
    }

    /// Whether debian/rules has an `override_dh_auto_test` target.
    static func overridesTests(_ rules: String) -> Bool {
        rules.split(separator: "\n").contains { $0.hasPrefix("override_dh_auto_test:") || $0.hasPrefix("override_dh_auto_test ") }
    }

    /// The probe command's script: the build tree (`$SYSPECT_SUITE_BUILD`) copied into the probe
    /// folder and mounted over the original (inside the probe's own mount namespace), the tests
    /// run there, their output kept in `suite.out`.
    static func wrapper(package: String, testCommand: String) -> String {
        """
        #!/bin/bash
        # Written by syspect: one probe of the test suite of \(package) (docs/suites.md).
        set -e
        tree="$SYSPECT_PROBE_DIR/tree"
        cp -a --reflink=auto "$SYSPECT_SUITE_BUILD/." "$tree"
        # Result files left by an earlier run of the suite would read as this probe's.
        find "$tree" \\( -name '*.trs' -o -name 'testlog*.json' -o -name 'LastTest*.log' \\) -delete
        mount --bind "$tree" "$SYSPECT_SUITE_BUILD"
        cd "$SYSPECT_SUITE_BUILD"
        set +e
        \(testCommand) 2>&1 | tee "$SYSPECT_PROBE_DIR/suite.out"
        exit "${PIPESTATUS[0]}"

        """
    }
}
