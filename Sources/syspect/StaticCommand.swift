import ArgumentParser
import Foundation
import SyspectCore
import SyspectExplore
import SyspectStatic

/// `syspect static`: the system calls binaries and their libraries can make, read from the
/// machine code (issue 13; docs/static.md). Printing only: `StaticAnalyzer` does the work.
struct StaticCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "static",
        abstract: "List the system calls binaries and the libraries they load can make (static analysis).",
        discussion: """
            Reads each binary and every shared library the loader would bind on this machine, \
            finds every syscall / int 0x80 / sysenter instruction and glibc syscall() call, resolves \
            the number reaching it, and charges each binary only the library functions its call graph \
            reaches (--no-call-graph: whole libraries, the coarse bound). Unresolved sites are counted \
            and listed. Per-object results are cached by build-id ($XDG_CACHE_HOME/syspect/static).
            """)

    @Argument(help: "Executables or shared libraries to analyse.")
    var binaries: [String] = []

    @Option(help: ArgumentHelp("Analyse the target binaries of this spec file.", valueName: "SPEC"))
    var spec: String?

    @Flag(help: "Print the analysis as JSON (the StaticAnalysis value).")
    var json = false

    @Flag(name: .customLong("no-call-graph"), help: "Charge every function of every loaded object (coarse upper bound).")
    var noCallGraph = false

    @Flag(name: .customLong("no-cache"), help: "Neither read nor write the per-object cache.")
    var noCache = false

    @Flag(help: "List every site (address, function, how the number was found).")
    var sites = false

    func validate() throws {
        if binaries.isEmpty && spec == nil {
            throw ValidationError("give the binaries to analyse, or --spec SPEC")
        }
        if !binaries.isEmpty && spec != nil {
            throw ValidationError("give either binaries or --spec, not both")
        }
        if binaries.contains(where: \.isEmpty) { throw ValidationError("an empty binary path was given") }
    }

    func run() throws {
        var environment = ProcessInfo.processInfo.environment
        var targets: [String] = []
        if let spec {
            let appSpec: AppSpec
            do { appSpec = try AppSpec.load(path: spec) } catch { fail(error.description) }
            environment.merge(appSpec.environment) { _, new in new }
            for target in appSpec.targets {
                let located = target.contains("/") ? target : locateExecutable(target, searchPath: environment["PATH"])
                guard let located, FileManager.default.fileExists(atPath: located) else {
                    fail("target \(target) of \(spec) is not installed (not found in PATH, /usr/sbin, /sbin); install it or fix `targets`")
                }
                targets.append(located)
            }
        } else {
            for b in binaries {
                if !b.contains("/"), !FileManager.default.fileExists(atPath: b), let located = locateExecutable(b) {
                    targets.append(located)
                } else {
                    targets.append(b.hasPrefix("/") ? b : FileManager.default.currentDirectoryPath + "/" + b)
                }
            }
        }
        let analyzer = StaticAnalyzer(
            mode: noCallGraph ? .wholeLibrary : .callGraph,
            cache: noCache ? nil : FileSummaryCache(directory: FileSummaryCache.defaultDirectory()),
            resolver: .system(environment: environment))
        let start = Date()
        let analysis: StaticAnalysis
        do { analysis = try analyzer.analyse(targets) } catch { fail(error.description) }
        let seconds = Date().timeIntervalSince(start)

        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(analysis), as: UTF8.self))
        } else {
            print(StaticAnalysisText.render(analysis, seconds: seconds, listSites: sites), terminator: "")
        }
        for name in analysis.missingLibraries {
            warn("warning: library \(name) was not found: its system calls are not in the result (install it, or set LD_LIBRARY_PATH)")
        }
    }

    private func warn(_ message: String) {
        FileHandle.standardError.write(Data("syspect static: \(message)\n".utf8))
    }

    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("syspect static: \(message)\n".utf8))
        Foundation.exit(1)
    }
}

