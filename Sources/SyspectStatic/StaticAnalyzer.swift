import Foundation
import SyspectCore

/// syspect's static binary analysis (issue 13): loads each target and its libraries as this
/// machine's loader would, summarises every object (or takes the summary from `cache`), binds
/// imports in load order and charges each target the system call sites its call graph reaches.
/// Method and approximations: docs/static.md.
public struct StaticAnalyzer: Sendable {
    public var mode: StaticMode
    public var cache: (any ObjectSummaryCache)?
    public var resolver: LibraryResolver

    public init(mode: StaticMode = .callGraph,
                cache: (any ObjectSummaryCache)? = FileSummaryCache(directory: FileSummaryCache.defaultDirectory()),
                resolver: LibraryResolver = .system()) {
        self.mode = mode
        self.cache = cache
        self.resolver = resolver
    }

    /// The summary of one object, from the cache when it holds one for this file's contents.
    public func summary(path: String) throws(StaticAnalysisError) -> ObjectSummary {
        let header = try ELFFile(path: path, headersOnly: true)
        let key = ObjectKey(buildID: header.buildID, path: path, size: header.file.size, modificationTime: header.file.mtime)
        if let cached = cache?.summary(for: key), cached.version == StaticAnalysis.analyserVersion {
            var s = cached
            s.path = path
            return s
        }
        let elf = try ELFFile(path: path)
        let s = ObjectScanner(elf: elf, disassembler: try Disassembler()).scan()
        cache?.store(s, for: key)
        return s
    }

    /// Analyses `targets` (paths of executables or shared libraries) and everything they load.
    /// Throws for a target that cannot be read or is no x86-64 ELF64; a library that is missing
    /// or unreadable is a warning and is listed in `missingLibraries`.
    public func analyse(_ targets: [String]) throws(StaticAnalysisError) -> StaticAnalysis {
        var summaries: [StaticObjectSlot] = []
        var byPath: [String: Int] = [:]
        var missing: [String] = []
        var extraWarnings: [Int: [String]] = [:]
        var orders: [[Int]] = []
        var interpreters: [Int?] = []

        func load(_ path: String) throws(StaticAnalysisError) -> Int {
            let real = realPath(path)
            if let i = byPath[real] { return i }
            let s = try summary(path: real)
            summaries.append(StaticObjectSlot(summary: s))
            byPath[real] = summaries.count - 1
            return summaries.count - 1
        }

        for target in targets {
            let t = try load(target)
            var order = [t]
            var queue = [t]
            var seen: Set<Int> = [t]
            var seenNames = Set<String>()
            while !queue.isEmpty {
                let o = queue.removeFirst()
                let s = summaries[o].summary
                for name in s.needed where seenNames.insert(name).inserted || name.contains("/") {
                    guard let path = resolver.resolve(name, requester: s.path, rpath: s.rpath, runpath: s.runpath) else {
                        if !missing.contains(name) { missing.append(name) }
                        extraWarnings[o, default: []].append("needed library \(name) not found (searched RPATH/RUNPATH, LD_LIBRARY_PATH, ld.so.cache, default directories); its calls are not included")
                        continue
                    }
                    let i: Int
                    do { i = try load(path) } catch {
                        if !missing.contains(name) { missing.append(name) }
                        extraWarnings[o, default: []].append("needed library \(name) at \(path) could not be analysed: \(error.description)")
                        continue
                    }
                    if seen.insert(i).inserted { order.append(i); queue.append(i) }
                }
            }
            var interp: Int?
            if let ip = summaries[t].summary.interpreter {
                if let i = try? load(ip) {
                    interp = i
                    if seen.insert(i).inserted { order.append(i) }
                } else {
                    missing.append(ip)
                    extraWarnings[t, default: []].append("interpreter \(ip) not found; the loader's own calls are not included")
                }
            }
            orders.append(order)
            interpreters.append(interp)
        }

        // Charge each target, then merge per object.
        var charged = [ChargedObject](repeating: ChargedObject(), count: summaries.count)
        var byTarget: [String: Set<Int>] = [:]
        for (n, target) in targets.enumerated() {
            let result = link(summaries: summaries, order: orders[n], interpreter: interpreters[n])
            var set = Set<Int>()
            for (o, c) in result {
                charged[o].merge(c)
                for site in c.sites where site.arch == .x86_64 { if let num = site.number { set.insert(num) } }
            }
            byTarget[target] = set
        }

        var objects: [StaticObject] = []
        for (o, slot) in summaries.enumerated() {
            let s = slot.summary
            let c = charged[o]
            var sites: [Int: [StaticSite]] = [:], i386: [Int: [StaticSite]] = [:], x32: [Int: [StaticSite]] = [:]
            var unresolved: [StaticSite] = []
            for site in c.sites.sorted(by: { ($0.address, $0.number ?? -1, $0.note ?? "") < ($1.address, $1.number ?? -1, $1.note ?? "") }) {
                if let n = site.number {
                    switch site.arch {
                    case .x86_64: sites[n, default: []].append(site)
                    case .i386: i386[n, default: []].append(site)
                    case .x32: x32[n, default: []].append(site)
                    }
                } else {
                    unresolved.append(site)
                }
            }
            objects.append(StaticObject(
                path: s.path, soname: s.soname, buildID: s.buildID, stripped: s.stripped, sites: sites,
                i386Sites: i386, x32Sites: x32, unresolved: unresolved, functionsReachable: c.functions.count,
                functionsTotal: s.functions.count, warnings: s.warnings + (extraWarnings[o] ?? [])))
        }
        return StaticAnalysis(targets: targets, mode: mode, objects: objects, syscallsByTarget: byTarget,
                              missingLibraries: missing)
    }

