import Foundation
import SyspectCore

/// Static binary analysis as `explore` uses it (issue 13). The analyser itself lives in
/// SyspectStatic; the CLI hands it to `ExploreOptions.staticAnalyzer` through this seam, and
/// tests hand in their own analyses.
public protocol StaticAnalyzing: Sendable {
    /// The analysis of these binaries (absolute paths) and of every library they load.
    func analyze(binaries: [String]) throws -> StaticAnalysis
}

/// What the static stage of an explore gave.
public enum StaticOutcome: Sendable, Hashable {
    /// Analysed, checked against the census and stored with the exploration.
    case stored(ExplorationStatic)
    /// The analysis could not run (a target not found, not an ELF file, …): one line; the
    /// explore goes on without a static set.
    case failed(String)

    public var record: ExplorationStatic? {
        if case .stored(let record) = self { return record }
        return nil
    }
}

/// The census against the static set (Must 4: a call the census sees outside the static set is
/// an analysis or tracing error, reported, never ignored). Pure, except `run`.
public enum StaticCheck {
    /// The census entries the static analysis does not list: x86-64 calls against
    /// `analysis.syscalls`, i386 (`int $0x80`) calls against `analysis.i386Syscalls`, x32 calls
    /// against `analysis.x32Syscalls` (both without the x32 bit).
    public static func outside(census: [CensusEntry], analysis: StaticAnalysis) -> [CensusEntry] {
        census.filter { entry in
            switch entry.arch {
            case .x86_64: return !analysis.syscalls.contains(entry.number)
            case .i386: return !analysis.i386Syscalls.contains(entry.number)
            case .x32: return !analysis.x32Syscalls.contains(entry.number)
            }
        }.sorted { ($0.arch.rawValue, $0.number) < ($1.arch.rawValue, $1.number) }
    }

    /// "prlimit64 (302), i386 getpid (20)": census entries named for a message.
    public static func names(_ entries: [CensusEntry]) -> String {
        entries.map { ($0.arch == .x86_64 ? "" : "\($0.arch.rawValue) ") + "\($0.name) (\($0.number))" }.joined(separator: ", ")
    }

    /// The one-line warning `explore` prints and `show` repeats for calls outside the static set.
    public static func warning(_ outside: [CensusEntry], analysis: StaticAnalysis) -> String {
        var causes: [String] = []
        if !analysis.missingLibraries.isEmpty { causes.append("libraries not found: \(analysis.missingLibraries.joined(separator: ", "))") }
        if analysis.unresolvedCount > 0 { causes.append("\(analysis.unresolvedCount) sites with an unresolved number") }
        causes.append("code loaded at run time (dlopen) or not analysed")
        return "the census traced \(outside.count) call\(outside.count == 1 ? "" : "s") outside the static set, an analysis "
            + "or tracing error: \(names(outside)) (possible causes: \(causes.joined(separator: "; ")))"
    }

    /// The spec's targets as absolute paths, resolved like the tracer matches them (a suite's
    /// program in its build tree, a path as given, a name through PATH, symlinks resolved), each
    /// file once. Throws a one-line message for a target that cannot be found.
    public static func targetPaths(_ spec: AppSpec) throws(StaticCheckError) -> [String] {
        var paths: [String] = []
        for target in spec.targets {
            let relative = target.contains("/") && !target.hasPrefix("/") ? spec.directory + "/" + target : target
            let candidate = spec.suite?.targetPaths[target] ?? relative
            guard let path = resolveExecutable(candidate), FileManager.default.fileExists(atPath: path) else {
                throw .targetNotFound(target)
            }
            if !paths.contains(path) { paths.append(path) }
        }
        return paths
    }

    /// The static stage of `explore`, after the baseline census: analyses the spec's targets,
    /// checks the census against the result and stores both with exploration `key`. An
    /// analysis that fails is `.failed` (the explore goes on); a store error throws.
    public static func run(_ analyzer: any StaticAnalyzing, spec: AppSpec, census: [CensusEntry],
                           exploration key: String, store: any ResultStore) throws -> StaticOutcome {
        let started = Date()
        let analysis: StaticAnalysis
        do {
            analysis = try analyzer.analyze(binaries: try targetPaths(spec))
        } catch {
            return .failed("\(error)")
        }
        let record = ExplorationStatic(
            exploration: key, analysis: analysis, outsideStatic: outside(census: census, analysis: analysis),
            analysedAt: started, seconds: Date().timeIntervalSince(started))
        try store.saveStatic(record)
        return .stored(record)
    }
}

/// Why the static stage could not analyse a spec's targets.
public enum StaticCheckError: Error, Sendable, Hashable, CustomStringConvertible {
    case targetNotFound(String)

    public var description: String {
        switch self {
        case .targetNotFound(let target):
            return "target \(target) is neither an existing path nor a program in PATH, so it cannot be analysed statically; "
                + "give its path in `targets`"
        }
    }
}