/// The text form of a `StaticAnalysis` (pure).
enum StaticAnalysisText {
    static func render(_ a: StaticAnalysis, seconds: Double? = nil, listSites: Bool = false) -> String {
        var out = ""
        let mode = a.mode == .callGraph ? "call graph" : "whole libraries (--no-call-graph)"
        let time = seconds.map { String(format: ", %.2f s", $0) } ?? ""
        out += "static analysis of \(a.targets.joined(separator: ", ")) (\(mode); \(a.objects.count) objects\(time))\n"
        // Per syscall: resolved sites and the objects holding them.
        var perCall: [Int: (sites: Int, objects: [String])] = [:]
        var perI386: [Int: Int] = [:]
        for o in a.objects {
            let name = o.soname ?? (o.path as NSString).lastPathComponent
            for (n, s) in o.sites {
                perCall[n, default: (0, [])].sites += s.count
                perCall[n, default: (0, [])].objects.append(name)
            }
            for (n, s) in o.i386Sites { perI386[n, default: 0] += s.count }
        }
        let width = max(12, (perCall.keys.map { SyscallTable.displayName(of: $0).count }.max() ?? 0) + 2)
        out += "syscall".padding(toLength: width, withPad: " ", startingAt: 0) + "number  sites  objects\n"
        for n in perCall.keys.sorted() {
            let e = perCall[n]!
            out += SyscallTable.displayName(of: n).padding(toLength: width, withPad: " ", startingAt: 0)
                + String(n).padding(toLength: 8, withPad: " ", startingAt: 0)
                + String(e.sites).padding(toLength: 7, withPad: " ", startingAt: 0)
                + e.objects.joined(separator: ", ") + "\n"
        }
        if !perI386.isEmpty {
            out += "i386 (int $0x80 / sysenter): "
                + perI386.keys.sorted().map { "\(SyscallTable.displayName(of: $0, arch: .i386)) (\(perI386[$0]!))" }.joined(separator: ", ") + "\n"
        }
        var perX32: [Int: Int] = [:]
        for o in a.objects { for (n, s) in o.x32Sites { perX32[n, default: 0] += s.count } }
        if !perX32.isEmpty {
            out += "x32 (syscall with bit 30): "
                + perX32.keys.sorted().map { "\(SyscallTable.displayName(of: $0, arch: .x32)) (\(perX32[$0]!))" }.joined(separator: ", ") + "\n"
        }
        if listSites {
            for o in a.objects {
                for (n, list) in o.sites.sorted(by: { $0.key < $1.key }) {
                    for s in list {
                        out += "  \(SyscallTable.displayName(of: n)) \((o.path as NSString).lastPathComponent) 0x\(String(s.address, radix: 16)) \(s.function ?? "?") \(s.kind.rawValue)\(s.note.map { " (\($0))" } ?? "")\n"
                    }
                }
            }
        }
        let unresolved = a.objects.flatMap { o in o.unresolved.map { (o, $0) } }
        if !unresolved.isEmpty {
            out += "unresolved sites (\(unresolved.count)): the number reaching them was not found; the set may miss calls made there\n"
            for (o, s) in unresolved {
                out += "  \((o.path as NSString).lastPathComponent) 0x\(String(s.address, radix: 16)) in \(s.function ?? "?") (\(s.kind.rawValue)): \(s.note ?? "unknown")\n"
            }
        }
        for o in a.objects {
            for w in o.warnings { out += "note: \((o.path as NSString).lastPathComponent): \(w)\n" }
        }
        if !a.missingLibraries.isEmpty { out += "missing libraries (not analysed): \(a.missingLibraries.joined(separator: ", "))\n" }
        let reachable = a.objects.reduce(0) { $0 + $1.functionsReachable }, total = a.objects.reduce(0) { $0 + $1.functionsTotal }
        out += "total: \(a.syscalls.count) x86-64 system calls"
        if !a.i386Syscalls.isEmpty { out += ", \(a.i386Syscalls.count) i386" }
        if !a.x32Syscalls.isEmpty { out += ", \(a.x32Syscalls.count) x32" }
        out += ", \(a.unresolvedCount) unresolved sites, \(reachable) of \(total) functions charged\n"
        if a.targets.count > 1 {
            for t in a.targets { out += "  \(t): \(a.syscalls(forTarget: t).count) system calls\n" }
        }
        return out
    }
}
