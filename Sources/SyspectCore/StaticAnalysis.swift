// Value types of syspect's static binary analysis (issue 13): what `syspect static` computes
// (module SyspectStatic, which reads the ELF files and disassembles them) and what the store,
// `show`, `report` and `plan --baseline static` consume. Pure values, no I/O.

/// How a system call site enters the kernel.
public enum StaticSiteKind: String, Codable, Sendable, Hashable, CaseIterable {
    /// The x86-64 `syscall` instruction: number in `rax`, x86-64 table.
    case syscall
    /// `int $0x80`: number in `eax`, **i386** table (`StaticSite.arch == .i386`).
    case int80
    /// `sysenter`: number in `eax`, i386 table (32-bit entry; in 64-bit code it is rare).
    case sysenter
    /// A call to glibc's `syscall(long number, ...)` wrapper: number in `edi`/`rdi` at the call.
    case wrapperCall
}

/// One place in machine code that can make a system call, and the number found to reach it.
public struct StaticSite: Codable, Sendable, Hashable {
    /// Virtual address of the instruction (the ELF file's link-time address, not a runtime one).
    public var address: UInt64
    /// The function (symbol) that contains the site, when one is known.
    public var function: String?
    public var kind: StaticSiteKind
    /// The system call number reaching the site; nil when backward data flow could not
    /// resolve it (such sites are counted in `StaticObject.unresolved`, never dropped).
    public var number: Int?
    /// The table `number` belongs to: `.x86_64` for `syscall` and wrapper calls, `.i386` for
    /// `int $0x80` / `sysenter` (20 is getpid there, writev on x86-64: never mix them), `.x32`
    /// for a `syscall` whose number has bit 30 (`__X32_SYSCALL_BIT`) set (`number` without it).
    public var arch: Arch
    /// How the number was found or why not (e.g. "imm", "xor", "stack slot", "from caller
    /// argument", "loaded from memory"), for listings.
    public var note: String?

    public init(address: UInt64, function: String?, kind: StaticSiteKind, number: Int?,
                arch: Arch? = nil, note: String? = nil) {
        self.address = address
        self.function = function
        self.kind = kind
        self.number = number
        self.arch = arch ?? ((kind == .int80 || kind == .sysenter) ? .i386 : .x86_64)
        self.note = note
    }
}

/// The static result for one ELF object (the executable or one shared library it loads).
public struct StaticObject: Codable, Sendable, Hashable {
    /// Absolute path the object was read from (after the loader's search and symlinks resolved
    /// as found, e.g. `/lib/x86_64-linux-gnu/libc.so.6`).
    public var path: String
    /// `DT_SONAME`, or nil (executables usually have none).
    public var soname: String?
    /// `.note.gnu.build-id` as lowercase hex, "" when the object has none (then caches key by
    /// path, size and modification time).
    public var buildID: String
    /// True when the object has no `.symtab` (functions come from dynamic symbols, the entry
    /// point and call targets: see docs/static.md).
    public var stripped: Bool
    /// Resolved x86-64 sites (`syscall` instructions and `syscall()` wrapper calls) charged to
    /// the analysed targets, by number. Under the call graph only sites in reachable functions.
    public var sites: [Int: [StaticSite]]
    /// Resolved i386 sites (`int $0x80`, `sysenter`) by i386 number.
    public var i386Sites: [Int: [StaticSite]]
    /// Resolved x32 sites (`syscall` with bit 30 set) by number without that bit.
    public var x32Sites: [Int: [StaticSite]]
    /// Sites (in charged functions) whose number could not be resolved.
    public var unresolved: [StaticSite]
    /// Functions of this object charged (reachable from the roots; all of them under
    /// `--no-call-graph`) and functions it has in total.
    public var functionsReachable: Int
    public var functionsTotal: Int
    /// What the analyser could not see or had to approximate in this object, one line each.
    public var warnings: [String]