    /// Reachability over the loaded objects of one target; the charged sites per object.
    func link(summaries: [StaticObjectSlot], order: [Int], interpreter: Int?) -> [Int: ChargedObject] {
        // Exports by name in load order.
        var bound: [Int: [Int: [(Int, Int)]]] = [:]  // object → import index → [(object, function)]
        func bind(_ o: Int, _ imp: Int) -> [(Int, Int)] {
            if let b = bound[o]?[imp] { return b }
            let ref = summaries[o].summary.imports[imp]
            var result: [(Int, Int)] = []
            for d in order {
                guard let candidates = summaries[d].exportsByName[ref.name] else { continue }
                let matching = candidates.filter { e in
                    if let v = ref.version { return e.version == v || e.version == nil }
                    return !e.hidden
                }
                let chosen = matching.isEmpty ? candidates : matching
                result = chosen.map { (d, $0.function) }
                break
            }
            bound[o, default: [:]][imp] = result
            return result
        }

        var reached: [Int: Set<Int>] = [:]
        var work: [(Int, Int)] = []
        func reach(_ o: Int, _ f: Int) {
            if reached[o, default: []].insert(f).inserted { work.append((o, f)) }
        }
        for o in order {
            let s = summaries[o].summary
            if mode == .wholeLibrary {
                for f in s.functions.indices { reach(o, f) }
                continue
            }
            for f in s.roots { reach(o, f) }
            for imp in s.rootImports { for (d, f) in bind(o, imp) { reach(d, f) } }
            if o == order[0] || o == interpreter, let e = s.entryFunction { reach(o, e) }
        }
        while let (o, f) = work.popLast() {
            let fn = summaries[o].summary.functions[f]
            for g in fn.callees { reach(o, g) }
            for imp in fn.imports { for (d, g) in bind(o, imp) { reach(d, g) } }
        }

        var result: [Int: ChargedObject] = [:]
        for (o, fs) in reached {
            let s = summaries[o].summary
            var c = ChargedObject()
            c.functions = fs
            for f in fs {
                let fn = s.functions[f]
                for site in fn.sites {
                    if site.argument != nil && site.covered { continue }
                    var note = site.note
                    if site.argument != nil { note = (note ?? "") + "; some callers are not visible (address taken or exported)" }
                    let (number, arch) = Self.split(site.number, kind: site.kind)
                    c.sites.insert(StaticSite(address: site.address, function: fn.name, kind: site.kind, number: number, arch: arch, note: note))
                }
                for call in fn.importCalls {
                    // Only when the import binds to a wrapper (its number comes from rdi).
                    let definers = bind(o, call.importIndex)
                    let isWrapper = definers.contains { d, g in summaries[d].summary.functions[g].sites.contains { $0.argument == 7 } }
                    guard isWrapper else { continue }
                    let name = summaries[o].summary.imports[call.importIndex].name
                    let (number, arch) = Self.split(call.number, kind: .wrapperCall)
                    c.sites.insert(StaticSite(address: call.address, function: fn.name, kind: .wrapperCall, number: number, arch: arch,
                                              note: call.note ?? "call to \(name)"))
                }
            }
            result[o] = c
        }
        return result
    }
}

extension StaticAnalyzer {
    /// A found number and its table: x86-64 `syscall` / wrapper numbers with bit 30 are x32 ones.
    static func split(_ number: Int?, kind: StaticSiteKind) -> (Int?, Arch?) {
        guard let n = number else { return (nil, nil) }
        if kind == .syscall || kind == .wrapperCall, n & SyscallTable.x32Bit != 0 { return (n & ~SyscallTable.x32Bit, .x32) }
        return (n, nil)
    }
}

/// A loaded object's summary with its exports indexed by name.
struct StaticObjectSlot: Sendable {
    let summary: ObjectSummary
    let exportsByName: [String: [Export]]
    init(summary: ObjectSummary) {
        self.summary = summary
        exportsByName = Dictionary(grouping: summary.exports, by: \.name)
    }
}

/// What one object is charged: the functions reached and the sites in them.
struct ChargedObject: Sendable {
    var functions = Set<Int>()
    var sites = Set<StaticSite>()
    mutating func merge(_ other: ChargedObject) {
        functions.formUnion(other.functions)
        sites.formUnion(other.sites)
    }
}

/// The path with symlinks resolved (the loader opens the same file through any of its names).
func realPath(_ path: String) -> String {
    guard let p = realpath(path, nil) else { return path }
    defer { free(p) }
    return String(cString: p)
}