    public init(path: String, soname: String? = nil, buildID: String = "", stripped: Bool = false,
                sites: [Int: [StaticSite]] = [:], i386Sites: [Int: [StaticSite]] = [:],
                x32Sites: [Int: [StaticSite]] = [:], unresolved: [StaticSite] = [], functionsReachable: Int = 0, functionsTotal: Int = 0,
                warnings: [String] = []) {
        self.path = path
        self.soname = soname
        self.buildID = buildID
        self.stripped = stripped
        self.sites = sites
        self.i386Sites = i386Sites
        self.x32Sites = x32Sites
        self.unresolved = unresolved
        self.functionsReachable = functionsReachable
        self.functionsTotal = functionsTotal
        self.warnings = warnings
    }

    /// x86-64 numbers with at least one charged site in this object.
    public var syscalls: Set<Int> { Set(sites.keys) }
    /// i386 numbers with at least one charged site in this object.
    public var i386Syscalls: Set<Int> { Set(i386Sites.keys) }
    /// x32 numbers (without bit 30) with at least one charged site in this object.
    public var x32Syscalls: Set<Int> { Set(x32Sites.keys) }
}

/// How library code is charged to a binary.
public enum StaticMode: String, Codable, Sendable, Hashable, CaseIterable {
    /// Only functions reachable from the binary's roots through the call graph (the default).
    case callGraph
    /// Every function of every loaded object (`--no-call-graph`): the coarse upper bound.
    case wholeLibrary
}

/// The static analysis of one or more target binaries and everything they load.
public struct StaticAnalysis: Codable, Sendable, Hashable {
    /// Version of the analyser that produced this value; a cache entry or stored result with
    /// another version is recomputed (bump `StaticAnalysis.analyserVersion` when results change).
    public static let analyserVersion = 2

    /// The analysed target binaries, as given (absolute paths).
    public var targets: [String]
    public var mode: StaticMode
    /// Every object looked at: the targets first, then libraries in load (breadth-first) order.
    public var objects: [StaticObject]
    /// Union of all objects' resolved x86-64 numbers: the static set.
    public var syscalls: Set<Int>
    /// Union of resolved i386 (`int $0x80` / `sysenter`) numbers, kept apart from `syscalls`.
    public var i386Syscalls: Set<Int>
    /// Union of resolved x32 numbers (bit 30 cleared), kept apart as well.
    public var x32Syscalls: Set<Int>
    /// Per target path: the x86-64 set charged to that target alone (its own reachable part).
    public var syscallsByTarget: [String: Set<Int>]
    /// Needed libraries (DT_NEEDED names) the loader search did not find; their code is not
    /// included, so the set may be missing calls (a warning is printed).
    public var missingLibraries: [String]
    /// Count of unresolved sites over all objects (also listed per object).
    public var unresolvedCount: Int
    /// `analyserVersion` at the time of the analysis.
    public var version: Int

    public init(targets: [String], mode: StaticMode, objects: [StaticObject],
                syscallsByTarget: [String: Set<Int>] = [:], missingLibraries: [String] = [],
                version: Int = StaticAnalysis.analyserVersion) {
        self.targets = targets
        self.mode = mode
        self.objects = objects
        self.syscalls = objects.reduce(into: Set<Int>()) { $0.formUnion($1.syscalls) }
        self.i386Syscalls = objects.reduce(into: Set<Int>()) { $0.formUnion($1.i386Syscalls) }
        self.x32Syscalls = objects.reduce(into: Set<Int>()) { $0.formUnion($1.x32Syscalls) }
        self.syscallsByTarget = syscallsByTarget
        self.missingLibraries = missingLibraries
        self.unresolvedCount = objects.reduce(0) { $0 + $1.unresolved.count }
        self.version = version
    }

    /// The x86-64 static set charged to one target (matched by path or basename); the union
    /// when only one target was analysed or the target is unknown.
    public func syscalls(forTarget target: String) -> Set<Int> {
        if let set = syscallsByTarget[target] { return set }
        let base = target.split(separator: "/").last.map(String.init) ?? target
        if let key = syscallsByTarget.keys.first(where: { ($0.split(separator: "/").last.map(String.init) ?? $0) == base }) {
            return syscallsByTarget[key]!
        }
        return syscalls
    }

    /// The object with this build-id, or nil.
    public func object(buildID: String) -> StaticObject? {
        buildID.isEmpty ? nil : objects.first { $0.buildID == buildID }
    }
}
